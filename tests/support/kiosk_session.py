"""The kiosk session under test without the rest of the kiosk: a sealer that records what it is
given, a monotonic clock that moves only when told, and a session over a real journal.

The fixtures that hand these out (``clock``, ``kiosk_db``, ``journal_key``) are in tests/kiosk/conftest.py.
"""

from __future__ import annotations

import hashlib
from typing import Any

from exam_core import limits
from exam_core.jsonio import loads_strict
from exam_core.model import Attempt
from exam_core.result import AttemptResult, SealStamp
from kiosk.journal import Journal
from kiosk.session import ExamSession, Sealed, receipt_code
from simulators.forms import make_attempt
from tests.support.kiosk_world import make_bundle


class RecordingSealer:
    """Seals by hashing the result's bytes: for engine tests that check *what* is sealed.

    Why not the real envelope here: these tests are about the session's state machine; the real
    device sealing (kiosk.device.Device.seal) is exercised by the runtime and end-to-end tests.
    """

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []
        self.results: list[AttemptResult] = []
        self.queued: dict[str, Sealed] = {}

    def stamp(self) -> SealStamp:
        return SealStamp(kiosk_clock="2026-11-26T10:00:00.123Z", header_created="2026-11-26T10:00:00.123Z")

    def seal(self, attempt: Attempt, result: bytes, stamp: SealStamp) -> Sealed:
        self.payloads.append(loads_strict(result, max_bytes=limits.ENVELOPE_PAYLOAD_MAX_BYTES))
        sha = hashlib.sha256(result).hexdigest()
        return Sealed(result, sha, receipt_code(sha))

    def deliver(self, result: AttemptResult, sealed: Sealed) -> Sealed:
        self.results.append(result)
        return self.queued.setdefault(result.attempt.attempt_id, sealed)


class ManualMonotonic:
    """A monotonic clock that moves only when told to: exam time in session tests without sleeping
    (and without the +- tolerances a real clock under load needs). Steps that are binary fractions
    (0.25, 0.5 ...) keep the millisecond account exact."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def new_session(db, key: bytes, sealer: RecordingSealer | None = None, attempt=None, bundle=None,
                **kwargs) -> tuple[ExamSession, RecordingSealer]:
    """An ``ExamSession`` on the sample form over a real journal in ``db``, sealing into ``sealer``."""
    sealer = sealer or RecordingSealer()
    attempt = attempt or make_attempt()
    session = ExamSession(Journal(db, attempt.attempt_id, key), attempt, bundle or make_bundle(),
                          sealer, sealer.deliver, **kwargs)
    return session, sealer
