"""Issue 13, item 14: audit verification on hostile storage.

What the red team found: a checkpoint row edited to the wrong type made ``verify`` raise
``TypeError`` (a crash, not a verdict), and a log with entries but no checkpoint at all verified
under the node's key, as if something vouched for it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from exam_core import purposes, signing
from exam_core.audit import AuditLog
from exam_core.errors import AuditTamperedError
from exam_core.keys import generate_signing_key
from exam_core.store import open_db


@pytest.fixture
def db(tmp_path: Path):
    database = open_db(tmp_path / "audit.db")
    yield database
    database.close()


@pytest.fixture
def key():
    return generate_signing_key()


def _signed_log(db, key, entries: int = 3) -> AuditLog:
    log = AuditLog(db, "audit_log", checkpoint_key=key)
    for n in range(entries):
        log.append("proctor", "kiosk.pause", {"n": n})
    return log


@pytest.mark.parametrize("column, value", [
    ("signed", "'not bytes'"), ("signed", "7"), ("seq", "'one'"), ("seq", "1.5"), ("count", "'one'"),
    ("head", "5"), ("head", "x'00'"), ("time", "5"),
])
def test_a_type_confused_checkpoint_is_a_verdict_not_a_crash(db, key, column, value) -> None:
    log = _signed_log(db, key)
    db.execute(f"UPDATE audit_log_checkpoints SET {column} = {value}")
    db.conn.commit()
    for public in (key.public_key(), None):
        if column == "time" and public is None:
            continue                                  # the time is only covered by the signature
        with pytest.raises(AuditTamperedError):
            log.verify(public)
    log.checkpoints()                                 # listing does not crash either
    log.append("proctor", "kiosk.resume")             # nor does the next append (it signs again)


def test_a_trusted_checkpoint_whose_payload_is_not_an_object_is_refused(db, key) -> None:
    log = _signed_log(db, key)
    for payload in (b"5", b"[1, 2]", b'"text"', b"null"):
        forged = signing.make_signed(key, purposes.AUDIT_CHECKPOINT, payload)
        with pytest.raises(AuditTamperedError):
            log.verify(key.public_key(), trusted_checkpoint=forged)


def test_entries_without_any_checkpoint_do_not_verify_under_a_key(db, key) -> None:
    log = AuditLog(db, "audit_log")                   # written without a key: nothing signed
    for n in range(4):
        log.append("proctor", "kiosk.pause", {"n": n})
    with pytest.raises(AuditTamperedError, match="unprotected: 4 entries and no checkpoint") as refused:
        log.verify(key.public_key())
    assert refused.value.seq == 1
    unkeyed = log.verify()                            # without a key: a report that says so
    assert (unkeyed.entries, unkeyed.unprotected, unkeyed.protected_through) == (4, 4, 0)
    assert AuditLog(open_db(Path(db.conn.execute("PRAGMA database_list").fetchone()[2]).with_name("empty.db"))
                    ).verify(key.public_key()).entries == 0          # an empty log has nothing to vouch for


def test_deleting_every_checkpoint_is_caught_under_the_key(db, key) -> None:
    log = _signed_log(db, key, entries=5)
    log.close()                                       # signs the tail
    assert log.verify(key.public_key()).unprotected == 0
    db.execute("DELETE FROM audit_log_checkpoints")
    db.conn.commit()
    with pytest.raises(AuditTamperedError, match="unprotected"):
        log.verify(key.public_key())
