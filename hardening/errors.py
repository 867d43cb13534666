"""Errors raised by the hardening package.

They derive from ``exam_core.errors`` so a kiosk boundary that catches ``InvigilError`` sees them,
and a bad policy field is reported as a ``ValidationError`` naming the field, like every other
input Invigil refuses.
"""

from __future__ import annotations

from exam_core.errors import InvigilError, ValidationError


class HardeningError(InvigilError):
    """A hardening step could not be carried out (lockdown, restore, provisioning)."""


class PolicyError(ValidationError):
    """A hardening policy file is unacceptable; ``field`` is a dotted path such as ``clock_skew.fail_seconds``."""


class RestoreError(HardeningError):
    """Some recorded change could not be undone; the journal is kept so a later restore retries."""
