"""What a hostile client of the kiosk link can do to a real console process, and what it can no
longer do: a paired kiosk writing into another candidate's attempt (M5), anyone sending malformed
Socket.IO packets before a login (M6), anyone burning the pending pairing codes (issue 13, item 14),
and a kiosk sending images that are no JPEG (item 15).

Real parts: the console server process on 127.0.0.1 over TLS, simulated kiosks and proctor sockets
(python-socketio clients), raw websockets for the malformed packets.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from exam_core import protocol
from tests.support.console_world import RunningConsole, wait_until

pytestmark = pytest.mark.slow


def _db(running: RunningConsole) -> sqlite3.Connection:
    return sqlite3.connect(running.setup.data / "console.db")


def _admit(running: RunningConsole, kiosk_id: str, candidate_id: str) -> str:
    """Admit a candidate on a kiosk through a proctor's dashboard socket; returns the attempt id."""
    proctor, csrf, _ = running.proctor_socket(running.login())
    try:
        reply = proctor.call("action", {"csrf": csrf, "type": "admit", "kiosk_id": kiosk_id,
                                        "candidate_id": candidate_id, "package_id": "pkg-open",
                                        "identity_checked": True}, namespace=protocol.PROCTOR_NAMESPACE)
    finally:
        proctor.disconnect()
    assert reply["ok"], reply
    return str(reply["result"]["attempt_id"])


# --- M5: a kiosk speaks only for its own attempts ---------------------------------------------------

def test_kiosk_cannot_write_events_or_alerts_into_another_candidates_attempt(running_console: RunningConsole) -> None:
    victim, intruder = running_console.kiosk("kiosk-m5-victim"), running_console.kiosk("kiosk-m5-intruder")
    attempt_id = _admit(running_console, "kiosk-m5-victim", "cand-1")
    wait_until(lambda: victim.attempt_id == attempt_id)

    forged = intruder.make_event("face.multiple", "high", rule="more_than_one_face", attempt_id=attempt_id,
                                 evidence={"faces": 2})
    ack = intruder.send_event(forged)
    assert ack["ok"] is False and ack["error"] == "invalid" and "attempt_id" in ack["reason"]
    # the intruder's heartbeat naming that attempt does not put it on the intruder's tile
    assert intruder.heartbeat(attempt_id=attempt_id)["ok"]
    # the victim's own kiosk still reports into its attempt
    assert victim.send_event(victim.make_event("face.absent", "high", rule="no_face_for",
                                               evidence={"faces": 0}))["ok"]
    db = _db(running_console)
    rows = db.execute("SELECT kiosk_id FROM events WHERE attempt_id = ?", [attempt_id]).fetchall()
    alerts = db.execute("SELECT kiosk_id, rule FROM alerts WHERE attempt_id = ?", [attempt_id]).fetchall()
    assert rows == [("kiosk-m5-victim",)]
    assert alerts == [("kiosk-m5-victim", "no_face_for")]
    # events without an attempt (a kiosk waiting for its candidate) are still the kiosk's to send
    assert intruder.send_event(intruder.make_event("camera.lost", "medium"))["ok"]

    proctor, csrf, received = running_console.proctor_socket(running_console.login())
    try:
        snapshot = wait_until(lambda: next((d for e, d in received if e == protocol.PROCTOR_SNAPSHOT), None))
        tiles = {t["kiosk_id"]: t for t in snapshot["tiles"]}
        assert tiles["kiosk-m5-intruder"]["attempt_id"] is None
        assert tiles["kiosk-m5-victim"]["attempt_id"] == attempt_id
    finally:
        proctor.disconnect()
    intruder.disconnect()
    victim.disconnect()
