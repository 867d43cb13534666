"""exam_core.audit: each kind of tampering is detected and named by its first bad seq; checkpoint
signatures are checked; truncation after a checkpoint is detected; appends are thread-safe."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from datetime import datetime, timedelta, UTC
from pathlib import Path

import pytest

from exam_core.audit import GENESIS_HASH, AuditLog, HashChain, entry_hash
from exam_core.errors import AuditTamperedError, TamperedError, ValidationError, WrongKeyError
from exam_core.keys import generate_signing_key
from exam_core.store import open_db

SECRET = "candidate-answer-XYZZY"


@pytest.fixture
def db(tmp_path: Path):
    database = open_db(tmp_path / "audit.db")
    yield database
    database.close()


@pytest.fixture
def key():
    return generate_signing_key()


def _fill(log: HashChain, n: int) -> None:
    for i in range(1, n + 1):
        log.append(f"proctor-{i % 3}", "kiosk.pause", {"kiosk": f"k{i}", "reason": SECRET, "i": i})


def _rows(db, table="audit_log") -> list[dict]:
    return list(db.query(f"SELECT * FROM {table} ORDER BY seq"))


def _rewrite_chain(db, from_seq: int = 1) -> None:
    """What a forger with write access does: recompute every hash from from_seq on."""
    rows = _rows(db)
    prev = GENESIS_HASH if from_seq == 1 else bytes.fromhex(rows[from_seq - 2]["hash"])
    for row in rows[from_seq - 1:]:
        digest = entry_hash(prev, row["seq"], row["time"], row["actor"], row["action"], json.loads(row["data"]))
        db.execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", (prev.hex(), digest.hex(), row["seq"]))
        prev = digest


def _expect_tampered(log: AuditLog, seq: int, match: str, **kwargs) -> AuditTamperedError:
    with pytest.raises(AuditTamperedError, match=match) as info:
        log.verify(**kwargs)
    assert info.value.seq == seq
    assert SECRET not in str(info.value) and SECRET not in repr(info.value.__cause__)
    return info.value


def test_append_returns_linked_entries_and_verify_passes(db, key) -> None:
    log = AuditLog(db)
    first = log.append("proctor-1", "candidate.admit", {"candidate": "c-1"})
    second = log.append("proctor-1", "candidate.start")
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == "00" * 32 and second.prev_hash == first.hash
    assert second.data == {}
    log.checkpoint(key)
    report = log.verify(key.public_key())
    assert (report.entries, report.head, report.checkpoints, report.signatures_checked) == (2, second.hash, 1, True)
    assert [e.seq for e in log.entries()] == [1, 2]
    assert log.head() == second


def test_entry_hash_is_the_documented_domain_separated_sha256(db) -> None:
    when = datetime(2026, 11, 26, 8, 0, 0, 123456, tzinfo=UTC)
    entry = AuditLog(db, clock=lambda: when).append("proctor-1", "kiosk.pause", {"b": 1, "a": "é"})
    body = b'{"action":"kiosk.pause","actor":"proctor-1","data":{"a":"\xc3\xa9","b":1},' \
           b'"seq":1,"time":"2026-11-26T08:00:00.123456Z"}'
    assert entry.hash == hashlib.sha256(b"invigil/v1\x00audit-entry\x00" + bytes(32) + body).hexdigest()


def test_log_survives_reopen_and_continues_the_chain(tmp_path: Path, key) -> None:
    path = tmp_path / "audit.db"
    log = AuditLog(open_db(path))
    _fill(log, 3)
    log.checkpoint(key)
    log.db.close()
    log = AuditLog(open_db(path))
    entry = log.append("kiosk-7", "exam.submit")
    assert entry.seq == 4 and entry.prev_hash == _rows(log.db)[2]["hash"]
    assert log.verify(key.public_key()).entries == 4


@pytest.mark.parametrize("column, value", [
    ("data", json.dumps({"i": 3, "kiosk": "k3", "reason": "changed"}, separators=(",", ":"), sort_keys=True)),
    ("actor", "someone-else"),
    ("action", "kiosk.resume"),
    ("time", "2020-01-01T00:00:00.000000Z"),
])
def test_modified_entry_is_named(db, column: str, value: str) -> None:
    log = AuditLog(db)
    _fill(log, 6)
    db.execute(f"UPDATE audit_log SET {column} = ? WHERE seq = 3", (value,))
    _expect_tampered(log, 3, "modified")


def test_non_canonical_but_equal_data_is_refused(db) -> None:
    log = AuditLog(db)
    _fill(log, 3)
    row = _rows(db)[1]
    db.execute("UPDATE audit_log SET data = ? WHERE seq = 2", (json.dumps(json.loads(row["data"]), indent=1),))
    _expect_tampered(log, 2, "canonical")


def test_unparseable_data_is_refused_without_quoting_it(db) -> None:
    log = AuditLog(db)
    _fill(log, 3)
    db.execute("UPDATE audit_log SET data = ? WHERE seq = 2", (f'{{"{SECRET}":1,"{SECRET}":2}}',))
    error = _expect_tampered(log, 2, "cannot be parsed")
    assert error.__cause__ is None


def test_modified_entry_with_its_own_hash_recomputed_breaks_the_next_link(db) -> None:
    log = AuditLog(db)
    _fill(log, 5)
    row = _rows(db)[2]
    digest = entry_hash(bytes.fromhex(row["prev_hash"]), 3, row["time"], "forger", row["action"],
                        json.loads(row["data"]))
    db.execute("UPDATE audit_log SET actor = 'forger', hash = ? WHERE seq = 3", (digest.hex(),))
    _expect_tampered(log, 4, "does not link")


def test_deleted_entry_is_named(db) -> None:
    log = AuditLog(db)
    _fill(log, 6)
    db.execute("DELETE FROM audit_log WHERE seq = 4")
    _expect_tampered(log, 4, "entry missing")


def test_deleted_entry_with_renumbering_is_named(db) -> None:
    log = AuditLog(db)
    _fill(log, 6)
    db.execute("DELETE FROM audit_log WHERE seq = 2")
    for seq in range(3, 7):
        db.execute("UPDATE audit_log SET seq = ? WHERE seq = ?", (seq - 1, seq))
    _expect_tampered(log, 2, "does not link")


def test_inserted_entry_is_named(db) -> None:
    log = AuditLog(db)
    _fill(log, 5)
    for seq in range(5, 2, -1):
        db.execute("UPDATE audit_log SET seq = ? WHERE seq = ?", (seq + 1, seq))
    prev = _rows(db)[1]["hash"]
    forged = entry_hash(bytes.fromhex(prev), 3, "2026-11-26T08:00:00.000000Z", "forger", "kiosk.resume", {})
    db.execute("INSERT INTO audit_log VALUES (3, '2026-11-26T08:00:00.000000Z', 'forger', 'kiosk.resume', '{}', ?, ?)",
               (prev, forged.hex()))
    _expect_tampered(log, 4, "does not link")


def test_reordered_entries_are_named(db) -> None:
    log = AuditLog(db)
    _fill(log, 5)
    db.execute("UPDATE audit_log SET seq = -1 WHERE seq = 2")
    db.execute("UPDATE audit_log SET seq = 2 WHERE seq = 3")
    db.execute("UPDATE audit_log SET seq = 3 WHERE seq = -1")
    _expect_tampered(log, 2, "does not link")


def test_consistent_rewrite_is_caught_only_by_a_checkpoint(db, key) -> None:
    log = AuditLog(db)
    _fill(log, 4)
    db.execute("UPDATE audit_log SET actor = 'forger' WHERE seq = 2")
    _rewrite_chain(db, 2)
    assert log.verify().entries == 4, "a consistently rewritten chain alone cannot reveal itself"

    db.execute("DELETE FROM audit_log")
    log = AuditLog(db)
    _fill(log, 6)
    log.checkpoint(key)
    db.execute("UPDATE audit_log SET actor = 'forger' WHERE seq = 2")
    _rewrite_chain(db, 2)
    _expect_tampered(log, 6, "checkpoint at seq 6")
    _expect_tampered(log, 6, "checkpoint at seq 6", public_key=key.public_key())


def test_truncation_after_a_checkpoint_is_named(db, key) -> None:
    log = AuditLog(db)
    _fill(log, 5)
    log.checkpoint(key)
    _fill(log, 2)
    db.execute("DELETE FROM audit_log WHERE seq > 3")
    _expect_tampered(log, 4, "log ends at seq 3 but a checkpoint covers seq 5", public_key=key.public_key())


def test_forged_checkpoint_rows_pass_without_key_but_fail_signature_check(db, key) -> None:
    log = AuditLog(db)
    _fill(log, 4)
    log.checkpoint(key)
    db.execute("UPDATE audit_log SET actor = 'forger' WHERE seq = 1")
    _rewrite_chain(db)
    db.execute("UPDATE audit_log_checkpoints SET head = ? WHERE seq = 4", (_rows(db)[3]["hash"],))
    assert log.verify().entries == 4  # without the key only consistency can be checked
    _expect_tampered(log, 4, "differs from what its signature covers", public_key=key.public_key())


def test_checkpoint_signature_is_checked(db, key) -> None:
    log = AuditLog(db)
    _fill(log, 3)
    checkpoint = log.checkpoint(key)
    assert checkpoint.seq == 3 and checkpoint.count == 3
    flipped = bytearray(checkpoint.signed)
    at = flipped.index(b'"signature":"') + 20
    flipped[at] = ord("A") if flipped[at] != ord("A") else ord("B")
    db.execute("UPDATE audit_log_checkpoints SET signed = ?", (bytes(flipped),))
    error = _expect_tampered(log, 3, "checkpoint signature refused", public_key=key.public_key())
    assert isinstance(error.__cause__, TamperedError)
    db.execute("UPDATE audit_log_checkpoints SET signed = ?", (checkpoint.signed,))
    error = _expect_tampered(log, 3, "checkpoint signature refused", public_key=generate_signing_key().public_key())
    assert isinstance(error.__cause__, WrongKeyError)
    assert log.verify(key.public_key()).signatures_checked


def test_rollback_of_both_tables_is_caught_by_a_trusted_checkpoint(db, key) -> None:
    log = AuditLog(db)
    _fill(log, 3)
    log.checkpoint(key)
    _fill(log, 3)
    kept_elsewhere = log.checkpoint(key).signed
    db.execute("DELETE FROM audit_log WHERE seq > 3")
    db.execute("DELETE FROM audit_log_checkpoints WHERE seq > 3")
    assert log.verify(key.public_key()).entries == 3
    _expect_tampered(log, 4, "checkpoint covers seq 6", public_key=key.public_key(), trusted_checkpoint=kept_elsewhere)
    with pytest.raises(ValidationError, match="public_key"):
        log.verify(trusted_checkpoint=kept_elsewhere)


def test_checkpoint_of_another_log_is_refused(db, key) -> None:
    other = AuditLog(db, "other_log")
    _fill(other, 3)
    foreign = other.checkpoint(key).signed
    log = AuditLog(db)
    _fill(log, 3)
    _expect_tampered(log, 0, "another log", public_key=key.public_key(), trusted_checkpoint=foreign)


def test_empty_log_cannot_be_checkpointed(db, key) -> None:
    with pytest.raises(ValidationError, match="empty log"):
        AuditLog(db).checkpoint(key)
    assert AuditLog(db).verify(key.public_key()).entries == 0


@pytest.mark.parametrize("actor, action, data, field", [
    ("", "kiosk.pause", {}, "actor"),
    ("a\nb", "kiosk.pause", {}, "actor"),
    ("p", "Kiosk Pause", {}, "action"),
    ("p", "kiosk.pause", ["not", "an", "object"], "data"),
    ("p", "kiosk.pause", {"blob": "x" * 70_000}, "data"),
    ("p", "kiosk.pause", {"n": float("nan")}, "json"),
])
def test_bad_input_is_refused_and_nothing_is_written(db, actor, action, data, field) -> None:
    log = AuditLog(db)
    with pytest.raises(ValidationError) as info:
        log.append(actor, action, data)
    assert info.value.field == field
    assert log.head() is None


def test_bad_table_name_is_refused(db) -> None:
    with pytest.raises(ValidationError, match="table"):
        AuditLog(db, "audit; DROP TABLE x")


def test_concurrent_appends_from_threads_and_connections_form_one_chain(tmp_path: Path, key) -> None:
    path = tmp_path / "audit.db"
    shared = AuditLog(open_db(path))
    separate = AuditLog(open_db(path))  # a second connection: serialised by SQLite's lock instead
    errors: list[BaseException] = []

    def worker(log: AuditLog, n: int) -> None:
        try:
            for i in range(40):
                log.append(f"worker-{n}", "test.append", {"i": i})
        except BaseException as exc:  # reported below; a thread's exception would vanish otherwise
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(shared if n < 3 else separate, n)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    shared.checkpoint(key)
    assert separate.verify(key.public_key()).entries == 160


def test_nothing_is_logged(db, key, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    log = AuditLog(db)
    _fill(log, 3)
    log.checkpoint(key)
    log.verify(key.public_key())
    db.execute("UPDATE audit_log SET data = '{}' WHERE seq = 2")
    with pytest.raises(AuditTamperedError):
        log.verify(key.public_key())
    assert SECRET not in caplog.text


# ----- automatic checkpoints, the unprotected tail, and heads recorded elsewhere ----------------

class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_checkpoint_every_n_entries_bounds_the_unprotected_tail(db, key) -> None:
    log = AuditLog(db, checkpoint_key=key, checkpoint_every=3, checkpoint_after=None)
    _fill(log, 7)
    assert [c.seq for c in log.checkpoints()] == [3, 6]
    report = log.verify(key.public_key())
    assert (report.entries, report.protected_through, report.unprotected, report.checkpoints) == (7, 6, 1, 2)
    assert report.last_checkpoint_time == log.checkpoints()[-1].time
    db.execute("DELETE FROM audit_log WHERE seq > 4")  # reaches into the protected part
    _expect_tampered(log, 5, "log ends at seq 4 but a checkpoint covers seq 6", public_key=key.public_key())


def test_the_unprotected_tail_is_the_documented_limit(db, key) -> None:
    log = AuditLog(db, checkpoint_key=key, checkpoint_every=3, checkpoint_after=None)
    _fill(log, 5)
    db.execute("DELETE FROM audit_log WHERE seq > 3")  # only entries no checkpoint covers
    report = log.verify(key.public_key())
    assert (report.entries, report.unprotected) == (3, 0), "without an anchor this cut is invisible"


def test_checkpoint_after_a_time_is_signed_by_the_append_that_finds_it_due(db, key) -> None:
    clock = _Clock()
    log = AuditLog(db, clock=clock, checkpoint_key=key, checkpoint_every=None, checkpoint_after=timedelta(seconds=60))
    log.append("p", "a.first")  # no checkpoint yet: due at once
    clock.now += timedelta(seconds=30)
    log.append("p", "a.second")
    assert [c.seq for c in log.checkpoints()] == [1]
    clock.now += timedelta(seconds=31)
    log.append("p", "a.third")
    assert [c.seq for c in log.checkpoints()] == [1, 3]
    assert log.checkpoints()[-1].time == log.head().time


def test_close_and_timer_checkpoint_only_what_is_unprotected(db, key) -> None:
    with AuditLog(db, checkpoint_key=key, checkpoint_every=100, checkpoint_after=None) as log:
        _fill(log, 3)
        assert log.checkpoints() == []
    assert [c.seq for c in log.checkpoints()] == [3]
    assert log.close() is None and log.checkpoint_if_due() is None  # nothing new to vouch for
    log.append("p", "a.more")
    assert log.checkpoint_if_due().seq == 4
    assert log.verify(key.public_key(), max_unprotected=0).unprotected == 0
    plain = AuditLog(db)
    assert plain.close() is None
    with pytest.raises(ValidationError, match="checkpoint_key"):
        plain.checkpoint_if_due()
    assert plain.checkpoint_if_due(key) is None


def test_entries_forged_after_the_last_checkpoint_exceed_the_policy(db, key) -> None:
    log = AuditLog(db, checkpoint_key=key, checkpoint_every=3, checkpoint_after=None)
    _fill(log, 6)
    forger = AuditLog(db)  # write access to the database, but not the key
    for _ in range(3):
        forger.append("forger", "user.add", {"name": "mallory"})
    assert log.verify(key.public_key()).unprotected == 3
    _expect_tampered(log, 7, "3 entries after the last checkpoint", public_key=key.public_key(), max_unprotected=2)


def test_known_head_catches_a_rollback_of_both_tables(db, key) -> None:
    log = AuditLog(db, checkpoint_key=key, checkpoint_every=3, checkpoint_after=None)
    _fill(log, 5)
    recorded = (log.head().seq, log.head().hash)  # e.g. printed in a session report
    _fill(log, 2)
    db.execute("DELETE FROM audit_log WHERE seq > 3")
    db.execute("DELETE FROM audit_log_checkpoints WHERE seq > 3")
    assert log.verify(key.public_key()).entries == 3  # consistent: nothing local can tell
    _expect_tampered(log, 4, "checkpoint covers seq 5", public_key=key.public_key(), known_head=recorded)
    report = AuditLog(db).verify(known_head=(3, log.head().hash))
    assert report.protected_through == 3 and report.checkpoints == 1
    _expect_tampered(log, 2, "checkpoint at seq 2", known_head=(2, "ab" * 32))
    with pytest.raises(ValidationError, match="known_head"):
        log.verify(known_head=[2, "ab" * 32])  # type: ignore[arg-type]  # a list, not a tuple: refused


@pytest.mark.parametrize("options", [{"checkpoint_every": 0}, {"checkpoint_every": 2.5},
                                     {"checkpoint_after": timedelta(0)}])
def test_bad_checkpoint_policy_is_refused(db, key, options) -> None:
    with pytest.raises(ValidationError):
        AuditLog(db, checkpoint_key=key, **options)


_WRITER = """
import sys
from exam_core.audit import AuditLog
from exam_core.keys import load_private_key
from exam_core.store import open_db
log = AuditLog(open_db(sys.argv[1], synchronous="FULL"), checkpoint_key=load_private_key(sys.argv[2]),
               checkpoint_every=1, checkpoint_after=None)
i = 0
while True:
    i += 1
    log.append("writer", "test.append", {"i": i})
    print(i, flush=True)
"""


def test_entry_and_its_checkpoint_commit_together_under_kill_9(tmp_path: Path, key) -> None:
    """A real writer killed mid-loop: every committed entry is covered by a signed checkpoint."""
    import os
    import signal
    import subprocess
    import sys

    from exam_core.keys import save_private_key
    save_private_key(tmp_path / "key.json", key)
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path / "audit.db"), str(tmp_path / "key.json")],
                            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        for line in proc.stdout:
            if int(line) >= 40:
                break
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(30)
    db = open_db(tmp_path / "audit.db")
    try:
        report = AuditLog(db).verify(key.public_key(), max_unprotected=0)
        assert report.entries >= 40 and report.protected_through == report.entries
    finally:
        db.close()
