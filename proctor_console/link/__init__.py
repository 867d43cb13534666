"""The kiosks' face: the ``/kiosk`` Socket.IO namespace, the two HTTP endpoints a kiosk calls
without a session (login challenge, pairing), and what keeps a socket server safe under load
(frame limits before login, group commit of events, a one-thread writer for journal heads).
"""
