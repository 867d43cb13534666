"""Invigil kiosk hardening: preflight checks, lockdown, provisioning, attestation."""

__version__ = "0.1.0"
