"""kill -9 of the real kiosk process at random points of a scripted exam, then restart: every
answer acknowledged before the kill is back, with the remaining time within 1 s, after the console
confirms the resume. Also: a tampered journal row is detected on resume and the kiosk stops.

The console is tests/support/kiosk_fake_console.py (real python-socketio speaking exam_core.protocol); its
docstring says why the real console is not used here.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from typing import Any

import pytest

from exam_core.jsonio import b64d

from tests.support.tools import REPO_ROOT
from tests.support.ports import find_free_port
from tests.support.kiosk_fake_console import FakeConsole, wait_for
from tests.support.kiosk_world import World
from tests.support.kiosk_process import KioskProcess

pytestmark = pytest.mark.slow

VALUES: dict[str, list[Any]] = {
    "Q01": ["A", "B", "C", "D"], "Q02": ["blue", "green", "red"], "Q03": ["Paris", "Lyon", "Nice"],
    "Q04": ["one", "two words", "three short words"], "Q09": [["H1"], ["H2", "H3"], ["H4"]],
    "Q10": ["TL", "TR", "BL", "BR"],
}


@pytest.fixture
def rig(tmp_path):
    data = tmp_path / "kiosk"
    world = World(data)
    console = FakeConsole(world.device.signing_key.public_key())
    console.store.packages["P1"] = world.package_bytes
    pairing = dict(world.device.pairing, console_url=console.url)
    world.device.save_pairing(pairing, {})
    kiosk = KioskProcess(data, find_free_port(), tmp_path / "kiosk.log")
    yield world, console, kiosk
    kiosk.stop()
    console.stop()


def _start_exam(world, console, kiosk) -> None:
    kiosk.start()
    wait_for(console.connected.is_set, what="kiosk login")
    assert console.send(world.admit())["ok"]
    kiosk.post("confirm_identity")
    ack = console.send(world.release(), wait=30)
    assert ack and ack["ok"], ack
    kiosk.post("agreement", {"accepted": True, "monitoring_notice": kiosk.state()["monitoring"]["sha256"]})
    kiosk.post("begin")


def _resume(world, console, kiosk) -> None:
    console.connected.clear()
    kiosk.start()
    wait_for(console.connected.is_set, what="kiosk login after restart")
    wait_for(lambda: console.store.hellos and console.store.hellos[-1]["needs_resume_approval"],
             what="hello asking for resume approval")
    assert kiosk.state()["screen"] == "resume_wait"
    ack = console.send(world.release("resume_approved"))
    assert ack and ack["ok"], ack


def test_kill_9_at_random_points_keeps_every_acknowledged_answer_and_the_time(rig):
    world, console, kiosk = rig
    rng = random.Random(int(os.environ.get("KIOSK_KILL_SEED", "0")) or None)
    _start_exam(world, console, kiosk)
    acknowledged: dict[str, object] = {}
    for round_ in range(3):
        for _ in range(rng.randint(2, 12)):
            item_id = rng.choice(list(VALUES))
            value = rng.choice(VALUES[item_id])
            kiosk.post("navigate", {"index": int(item_id[1:]) - 1})
            kiosk.post("answer", {"item_id": item_id, "response_id": "R1", "value": value})
            acknowledged[item_id] = value
            time.sleep(rng.uniform(0, 0.3))
        time.sleep(rng.uniform(0, 1.5))
        before = kiosk.state()["timer"]["remaining_ms"]
        snapshot = kiosk.state()
        assert snapshot["screen"] == "exam", snapshot
        position = snapshot["current"]
        kiosk.kill9()
        time.sleep(rng.uniform(0.5, 2.0))  # down time, never charged
        _resume(world, console, kiosk)
        state = kiosk.state()
        assert state["screen"] == "exam" and state["current"] == position
        assert abs(state["timer"]["remaining_ms"] - before) <= 1000 + 150, (round_, before, state["timer"])
        for item_id, value in acknowledged.items():
            got = kiosk.item(int(item_id[1:]) - 1)["values"]["R1"]
            assert got == value, (round_, item_id, got, value)
    reply = kiosk.post("submit", {"confirm": True})
    wait_for(lambda: "ATT1" in console.store.envelopes, what="envelope delivered")
    payload = world.open_envelope(b64d(console.store.envelopes["ATT1"]["envelope"]))[1]
    final = {r["item_id"]: r["value"] for r in payload["responses"] if r["value"] is not None}
    assert final == acknowledged
    assert len(payload["timings"]["resumes_after_restart"]) == 3
    assert reply["receipt_code"]


def test_tampered_journal_row_is_detected_on_resume(rig):
    import sqlite3
    world, console, kiosk = rig
    _start_exam(world, console, kiosk)
    for value in ("A", "B", "C"):
        kiosk.post("answer", {"item_id": "Q01", "response_id": "R1", "value": value})
    kiosk.kill9()
    db = sqlite3.connect(kiosk.data / "kiosk.db")
    db.execute("UPDATE journal SET prev_hash = ? WHERE seq = 5", ["f" * 64])
    db.commit()
    db.close()
    console.connected.clear()
    kiosk.start()
    wait_for(console.connected.is_set, what="kiosk login after restart")
    ack = console.send(world.release("resume_approved"))
    assert ack and not ack["ok"] and "row 5" in ack["reason"], ack
    assert kiosk.state()["screen"] == "fault"
    wait_for(lambda: any(e["type"] == "journal.tampered" for e in console.store.events.values()),
             what="tamper event delivered")
    status = json.loads(subprocess.run([sys.executable, "-m", "kiosk", "status", "--data", str(kiosk.data), "--json"],
                                       cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout)
    assert status["attempt"]["attempt_id"] == "ATT1" and status["attempt"]["journal_rows"] >= 5


@pytest.mark.browser
def test_page_in_chromium_survives_the_kill_and_shows_the_saved_answer(rig, page):
    from playwright.sync_api import expect
    world, console, kiosk = rig
    _start_exam(world, console, kiosk)
    page.goto(kiosk.base + "/")
    page.get_by_role("heading", name="Question 1 of 10: Single choice").wait_for()
    page.get_by_role("radio", name="Option D").check()
    expect(page.locator("#save-status")).to_have_text("Saved")
    kiosk.kill9()
    expect(page.locator("#connection")).to_have_text("The kiosk is not responding", timeout=10000)
    _resume(world, console, kiosk)
    # the page reloads itself (its token is stale) and comes back to the same item and answer
    page.get_by_role("heading", name="Question 1 of 10: Single choice").wait_for(timeout=15000)
    expect(page.get_by_role("radio", name="Option D")).to_be_checked()
