"""Junk from the network before anyone logged in: malformed Socket.IO and Engine.IO packets and
failed TLS handshakes are dropped with a rate-limited one-line warning, and a connection that sends
a few malformed packets is closed.

Why this exists: python-socketio decodes a packet inside Engine.IO's message handler, which logs
any exception with its traceback, once through its own stream handler and once more through the
root logger. So anyone who could open a socket could write about 1.8 KB of log per three-byte
packet: 2,000 packets wrote 3.6 MB in 2.7 s and raised the dashboard's latency from 80 to 564 ms
(issue 13, M6). A malformed Engine.IO packet on a websocket (a text frame that is no packet) was
worse: it ended the connection's handler with a traceback and the request's environ, and a TCP
connection that closed during the TLS handshake (a port probe) printed one more.

Here:

- :class:`CheckedPacket` is python-socketio's packet with every decoding failure and every packet
  type a client may not send turned into :class:`MalformedPacket`;
- :func:`guard_messages` wraps the server's Engine.IO message handler: a malformed packet, or
  any other failure while handling one, is one warning line (no traceback for what a client sent
  wrong, a traceback for what is a console bug, both within the rate limit) and counts against the
  connection, which is closed after ``MAX_MALFORMED_PER_CONNECTION``;
- :func:`engineio_frame_refusal` and :func:`engineio_payload_refusal` are the checks
  ``frame_limits`` makes on every websocket text frame and long-polling POST body before Engine.IO
  parses them (Engine.IO's own parse runs outside its error handling);
- :class:`QuietTLSServer` logs a failed TLS handshake as one line instead of gevent's traceback;
- :func:`library_logger` gives python-socketio and Engine.IO loggers of ours (no second handler),
  held to the same budget.

Every line goes through one :class:`RateLimitedWarning` (``WARNINGS_PER_MINUTE``, then a count of
what was left out), so no client can make the log grow faster than a few lines a minute.
"""

from __future__ import annotations

import base64
import binascii
import logging
import ssl
import threading
import time
from collections.abc import Callable
from contextlib import closing
from typing import Any

import socketio
from gevent import pywsgi
from socketio import packet as sio_packet

log = logging.getLogger("proctor_console.malformed")

#: Malformed packets a connection may send before it is closed (one may be a client's bug).
MAX_MALFORMED_PER_CONNECTION = 3
#: Warning lines about junk written per minute, whatever its source; the rest are counted.
WARNINGS_PER_MINUTE = 20
#: Socket.IO packet types a client sends (CONNECT_ERROR travels only from server to client).
CLIENT_PACKET_TYPES = frozenset({sio_packet.CONNECT, sio_packet.DISCONNECT, sio_packet.EVENT, sio_packet.ACK,
                                 sio_packet.BINARY_EVENT, sio_packet.BINARY_ACK})
#: Refusals python-socketio raises as ValueError itself, after a packet decoded.
SERVER_REFUSALS = frozenset({"Unexpected binary packet", "Unexpected CONNECT_ERROR packet.", "Unknown packet type."})
#: Engine.IO packet types a client may send over a websocket as text (open, close, ping, pong,
#: message, upgrade, noop); base64 binary ("b...") belongs to long-polling only.
ENGINEIO_TEXT_TYPES = frozenset("0123456")
COUNT_KEY = "invigil.malformed_packets"
PROTOCOL_ERROR = 1002  # RFC 6455 close code


class MalformedPacket(ValueError):
    """A Socket.IO packet that could not be decoded, or that no client may send."""


class RateLimitedWarning:
    """At most ``per_minute`` warning lines a minute; the first line of the next minute says how
    many were left out. Shared by every connection, so a flood from many sockets is bounded too.
    Also a ``logging`` filter (``filter``), for python-socketio's own warnings about what a client
    sent ("Unknown callback received")."""

    def __init__(self, logger: logging.Logger = log, per_minute: int = WARNINGS_PER_MINUTE,
                 clock: Callable[[], float] = time.monotonic, what: str = "lines about malformed input") -> None:
        self.logger = logger
        self.per_minute = per_minute
        self.what = what
        self.clock = clock
        self._lock = threading.Lock()
        self._window_start = float("-inf")
        self._written = 0
        self._left_out = 0

    def allow(self) -> bool:
        """True when one more line fits this minute's budget (and counts it)."""
        with self._lock:
            now = self.clock()
            if now - self._window_start >= 60:
                if self._left_out:
                    self.logger.warning("%d more %s left out in the last minute", self._left_out, self.what)
                self._window_start, self._written, self._left_out = now, 0, 0
            if self._written >= self.per_minute:
                self._left_out += 1
                return False
            self._written += 1
            return True

    def warn(self, message: str, *args: Any, exc_info: BaseException | bool | None = None) -> bool:
        """Write ``message % args`` if the minute's budget allows; True when it was written."""
        if not self.allow():
            return False
        self.logger.warning(message, *args, exc_info=exc_info)
        return True

    def filter(self, record: logging.LogRecord) -> bool:
        return self.allow()


#: The one budget of warning lines for the whole server (a flood through many sockets is bounded too).
NETWORK_JUNK = RateLimitedWarning()


def library_logger(name: str, warn: RateLimitedWarning | None = None) -> logging.Logger:
    """The logger to hand python-socketio or Engine.IO (``logger=``, ``engineio_logger=``): one of
    ours, so they add no stream handler of their own (each line would be written twice), and
    rate-limited with the rest, since what they warn about is what a client sent."""
    logger = logging.getLogger(f"proctor_console.{name}")
    limiter = warn or NETWORK_JUNK
    if limiter not in logger.filters:
        logger.addFilter(limiter)
    return logger


class CheckedPacket(sio_packet.Packet):
    """python-socketio's packet (the server's ``serializer``) whose decoding refuses with
    :class:`MalformedPacket` only: undecodable text, an unknown or server-only packet type, a
    binary attachment nobody announced or that does not fit its placeholder."""

    def __init__(self, *args: Any, encoded_packet: Any = None, **kwargs: Any) -> None:
        if encoded_packet is not None and len(encoded_packet) == 0:
            raise MalformedPacket("empty packet")  # the base class would take it for an event without data
        super().__init__(*args, encoded_packet=encoded_packet, **kwargs)

    def decode(self, encoded_packet: Any) -> int:
        try:
            count = int(super().decode(encoded_packet) or 0)
        except Exception as exc:  # noqa: BLE001 - whatever the parser raised, the packet is malformed
            raise MalformedPacket(f"undecodable packet ({type(exc).__name__})") from None
        if self.packet_type not in CLIENT_PACKET_TYPES:
            raise MalformedPacket(f"packet type {str(self.packet_type)[:10]!r} is not sent by clients")
        return count

    def add_attachment(self, attachment: Any) -> bool:
        try:
            return bool(super().add_attachment(attachment))
        except Exception as exc:  # noqa: BLE001 - whatever the parser raised, the attachment is malformed
            raise MalformedPacket(f"binary attachment refused ({type(exc).__name__})") from None


def guard_messages(server: socketio.Server, warn: RateLimitedWarning = NETWORK_JUNK) -> None:
    """Wrap the Engine.IO message handler of ``server`` (registered by python-socketio): no
    failure in it reaches Engine.IO's traceback logging, and a connection is closed after
    ``MAX_MALFORMED_PER_CONNECTION`` malformed packets."""
    handle = server.eio.handlers["message"]

    def on_message(eio_sid: str, data: Any) -> Any:
        try:
            return handle(eio_sid, data)
        except MalformedPacket as exc:
            _count_and_close(server, eio_sid, str(exc), None, warn)
        except ValueError as exc:
            refused = str(exc) in SERVER_REFUSALS
            _count_and_close(server, eio_sid, str(exc) if refused else f"{type(exc).__name__} while handling a packet",
                             None if refused else exc, warn)
        except Exception as exc:  # noqa: BLE001 - a console bug: its traceback, within the budget
            _count_and_close(server, eio_sid, f"{type(exc).__name__} while handling a packet", exc, warn)
        return None

    server.eio.on("message", on_message)


def _count_and_close(server: socketio.Server, eio_sid: str, reason: str, bug: BaseException | None,
                     warn: RateLimitedWarning) -> None:
    environ = server.environ.get(eio_sid) or {}
    count = int(environ.get(COUNT_KEY, 0)) + 1
    environ[COUNT_KEY] = count
    address = environ.get("REMOTE_ADDR", "?")
    warn.warn("dropped a Socket.IO packet from %s: %s", address, reason, exc_info=bug)
    if count >= MAX_MALFORMED_PER_CONNECTION:
        warn.warn("closing the connection from %s after %d malformed packets", address, count)
        _abort(server, eio_sid)


def _abort(server: socketio.Server, eio_sid: str) -> None:
    """Close the Engine.IO session without waiting for its queue to drain: ``eio.disconnect``
    waits for the client's next poll, which a long-polling client that is sending this very
    packet (or never polls again) makes wait for ever."""
    socket = server.eio.sockets.pop(eio_sid, None)
    if socket is not None:
        socket.close(wait=False, abort=True, reason=server.eio.reason.SERVER_DISCONNECT)


def engineio_frame_refusal(message: Any) -> str | None:
    """Why a websocket message is no Engine.IO packet a client sends, or None. Binary messages are
    Socket.IO attachments (their content is checked by :class:`CheckedPacket`)."""
    if isinstance(message, (bytes, bytearray)):
        return None
    if not message:
        return "empty text frame"
    if message[0] not in ENGINEIO_TEXT_TYPES:
        return "text frame is no Engine.IO packet"
    return None


def engineio_payload_refusal(body: bytes) -> str | None:
    """Why a long-polling POST body is no Engine.IO payload a client sends, or None: text packets
    separated by 0x1E, each one of ``ENGINEIO_TEXT_TYPES`` or ``b`` and base64 (no JSONP here).
    Engine.IO parses the payload outside the handling that would report its failure in one line."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "payload is not UTF-8"
    if not text:
        return None
    for part in text.split("\x1e"):
        if part[:1] == "b":
            try:
                base64.b64decode(part[1:], validate=True)
            except binascii.Error:
                return "binary packet is not base64"
        elif engineio_frame_refusal(part) is not None:
            return "payload holds no Engine.IO packet"
    return None


class QuietTLSServer(pywsgi.WSGIServer):
    """gevent's WSGI server, with a connection whose TLS handshake fails (a port probe, plain HTTP
    sent to the HTTPS port, a client that distrusts the certificate) logged as one rate-limited
    line instead of a traceback, and its error log ("Invalid HTTP method" for a request line that
    is none) held to the same budget."""

    def __init__(self, *args: Any, warn: RateLimitedWarning = NETWORK_JUNK, **kwargs: Any) -> None:
        kwargs.setdefault("error_log", library_logger("pywsgi", warn))
        super().__init__(*args, **kwargs)
        self.warn = warn

    def wrap_socket_and_handle(self, client_socket: Any, address: Any) -> Any:
        """gevent's own, with the handshake's failure caught (the request's are the handler's)."""
        wrap: Any = self.wrap_socket  # type: ignore[misc]  # gevent's own call (its stub types the module function)
        try:
            tls_socket = wrap(client_socket, **(self.ssl_args or {}))
        except (ssl.SSLError, OSError) as exc:
            client_socket.close()
            self.warn.warn("connection from %s ended before TLS was established (%s)",
                           address[0] if address else "?", type(exc).__name__)
            return None
        with closing(tls_socket):
            return self.handle(tls_socket, address)
