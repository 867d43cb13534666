"""Invigil kiosk: offline exam delivery, candidate UI, monitors, console link."""

__version__ = "0.1.0"
