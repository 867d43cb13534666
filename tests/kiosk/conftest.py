"""Fixtures of the kiosk tests: a kiosk database in a temp dir and a live session on a test form."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest

from kiosk.journal import Journal
from kiosk.session import ExamSession, Sealed, receipt_code
from kiosk.storage import open_kiosk_db

from tests.kiosk.forms import make_attempt, make_bundle


class RecordingSealer:
    """Seals by hashing the canonical payload: for engine tests that check *what* is sealed.

    Why not the real envelope here: these tests are about the session's state machine; the real
    exam_core.envelope sealing is exercised by the runtime and end-to-end tests.
    """

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []
        self.queued: dict[str, Sealed] = {}

    def seal(self, payload: dict[str, Any]) -> Sealed:
        from exam_core.jsonio import canonical_dumps
        self.payloads.append(payload)
        data = canonical_dumps(payload)
        sha = hashlib.sha256(data).hexdigest()
        return Sealed(data, sha, receipt_code(sha))

    def deliver(self, attempt_id: str, sealed: Sealed) -> Sealed:
        return self.queued.setdefault(attempt_id, sealed)


@pytest.fixture
def kiosk_db(tmp_path):
    db = open_kiosk_db(tmp_path)
    yield db
    db.conn.close()


@pytest.fixture
def journal_key() -> bytes:
    return os.urandom(32)


def new_session(db, key: bytes, sealer: RecordingSealer | None = None, attempt=None, bundle=None,
                **kwargs) -> tuple[ExamSession, RecordingSealer]:
    sealer = sealer or RecordingSealer()
    attempt = attempt or make_attempt()
    session = ExamSession(Journal(db, attempt.attempt_id, key), attempt, bundle or make_bundle(),
                          sealer.seal, sealer.deliver, **kwargs)
    return session, sealer
