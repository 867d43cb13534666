"""Invigil test-centre proctor console: LAN server, dashboard, key release, records."""

__version__ = "0.1.0"
