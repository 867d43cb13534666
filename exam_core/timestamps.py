"""Wall-clock time as Invigil writes and reads it: one name per meaning.

Every timestamp on the wire and on disk is UTC ISO 8601 with an explicit offset (``...Z`` when
written here). Three precisions are in use, each for a reason, and each has its own name so a
reader never has to guess which one a helper returns:

``utc_now()``      an aware ``datetime`` (UTC), for arithmetic and comparisons;
``utc_text()``     text to the second (``2026-05-01T09:30:00Z``): records a person reads, where
                   sub-second digits are noise (the central body's bank and results);
``utc_text_ms()``  text to the millisecond: the kiosk's journal and outbox, where rows a few
                   milliseconds apart must keep their order for a reader;
``utc_text_us()``  text with microseconds when non-zero (``format_time`` of now): the console's
                   records, which are ordered by it.

``format_time`` and ``parse_time`` convert between the two forms. None of these measures exam
time: that is the kiosk's monotonic ``ExamClock`` (a wall clock can be set back).
"""

from __future__ import annotations

import re
from datetime import datetime, UTC
from typing import Any

from exam_core.errors import MalformedError, ValidationError

_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")


def utc_now() -> datetime:
    """The current time as an aware UTC ``datetime``."""
    return datetime.now(UTC)


def format_time(moment: datetime) -> str:
    """UTC ISO 8601 with a ``Z`` (microseconds only when non-zero): the wire form of a time."""
    if moment.tzinfo is None:
        raise ValidationError("time", "must be timezone-aware")
    moment = moment.astimezone(UTC)
    spec = "microseconds" if moment.microsecond else "seconds"
    return moment.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def parse_time(text: Any, field: str = "time") -> datetime:
    """Parse a wire timestamp (explicit offset required) to an aware UTC datetime."""
    if not isinstance(text, str) or not _TIME_RE.fullmatch(text):
        raise MalformedError("not an ISO 8601 timestamp with an explicit offset", field)
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        raise MalformedError("not a valid date and time", field) from None


def utc_text() -> str:
    """Now as wire text to the second, e.g. ``2026-05-01T09:30:00Z``."""
    return utc_now().isoformat(timespec="seconds").replace("+00:00", "Z")


def utc_text_ms() -> str:
    """Now as wire text to the millisecond, e.g. ``2026-05-01T09:30:00.123Z``."""
    return utc_now().isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_text_us() -> str:
    """Now as wire text, microseconds kept when non-zero (``format_time(utc_now())``)."""
    return format_time(utc_now())
