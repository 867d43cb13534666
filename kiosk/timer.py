"""The exam clock: an account of elapsed exam time, built from a monotonic clock.

Why not wall-clock deadlines: a proctor or a candidate can change the wall clock, NTP can step it,
and a kiosk that was off for ten minutes would charge the candidate for them. Instead the clock
keeps ``elapsed_ms``, the exam time actually spent, advanced only while it runs and only by
``time.monotonic()`` differences. The session journals the account (a checkpoint every second
and on every answer), and after a crash the account restarts from the last journaled value: the
time the kiosk was down is never charged.

Remaining time is ``allowed - elapsed`` where ``allowed`` is the time the attempt allows (the
extra-time accommodation already applied, once, by ``exam_core.model.allowed_seconds``) with every
extension added (see :func:`allowed_ms`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

WARNING_MINUTES = (10, 5, 1)


def allowed_ms(allowed_seconds: int, extension_seconds: int) -> int:
    """Total exam time: the attempt's allowed time (accommodation included), plus proctor extensions.

    No multiplier here: the accommodation turns into time in one place only
    (``exam_core.model.allowed_seconds``); stretching again gave a candidate double extra time.
    """
    return (allowed_seconds + extension_seconds) * 1000


class ExamClock:
    """Elapsed exam time that runs only between :meth:`start` and :meth:`stop`. Thread-safe."""

    def __init__(self, elapsed_ms: int = 0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._base_ms = int(elapsed_ms)
        self._monotonic = monotonic
        self._started_at: float | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._started_at is not None

    def start(self) -> None:
        with self._lock:
            if self._started_at is None:
                self._started_at = self._monotonic()

    def stop(self) -> None:
        with self._lock:
            if self._started_at is not None:
                self._base_ms += int((self._monotonic() - self._started_at) * 1000)
                self._started_at = None

    def elapsed_ms(self) -> int:
        with self._lock:
            if self._started_at is None:
                return self._base_ms
            return self._base_ms + int((self._monotonic() - self._started_at) * 1000)


def due_warnings(allowed: int, elapsed: int, already: set[int]) -> list[int]:
    """Warning minutes whose threshold has been crossed and that were not given yet.

    A warning whose threshold lies at or beyond the whole allowed time (a 5-minute exam has no
    10-minute warning) is never due.
    """
    remaining = allowed - elapsed
    return [m for m in WARNING_MINUTES
            if m not in already and m * 60_000 < allowed and remaining <= m * 60_000]
