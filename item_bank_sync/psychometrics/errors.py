"""The one error the psychometrics functions raise for input they refuse.

It is an :class:`exam_core.errors.ValidationError`, so the central CLI's ``refusals_exit`` turns it
into a clear message and exit code 1 without knowing about psychometrics.
"""

from __future__ import annotations

from exam_core.errors import ValidationError


class PsychometricsError(ValidationError):
    """Input a method cannot be applied to: bad shape, constant item, too few candidates..."""

    def __init__(self, reason: str, field: str = "psychometrics") -> None:
        super().__init__(field, reason)
