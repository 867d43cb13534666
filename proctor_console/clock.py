"""The console's clock as wire text: the one owner of ``now_text`` inside ``proctor_console``.

Why a module of its own: every table the console keeps records when a row was written, so many
modules need this one function; kept here it is imported from a leaf that imports nothing of the
console (``exam_core.timestamps`` takes it over once that module exists).
"""

from __future__ import annotations

from datetime import datetime, UTC

from exam_core.jsonio import format_time


def now_text() -> str:
    """The console's clock as a wire timestamp (microseconds kept: records are ordered by it)."""
    return format_time(datetime.now(UTC))
