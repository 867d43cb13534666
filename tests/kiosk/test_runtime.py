"""The runtime with real artefacts: admit, key release, exam, sealed envelope in the outbox, resume."""

from __future__ import annotations

import json

import pytest

from exam_core.jsonio import b64d

from tests.kiosk.forms import ANSWERS
from tests.kiosk.world import World, make_runtime, start_exam


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
    with pytest.raises(Exception):
        rt.store_package("P1", world.package_bytes + b"x")
    ack = rt.handle_command(world.release())
    assert not ack.ok and ack.error == "retry"
