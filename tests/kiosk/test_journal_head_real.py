"""Tail truncation of a real kiosk's journal, seen by the real console and by the central intake checks.

The kiosk and the console run as processes (the ``real`` fixture of test_real_console). The kiosk's
heartbeats carry its journal head; the console stores every head it sees. We kill -9 the kiosk, cut
the last rows off its journal file (the chain that remains is still internally valid, so the kiosk
itself cannot tell), and start it again: its next heartbeat reports a head that went back and the
console raises a high alert. The candidate then finishes; the sealed envelope's journal does not
contain the head the console saw, and the intake's check (fed with what the console's sync would
send) refuses it with the reason. The release attestation the kiosk sealed is judged against a
central allow-list as intake judges it.
"""

from __future__ import annotations

import json
import signal
import sqlite3

import pytest

from item_bank_sync import release_allowlist
from item_bank_sync.intake import EnvelopeMeta, IntakeRefusal, check_journal_heads
from item_bank_sync.intake_envelope import open_envelope
from proctor_console.context import ConsoleContext
from proctor_console.sync_envelopes import ConsoleEnvelopeStore
from tests.console.conftest import cli
from tests.kiosk.fake_console import wait_for
from tests.kiosk.forms import ANSWERS
from tests.kiosk.test_real_console import real  # noqa: F401 - the fixture

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


def test_truncated_journal_tail_alerts_the_console_and_fails_the_intake_check(real):
    console, kiosk, results_key, central_key = real
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
    kiosk.post("agreement", {"accepted": True})
    kiosk.post("begin")
    with _console_db(console) as db:
        (attempt_id,) = db.execute("SELECT attempt_id FROM attempts WHERE kiosk_id = 'kiosk-real'").fetchone()
    items = list(ANSWERS.items())
    for item_id, value in items[:6]:
        kiosk.post("answer", {"item_id": item_id, "response_id": "R1", "value": value})
    seen = _kiosk_head(kiosk, attempt_id)
    wait_for(lambda: (_console_latest(console, attempt_id) or (0,))[0] >= seen[0], timeout=20,
             what="the console storing the kiosk's journal head")
    seen = _console_latest(console, attempt_id)
    assert _journal_alerts(console) == []

    kiosk.stop(signal.SIGKILL)
    with sqlite3.connect(kiosk.data / "kiosk.db") as db:     # cut the tail: the rest still chains
        db.execute("DELETE FROM journal WHERE attempt_id = ? AND seq > ?", [attempt_id, seen[0] - 3])
    kiosk.start()
    wait_for(lambda: _journal_alerts(console), timeout=30, what="the console's journal alert")
    (alert_attempt, severity, evidence), = _journal_alerts(console)
    evidence = json.loads(evidence)
    assert (alert_attempt, severity) == (attempt_id, "high")
    assert "went back" in evidence["problem"] and evidence["reported"]["seq"] == seen[0] - 3
    assert evidence["latest_seen"] == {"seq": seen[0], "hash": seen[1]}

    wait_for(lambda: kiosk.state()["screen"] == "resume_wait", timeout=30, what="resume wait screen")
    act(type="approve_resume", kiosk_id="kiosk-real")
    wait_for(lambda: kiosk.state()["screen"] == "exam", timeout=30, what="resumed")
    for item_id, value in items:
        kiosk.post("answer", {"item_id": item_id, "response_id": "R1", "value": value})
    kiosk.post("submit", {"confirm": True})
    with _console_db(console) as db:
        wait_for(lambda: db.execute("SELECT COUNT(*) FROM envelopes WHERE attempt_id = ?",
                                    [attempt_id]).fetchone()[0] == 1, timeout=30, what="envelope at the console")
        envelope = bytes(db.execute("SELECT body FROM envelopes WHERE attempt_id = ?", [attempt_id]).fetchone()[0])
    proctor.disconnect()

    # What the console's sync sends with this envelope, checked as the central intake checks it.
    meta = EnvelopeMeta.from_dict(ConsoleEnvelopeStore(ConsoleContext(console.setup.data)).meta(attempt_id))
    assert (seen[0], seen[1]) in meta.journal_heads
    opened = open_envelope(envelope, central_key.public_key(), results_key)
    assert opened.journal_chain is not None and len(opened.journal_chain) == 32 * opened.journal_seq
    with pytest.raises(IntakeRefusal, match="forked|cut off"):
        check_journal_heads(opened, meta.journal_heads)
    honest = tuple(h for h in meta.journal_heads if h[0] <= seen[0] - 3)      # heads before the cut
    check_journal_heads(opened, honest)

    # The release attestation the real kiosk sealed, judged as the central intake judges it.
    (measurement,) = json.loads(cli(console.setup.data, "release-allowlist", "list", "--json"))["measurements"]
    entry = {"release": "test", "added_by": "registrar", "added_at": "2026-11-26T09:00:00Z"}
    passed = release_allowlist.judge(opened.attestation, opened.kiosk_public, "kiosk-real", {measurement: entry})
    assert (passed.status, passed.release, passed.flagged) == ("passed", "test", False)
    unknown = release_allowlist.judge(opened.attestation, opened.kiosk_public, "kiosk-real", {"0" * 64: entry})
    assert unknown.status == "unknown_build" and unknown.flagged and measurement in unknown.reason
