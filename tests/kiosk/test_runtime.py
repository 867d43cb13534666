"""The runtime with real artefacts: admit, key release, exam, sealed envelope in the outbox, resume."""

from __future__ import annotations

import json
import sqlite3

import pytest

from exam_core import protocol
from exam_core.jsonio import b64d
from kiosk.runtime import PackageUnavailable

from simulators.forms import ANSWERS
from tests.support.kiosk_world import World, make_runtime, start_exam


@pytest.fixture
def world(tmp_path):
    return World(tmp_path)


def test_whole_attempt_ends_in_a_sealed_envelope_only_central_can_open(world, tmp_path):
    rt = make_runtime(world, tmp_path)
    session = start_exam(rt, world)
    for item_id, value in ANSWERS.items():
        session.answer(item_id, "R1", value)
    sealed = session.submit()
    entries = [e for e in rt.outbox.pending() if e.kind == "envelope"]
    assert len(entries) == 1
    message = json.loads(entries[0].body)
    data = b64d(message["envelope"])
    assert message["sha256"] == sealed.sha256
    opened = world.open_envelope(data)
    text = json.dumps(opened, default=str)
    assert "Paris" in text and "journal_head" in text
    assert b"Paris" not in data  # sealed
    assert rt.wire_state() == "submitted"


def test_restart_needs_resume_approval_and_comes_back(world, tmp_path):
    rt = make_runtime(world, tmp_path)
    session = start_exam(rt, world)
    session.navigate(2)
    session.answer("Q03", "R1", "Paris")
    remaining = session.remaining_ms()
    rt.db.conn.close()
    again = make_runtime(world, tmp_path)
    assert again.needs_resume_approval() and again.hello().needs_resume_approval
    assert again.wire_state() == "in_progress"
    ack = again.handle_command(world.release("resume_approved"))
    assert ack.ok, ack.reason
    s = again.require_session()
    assert s.state.answers["Q03"]["R1"] == "Paris" and s.state.current == 2
    assert abs(s.remaining_ms() - remaining) < 1000


def test_tampered_journal_is_reported_and_stops_the_kiosk(world, tmp_path):
    rt = make_runtime(world, tmp_path)
    session = start_exam(rt, world)
    session.answer("Q01", "R1", "A")
    session.answer("Q01", "R1", "B")
    rt.db.conn.execute("DELETE FROM journal WHERE seq = 3")
    rt.db.conn.commit()
    rt.db.conn.close()
    again = make_runtime(world, tmp_path)
    ack = again.handle_command(world.release("resume_approved"))
    assert not ack.ok and "deleted" in ack.reason
    assert again.fault
    events = [json.loads(e.body) for e in again.outbox.pending() if e.kind == "event"]
    assert any(e["type"] == "journal.tampered" and e["severity"] == "critical" for e in events)


def test_commands_apply_once(world, tmp_path):
    rt = make_runtime(world, tmp_path)
    start_exam(rt, world)
    extend = world.command("extend", {"seconds": 60, "reason": "noise"})
    before = rt.session.allowed_ms()
    assert rt.handle_command(extend).ok and rt.handle_command(extend).ok
    assert rt.session.allowed_ms() == before + 60_000


def test_wrong_package_bytes_are_refused(world, tmp_path):
    rt = make_runtime(world, tmp_path)
    rt.handle_command(world.admit())
    with pytest.raises(PackageUnavailable, match="does not match the admitted SHA-256"):
        rt.store_package("P1", world.package_bytes + b"x")
    ack = rt.handle_command(world.release())
    assert not ack.ok and ack.error == "retry"


def test_heartbeats_report_the_journal_head_and_after_sealing_the_sealed_one(world, tmp_path):
    """The head grows with every answer; once sealed the heartbeat keeps reporting the sealed head
    (the journal's later ``submit`` row is not in the envelope), also after a restart; the envelope
    carries the row hashes up to that head."""
    rt = make_runtime(world, tmp_path)
    assert rt.heartbeat().journal_head is None                      # no attempt yet
    session = start_exam(rt, world)
    first = rt.heartbeat().journal_head
    session.answer("Q01", "R1", "A")
    second = rt.heartbeat().journal_head
    assert second.seq > first.seq and second.hash == session.journal.head.hash
    session.submit()
    assert session.journal.head.seq > rt.heartbeat().journal_head.seq   # the submit row came after sealing
    sealed = rt.heartbeat().journal_head
    (entry,) = [e for e in rt.outbox.pending() if e.kind == "envelope"]
    _, payload = world.open_envelope(b64d(json.loads(entry.body)["envelope"]))
    assert payload["journal_head"] == {"seq": sealed.seq, "hash": sealed.hash}
    chain = b64d(payload["journal_chain"])
    assert len(chain) == 32 * sealed.seq and chain[-32:].hex() == sealed.hash
    rt.db.conn.close()
    assert make_runtime(world, tmp_path).heartbeat().journal_head == sealed


def _answered_then_cut(world, tmp_path, sql: str = "DELETE FROM journal WHERE seq = ?"):
    """Two answers, the kiosk stopped, its last journal row cut (or changed by ``sql``); the head before."""
    rt = make_runtime(world, tmp_path)
    session = start_exam(rt, world)
    session.answer("Q01", "R1", "A")
    session.answer("Q02", "R1", "blue")
    head = rt.heartbeat().journal_head
    rt.db.conn.close()
    with sqlite3.connect(tmp_path / "kiosk.db") as db:                     # while the kiosk is down
        db.execute(sql, [head.seq])
    return head


def test_heartbeat_before_resume_reports_the_head_on_disk(world, tmp_path):
    head = _answered_then_cut(world, tmp_path)
    again = make_runtime(world, tmp_path)
    assert again.needs_resume_approval()
    assert again.heartbeat().journal_head.seq == head.seq - 1  # reported as it is: the console sees it go back


def _console_head(world, head) -> protocol.ConsoleJournalHead:
    return protocol.ConsoleJournalHead(seq=head.seq, hash=head.hash, attempt_id=world.attempt.attempt_id)


@pytest.mark.parametrize("damage", ["cut", "rewritten"])
def test_resume_is_refused_on_a_journal_without_the_consoles_head(world, tmp_path, damage):
    """The chain that remains is valid; only the head the console stored shows the damage. The
    kiosk reports it as soon as the console's head arrives (before any approval), refuses the
    resume, and deletes nothing."""
    seen = _answered_then_cut(world, tmp_path, "DELETE FROM journal WHERE seq = ?" if damage == "cut" else
                              f"UPDATE journal SET row_hash = '{'ee' * 32}' WHERE seq = ?")   # another last row
    again = make_runtime(world, tmp_path)
    rows = again.db.execute("SELECT COUNT(*) FROM journal").fetchone()[0]
    again.check_console_head(_console_head(world, seen))
    assert again.fault and ("cut off" if damage == "cut" else "forked") in again.fault
    events = [json.loads(e.body) for e in again.outbox.pending() if e.kind == "event"]
    assert [e["type"] for e in events if e["severity"] == "critical"] == ["journal.tampered"]
    again.check_console_head(_console_head(world, seen))             # a second hello: reported once
    assert len([e for e in again.outbox.pending() if e.kind == "event"]) == len(events)
    ack = again.handle_command(world.release("resume_approved"))
    assert not ack.ok and again.session is None
    assert again.db.execute("SELECT COUNT(*) FROM journal").fetchone()[0] == rows      # nothing deleted


def test_resume_goes_on_when_the_journal_holds_the_consoles_head(world, tmp_path):
    rt = make_runtime(world, tmp_path)
    session = start_exam(rt, world)
    session.answer("Q01", "R1", "A")
    seen = rt.heartbeat().journal_head
    session.answer("Q02", "R1", "blue")                   # written after the console's last head
    rt.db.conn.close()
    again = make_runtime(world, tmp_path)
    again.check_console_head(_console_head(world, seen))
    again.check_console_head(protocol.ConsoleJournalHead(seq=999, hash="ab" * 32, attempt_id="OTHER"))  # ignored
    assert again.fault is None
    assert again.handle_command(world.release("resume_approved")).ok
    assert again.require_session().state.answers["Q02"]["R1"] == "blue"


def test_cancel_admission_before_the_start_forgets_the_attempt_and_waits_again(world, tmp_path):
    """Issue 20: an admission whose exam never started is undone, nothing sealed, and survives a restart."""
    rt = make_runtime(world, tmp_path)
    assert rt.handle_command(world.admit()).ok
    rt.store_package("P1", world.package_bytes)
    rt.confirm_identity()
    cancel = world.command("cancel_admission", {"reason": "wrong seat"})
    ack = rt.handle_command(cancel)
    assert ack.ok and ack.state == "idle" and rt.attempt is None and rt.admission == {}
    assert rt.handle_command(cancel).ok  # a re-delivery is answered the same, applied once
    events = [json.loads(e.body) for e in rt.outbox.pending() if e.kind == "event"]
    assert [e["type"] for e in events].count("attempt.admission_cancelled") == 1
    assert not [e for e in rt.outbox.pending() if e.kind == "envelope"]
    assert rt.package_wanted() is None  # nothing to fetch: no attempt
    rt.stop()
    again = make_runtime(world, tmp_path)
    assert again.attempt is None and again.wire_state() == "idle" and not again.needs_resume_approval()
    assert again.handle_command(world.admit()).ok  # the same candidate admitted again
    assert again.wire_state() == "admitted"


def test_cancel_admission_is_refused_once_the_exam_started(world, tmp_path):
    rt = make_runtime(world, tmp_path)
    start_exam(rt, world)
    ack = rt.handle_command(world.command("cancel_admission", {"reason": "wrong seat"}))
    assert not ack.ok and ack.error == "conflict" and "end it instead" in ack.reason
    assert rt.attempt is not None and rt.session is not None


def test_cancel_admission_of_another_attempt_is_refused(world, tmp_path):
    rt = make_runtime(world, tmp_path)
    assert rt.handle_command(world.admit()).ok
    ack = rt.handle_command(world.command("cancel_admission", {"reason": "wrong seat"}, attempt_id="ATT9"))
    assert not ack.ok and ack.error == "conflict" and rt.attempt is not None
