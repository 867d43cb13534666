"""Candidate tools on the kiosk: what the page may set (:mod:`kiosk.tools.settings`) and the
question read aloud (:mod:`kiosk.tools.speech`)."""
