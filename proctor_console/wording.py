"""Times, durations and measurements in words people read, for the console's pages and reports.

Why: records keep UTC wire text (``2026-11-26T08:52:38.997892Z``) and alerts keep their
thresholds and evidence as JSON, which is right for machines and was shown as such: a proctor had
to convert the time to the centre's clock in their head and read ``{"no_face_after_s":5}``. Here
a time becomes ``26 Nov 2026, 09:52:38 CET`` in the centre's time zone, a duration ``1 h 05 min``,
and a measurement dict a list of ``("No face after", "5 s")`` pairs. The dashboard's script
(``static/dashboard.js``) words its live values the same way.
"""

from __future__ import annotations

import os
from pathlib import Path
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from exam_core.errors import ValidationError
from exam_core.timestamps import parse_time

#: Key endings that are units: ``no_face_after_s`` reads "No face after: 5 s".
UNITS = {"s": "s", "ms": "ms", "seconds": "s", "minutes": "min", "px": "px", "pct": "%", "percent": "%",
         "fps": "fps", "chars": "characters", "bytes": "bytes"}
#: Words that keep their capitals (or gain them) in a label.
WORDS = {"id": "ID", "fps": "fps", "tts": "text-to-speech", "url": "URL", "jpeg": "JPEG"}


def local_zone_name() -> str:
    """This machine's time zone as an IANA name (the console runs at the centre): ``TZ``, then
    ``/etc/timezone``, then the ``/etc/localtime`` link; ``UTC`` when none says."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    timezone_file = Path("/etc/timezone")
    if timezone_file.exists():
        candidates.append(timezone_file.read_text().strip())
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        candidates.append(str(localtime.resolve()).partition("zoneinfo/")[2])
    for name in candidates:
        if name and valid_zone(name):
            return name
    return "UTC"


def valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def local_time(text: str | None, zone: str, *, seconds: bool = True, date: bool = True) -> str:
    """A wire timestamp as the centre's clock shows it: ``26 Nov 2026, 09:52:38 CET``; empty for none."""
    if not text:
        return ""
    try:
        moment = parse_time(text, "time").astimezone(ZoneInfo(zone))
    except (ValidationError, ZoneInfoNotFoundError, ValueError):
        return str(text)
    clock = moment.strftime("%H:%M:%S" if seconds else "%H:%M")
    day = f"{moment.day} {moment.strftime('%b %Y')}, " if date else ""
    return f"{day}{clock} {moment.tzname()}"


def duration(seconds: int | float | None) -> str:
    """``1 h 05 min``, ``12 min``, ``45 s``: how long, as a clock would not say it."""
    if seconds is None:
        return ""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    hours, minutes = divmod(whole // 60, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def label(key: str) -> tuple[str, str]:
    """A record key as words, and the unit its ending names: ``no_face_after_s`` -> ("No face after", "s")."""
    parts = [p for p in key.replace("-", "_").split("_") if p]
    unit = ""
    if len(parts) > 1 and parts[-1] in UNITS:
        unit = UNITS[parts.pop()]
    words = " ".join(WORDS.get(p, p) for p in parts) or key
    return words[:1].upper() + words[1:], unit


def value_text(value: Any, unit: str = "") -> str:
    """One measured value: numbers to three significant figures, yes/no, lists as ``160 × 120``."""
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, float):
        text = f"{value:.3g}" if not value.is_integer() else str(int(value))
    elif isinstance(value, (list, tuple)):
        text = " × ".join(value_text(v) for v in value)
    elif value is None:
        text = "none"
    else:
        text = str(value)
    return f"{text} {unit}".strip() if unit and text not in ("yes", "no", "none") else text


def readable(record: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Thresholds or evidence as ``(label, value)`` pairs, nested keys joined by ``›``."""
    if not isinstance(record, dict):
        return [(prefix or "Value", value_text(record))] if record not in (None, {}, []) else []
    pairs: list[tuple[str, str]] = []
    for key, value in record.items():
        name, unit = label(str(key))
        full = f"{prefix} › {name}" if prefix else name
        if isinstance(value, dict):
            pairs.extend(readable(value, full))
        else:
            pairs.append((full, value_text(value, unit)))
    return pairs


def accommodation_words(granted: dict[str, Any]) -> list[str]:
    """An attempt's accommodations (``exam_core.model.Accommodations`` as a dict) as a reader names
    them: ``["25 % extra time", "large text", "2 rest breaks of 10 min"]``; defaults are left out."""
    words = []
    if granted.get("extra_time_percent"):
        words.append(f"{granted['extra_time_percent']} % extra time")
    words += [name for key, name in (("large_text", "large text"), ("high_contrast", "high contrast"),
                                     ("text_to_speech", "text-to-speech"), ("screen_reader", "screen reader"))
              if granted.get(key)]
    if granted.get("zoom_percent", 100) != 100:
        words.append(f"zoom {granted['zoom_percent']} %")
    if granted.get("rest_breaks"):
        minutes = granted.get("rest_break_minutes")
        breaks = f"{granted['rest_breaks']} rest break{'s' if granted['rest_breaks'] != 1 else ''}"
        words.append(f"{breaks} of {minutes} min" if minutes else breaks)
    if granted.get("monitor_profile"):
        words.append(f"monitoring profile {granted['monitor_profile']}")
    return words


#: Jinja filters for the console's templates (the web app and the CLI's report renderer):
#: ``{{ t|when(zone) }}``, ``{{ seconds|how_long }}``, ``{% for k, v in thresholds|readable %}``.
TEMPLATE_FILTERS: dict[str, Callable[..., Any]] = {"when": local_time, "how_long": duration, "readable": readable}
