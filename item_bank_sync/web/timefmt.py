"""Times in words people read, in the body's time zone: "6 December 2026, 14:05 CET".

Why not ISO 8601 on pages: staff read them, and a UTC stamp makes a registrar in Helsinki do
arithmetic before deciding whether an envelope came in before the window closed. The zone is the
body's (``time_zone`` in ``keys/body.json``, an IANA name; UTC when absent), the same for everyone.
"""

from __future__ import annotations

from datetime import datetime, UTC
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from exam_core.errors import MalformedError
from exam_core.timestamps import parse_time

DEFAULT_ZONE = "UTC"


def zone(name: str | None) -> ZoneInfo:
    """The named zone, or UTC for none or an unknown name (a typo must not stop every page)."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def when(value: object, zone_name: str | None = None) -> str:
    """``value`` (a datetime, an ISO text, or epoch seconds) in words in ``zone_name``; "" for None."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, int | float):
        moment = datetime.fromtimestamp(value, UTC)
    else:
        try:
            moment = parse_time(str(value))
        except (ValueError, MalformedError):
            return str(value)  # shown as stored rather than hidden
    local = moment.astimezone(zone(zone_name))
    return f"{local.day} {local:%B %Y, %H:%M} {local.tzname()}"
