"""Clocks the monitors read time from.

Every rule takes its time from an injected clock rather than calling ``time`` itself, so tests can
script a timeline of frames and key presses (debounce and hysteresis are all about time) and run
it in microseconds instead of waiting it out.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, UTC
from typing import Protocol

from exam_core.timestamps import utc_now


class Clock(Protocol):
    """Monotonic seconds for durations; wall time only to stamp events for people."""

    def monotonic(self) -> float: ...

    def wall(self) -> datetime: ...


class SystemClock:
    """The real clocks: ``time.monotonic`` and the UTC wall clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> datetime:
        return utc_now()


class ManualClock:
    """A clock that moves only when told to, for scripted timelines in tests and benchmarks."""

    def __init__(self, start: float = 1000.0,
                 wall_start: datetime = datetime(2026, 1, 1, tzinfo=UTC)) -> None:
        self._now = start
        self._start = start
        self._wall_start = wall_start
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    def wall(self) -> datetime:
        with self._lock:
            return self._wall_start + timedelta(seconds=self._now - self._start)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a monotonic clock cannot go back")
        with self._lock:
            self._now += seconds


def iso_utc(moment: datetime) -> str:
    """The wire form of a wall time: ``2026-01-01T00:00:00.000000Z`` (matches exam_core.model)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
