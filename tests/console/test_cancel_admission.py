"""Cancel admission (issue 20, README "Console"): an admitted seat whose exam never started can be
freed. Tested with the real console and a real kiosk process (paired, attested), a proctor on the
``/proctor`` socket, and a second, simulated kiosk on the real ``/kiosk`` link.

- The action needs a reason; it is audited like the other commands (``command.cancel_admission``).
- The kiosk forgets the attempt and shows the waiting screen; nothing is sealed.
- The attempt is ``cancelled``, which is no sitting: the candidate is admitted again, to another
  kiosk and back to the first, without a re-admission grant.
- Once the exam started the action does not fit (the proctor ends the exam instead).
- The session report shows the cancelled admission and its reason.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any
from collections.abc import Iterator

import pytest

from tests.support.console_world import cli
from tests.support.kiosk_fake_console import wait_for
from tests.support.kiosk_real_console import real_console

pytestmark = pytest.mark.slow

REASON = "candidate sat down at the wrong seat"


@pytest.fixture
def real(tmp_path: Path) -> Iterator[tuple[Any, Any, Any, Any]]:
    with real_console(tmp_path) as rig:
        yield rig


def _attempts(data: Path) -> list[tuple[str, str, str | None]]:
    with sqlite3.connect(data / "console.db") as db:
        return db.execute("SELECT kiosk_id, state, end_reason FROM attempts ORDER BY admitted_at").fetchall()


def _audited(data: Path, action: str) -> list[dict[str, Any]]:
    with sqlite3.connect(data / "console.db") as db:
        return [json.loads(r[0]) for r in db.execute("SELECT data FROM audit_log WHERE action = ?", [action])]


def test_cancel_admission_frees_the_seat_and_the_candidate(real: tuple[Any, Any, Any, Any]) -> None:
    console, kiosk, _results, _central = real
    data = console.setup.data
    kiosk.start(["--pair-code", json.loads(cli(data, "pair", "--json"))["code"]])
    wait_for(lambda: kiosk.state()["console_connected"], timeout=30, what="kiosk logged in")
    other = console.kiosk("kiosk-other")
    proctor, csrf, _ = console.proctor_socket(console.login())

    def act(**payload: Any) -> dict[str, Any]:
        return proctor.call("action", {"csrf": csrf, **payload}, namespace="/proctor", timeout=30)

    def admit(kiosk_id: str) -> dict[str, Any]:
        return act(type="admit", kiosk_id=kiosk_id, candidate_id="cand-1", package_id="pkg-real",
                   identity_checked=True)

    assert admit("kiosk-real")["ok"]
    wait_for(lambda: kiosk.state()["screen"] == "identity", timeout=30, what="admission shown")
    refused = act(type="cancel_admission", kiosk_id="kiosk-real", reason="  ")
    assert not refused["ok"] and "reason" in refused["error"]
    cancelled = act(type="cancel_admission", kiosk_id="kiosk-real", reason=REASON)
    assert cancelled["ok"], cancelled
    wait_for(lambda: kiosk.state()["screen"] == "waiting", timeout=30, what="kiosk back to waiting")
    assert kiosk.state()["attempt_key"] is None and "candidate" not in kiosk.state()
    wait_for(lambda: _attempts(data)[-1][1] == "cancelled", timeout=30, what="cancellation acked")
    audited = _audited(data, "command.cancel_admission")
    assert len(audited) == 1 and audited[0]["reason"] == REASON and audited[0]["kiosk_id"] == "kiosk-real"

    # No sitting: admitted to another kiosk without a re-admission grant, cancelled there too...
    assert admit("kiosk-other")["ok"], "a cancelled admission counts as no sitting"
    wait_for(lambda: other.state == "admitted", timeout=30, what="other kiosk admitted")
    assert act(type="cancel_admission", kiosk_id="kiosk-other", reason="moved back")["ok"]
    wait_for(lambda: _attempts(data)[-1][1] == "cancelled", timeout=30, what="second cancellation acked")
    # ...and back to the first kiosk, where the exam starts: now only ending fits.
    assert admit("kiosk-real")["ok"]
    wait_for(lambda: kiosk.state()["screen"] == "identity", timeout=30, what="admitted again")
    kiosk.post("confirm_identity")
    wait_for(lambda: (kiosk.data / "packages" / "pkg-real.pkg").exists(), timeout=30, what="package fetched")
    assert act(type="start", kiosk_id="kiosk-real")["ok"]
    wait_for(lambda: kiosk.state()["screen"] == "agreement", timeout=30, what="key released")
    wait_for(lambda: _attempts(data)[-1][1] == "in_progress", timeout=30, what="start acked")
    late = act(type="cancel_admission", kiosk_id="kiosk-real", reason=REASON)
    assert not late["ok"] and late["error"].startswith("Cancel admission does not fit"), late
    assert "Possible now: " in late["error"] and "end exam" in late["error"]
    assert [(k, s) for k, s, _ in _attempts(data)] == [
        ("kiosk-real", "cancelled"), ("kiosk-other", "cancelled"), ("kiosk-real", "in_progress")]

    report = json.loads(cli(data, "report", "pkg-real", "--json", "--by", "admin"))
    shown = [a for a in report["attempts"] if a["state"] == "cancelled"]
    assert [a["ended_how"] for a in shown] == [f"admission cancelled before the start: {REASON}",
                                               "admission cancelled before the start: moved back"]
    assert report["summary"]["present"] == 1 and report["summary"]["ended"] == 0
    other.disconnect()
    proctor.disconnect()
