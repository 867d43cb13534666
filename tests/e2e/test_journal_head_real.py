"""Tail truncation of a real kiosk's journal, seen by the real console and by the central intake checks.

The kiosk and the console run as processes (the ``real`` fixture of tests/e2e/conftest.py). The kiosk's
heartbeats carry its journal head; the console stores every head it sees and returns the highest
in its ``hello`` ack. We kill -9 the kiosk, cut the last rows off its journal file (the chain that
remains is still internally valid, so the chain alone cannot tell), and start it again: the kiosk
compares its journal with the console's head and reports the cut itself, refusing to resume; its
next heartbeat reports a head that went back and the console raises a high alert. A second run to
the end checks the intake's journal check and the release attestation on a real sealed envelope.
"""

from __future__ import annotations

import json
import signal
import sqlite3

import pytest

from item_bank_sync.trust import release_allowlist
from exam_core.protocol import JournalHeadInfo
from exam_core.sync_wire import EnvelopeMeta
from item_bank_sync.results.intake import IntakeRefusal, check_journal_heads
from item_bank_sync.results.envelope import open_envelope
from proctor_console.context import ConsoleContext
from proctor_console.sync.outbox import SyncOutbox
from tests.support.console_world import cli
from tests.support.kiosk_fake_console import wait_for
from simulators.forms import ANSWERS

pytestmark = pytest.mark.slow


def _console_db(console) -> sqlite3.Connection:
    return sqlite3.connect(console.setup.data / "console.db", timeout=10)


def _kiosk_head(kiosk, attempt_id: str) -> tuple[int, str]:
    with sqlite3.connect(kiosk.data / "kiosk.db", timeout=10) as db:
        return db.execute("SELECT seq, row_hash FROM journal WHERE attempt_id = ? ORDER BY seq DESC LIMIT 1",
                          [attempt_id]).fetchone()


def _console_latest(console, attempt_id: str) -> tuple[int, str] | None:
    with _console_db(console) as db:
        return db.execute("SELECT seq, hash FROM journal_heads WHERE attempt_id = ? ORDER BY seq DESC LIMIT 1",
                          [attempt_id]).fetchone()


def _journal_alerts(console) -> list[tuple]:
    with _console_db(console) as db:
        return db.execute("SELECT attempt_id, severity, evidence FROM alerts WHERE rule = 'journal_head_regressed'"
                          ).fetchall()


def _start_exam(console, kiosk):
    """Pair, admit, start and begin on the real processes; returns (act, proctor socket, attempt id)."""
    kiosk.start(["--pair-code", console.pairing_code()])
    wait_for(lambda: kiosk.state()["console_connected"], timeout=30, what="kiosk logged in to the console")
    proctor, csrf, _ = console.proctor_socket(console.login())

    def act(**payload):
        reply = proctor.call("action", {"csrf": csrf, **payload}, namespace="/proctor", timeout=30)
        assert reply["ok"], reply
        return reply

    act(type="admit", kiosk_id="kiosk-real", candidate_id="cand-1", package_id="pkg-real", identity_checked=True)
    wait_for(lambda: kiosk.state()["screen"] == "identity", timeout=30, what="admission shown")
    kiosk.post("confirm_identity")
    wait_for(lambda: (kiosk.data / "packages" / "pkg-real.pkg").exists(), timeout=30, what="package fetched")
    act(type="start", kiosk_id="kiosk-real")
    wait_for(lambda: kiosk.state()["screen"] == "agreement", timeout=30, what="key released")
    kiosk.post("agreement", {"accepted": True, "monitoring_notice": kiosk.state()["monitoring"]["sha256"]})
    kiosk.post("begin")
    with _console_db(console) as db:
        (attempt_id,) = db.execute("SELECT attempt_id FROM attempts WHERE kiosk_id = 'kiosk-real'").fetchone()
    return act, proctor, attempt_id


def _answer_and_wait_for_head(console, kiosk, attempt_id, answers) -> tuple[int, str]:
    for item_id, value in answers:
        kiosk.post("answer", {"item_id": item_id, "response_id": "R1", "value": value})
    seen = _kiosk_head(kiosk, attempt_id)
    wait_for(lambda: (_console_latest(console, attempt_id) or (0,))[0] >= seen[0], timeout=20,
             what="the console storing the kiosk's journal head")
    return _console_latest(console, attempt_id)


def _console_events(console, attempt_id: str, type_: str) -> list[tuple]:
    with _console_db(console) as db:
        return db.execute("SELECT severity, body FROM events WHERE attempt_id = ? AND type = ?",
                          [attempt_id, type_]).fetchall()


def test_a_journal_cut_while_the_kiosk_was_down_is_reported_by_the_kiosk_and_not_resumed(real):
    """kill -9, cut the journal's tail (what remains still chains), restart: the console's hello
    ack carries the head it stored, the kiosk finds its journal lacks that row and says so itself
    (fault screen, a critical ``journal.tampered`` event at the console) before anyone approves the
    resume; the approval is refused and every row is kept. The console's own alert fires too."""
    console, kiosk, _, _ = real
    act, proctor, attempt_id = _start_exam(console, kiosk)
    seen = _answer_and_wait_for_head(console, kiosk, attempt_id, list(ANSWERS.items())[:6])
    assert _journal_alerts(console) == []

    kiosk.stop(signal.SIGKILL)
    with sqlite3.connect(kiosk.data / "kiosk.db") as db:     # cut the tail: the rest still chains
        db.execute("DELETE FROM journal WHERE attempt_id = ? AND seq > ?", [attempt_id, seen[0] - 3])
        rows_left = db.execute("SELECT COUNT(*) FROM journal WHERE attempt_id = ?", [attempt_id]).fetchone()[0]
    kiosk.start()
    wait_for(lambda: kiosk.state()["screen"] == "fault", timeout=30, what="the kiosk's own fault screen")
    state = kiosk.state()
    assert "cut off" in state["fault"] and f"the console saw row {seen[0]}" in state["fault"]
    wait_for(lambda: _console_events(console, attempt_id, "journal.tampered"), timeout=30,
             what="the kiosk's journal.tampered event at the console")
    (severity, body), = _console_events(console, attempt_id, "journal.tampered")
    assert severity == "critical" and "cut off" in body
    with _console_db(console) as db:                          # on the proctors' alert queue
        wait_for(lambda: db.execute("SELECT severity FROM alerts WHERE rule = 'journal_verification' AND "
                                    "attempt_id = ?", [attempt_id]).fetchone() == ("critical",), timeout=30,
                 what="the critical journal_verification alert")
    wait_for(lambda: _journal_alerts(console), timeout=30, what="the console's journal alert")

    act(type="approve_resume", kiosk_id="kiosk-real")
    with _console_db(console) as db:
        wait_for(lambda: db.execute("SELECT ack FROM commands WHERE kiosk_id = 'kiosk-real' AND type = "
                                    "'resume_approved' AND ack IS NOT NULL").fetchone(), timeout=30,
                 what="the kiosk's answer to the resume approval")
        (ack,) = db.execute("SELECT ack FROM commands WHERE type = 'resume_approved'").fetchone()
    ack = json.loads(ack)
    assert ack["ok"] is False and "truncated" in ack["reason"]
    assert kiosk.state()["screen"] == "fault"
    proctor.disconnect()
    with sqlite3.connect(kiosk.data / "kiosk.db") as db:
        assert db.execute("SELECT COUNT(*) FROM journal WHERE attempt_id = ?", [attempt_id]).fetchone()[0] == rows_left


def test_heads_the_console_saw_are_checked_on_a_real_sealed_journal(real):
    """An honest attempt to the end: what the console's sync sends with the envelope passes the
    intake's journal check; a head the kiosk never sealed (as a modified kiosk that cut its journal
    without restarting would leave) fails it. The release attestation the kiosk sealed is judged
    as the central intake judges it."""
    console, kiosk, results_key, central_key = real
    _act, proctor, attempt_id = _start_exam(console, kiosk)
    items = list(ANSWERS.items())
    seen = _answer_and_wait_for_head(console, kiosk, attempt_id, items[:6])
    for item_id, value in items:
        kiosk.post("answer", {"item_id": item_id, "response_id": "R1", "value": value})
    kiosk.post("submit", {"confirm": True})
    with _console_db(console) as db:
        wait_for(lambda: db.execute("SELECT COUNT(*) FROM envelopes WHERE attempt_id = ?",
                                    [attempt_id]).fetchone()[0] == 1, timeout=30, what="envelope at the console")
        envelope = bytes(db.execute("SELECT body FROM envelopes WHERE attempt_id = ?", [attempt_id]).fetchone()[0])
    proctor.disconnect()

    meta = SyncOutbox(ConsoleContext(console.setup.data)).meta(attempt_id)
    assert EnvelopeMeta.from_dict(meta.to_dict()) == meta                  # what the upload carries, strictly
    assert JournalHeadInfo(seen[0], seen[1]) in meta.journal_heads
    opened = open_envelope(envelope, central_key.public_key(), results_key)
    assert opened.journal_chain is not None and len(opened.journal_chain) == 32 * opened.journal_seq
    check_journal_heads(opened, meta.journal_heads)
    with pytest.raises(IntakeRefusal, match="cut off"):
        check_journal_heads(opened, (*meta.journal_heads, JournalHeadInfo(opened.journal_seq + 1, "ab" * 32)))
    with pytest.raises(IntakeRefusal, match="forked"):
        check_journal_heads(opened, (JournalHeadInfo(seen[0], "ab" * 32),))

    # The release attestation the real kiosk sealed, judged as the central intake judges it.
    (measurement,) = json.loads(cli(console.setup.data, "release-allowlist", "list", "--json"))["measurements"]
    entry = {"release": "test", "added_by": "registrar", "added_at": "2026-11-26T09:00:00Z"}
    passed = release_allowlist.judge(opened.attestation, opened.kiosk_public, "kiosk-real", {measurement: entry})
    assert (passed.status, passed.release, passed.flagged) == ("passed", "test", False)
    unknown = release_allowlist.judge(opened.attestation, opened.kiosk_public, "kiosk-real", {"0" * 64: entry})
    assert unknown.status == "unknown_build" and unknown.flagged and measurement in unknown.reason
