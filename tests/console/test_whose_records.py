"""Every alert and incident names the attempt and the person it concerns, on the dashboard and in
the session report; an alert of one candidate's sitting never lands on the next candidate's tile.

Found in a walk-through: alert cards named only the kiosk, an alert raised during one sitting
showed under the next candidate's tile (the tile counted every open alert of its kiosk), and a
dashboard incident attached itself to the kiosk's latest attempt without saying whose. Here a real
console (its ``timezone`` set to Europe/Paris) takes two candidates in turn on one simulated
kiosk; the proctor's socket sees what the dashboard sees; the report is read as served.
"""

from __future__ import annotations

import json
import re
from typing import Any
from collections.abc import Iterator

import pytest

from exam_core import protocol
from tests.support.console_world import ConsoleSetup, RunningConsole, start_console, wait_until


@pytest.fixture(scope="module")
def running_console(console_setup: ConsoleSetup) -> Iterator[RunningConsole]:
    """The module's console, told its centre's time zone before it starts."""
    config = console_setup.data / "console.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "timezone": "Europe/Paris"}))
    server = start_console(console_setup.data, console_setup.data.parent)
    try:
        yield RunningConsole(console_setup, server)
    finally:
        server.stop()


def _pushed(received: list, event: str, **match: Any) -> list[dict[str, Any]]:
    return [d for e, d in received if e == event and all(d.get(k) == v for k, v in match.items())]


def test_alerts_and_incidents_name_whose_attempt_they_are(running_console: RunningConsole) -> None:
    session = running_console.login()
    proctor, csrf, received = running_console.proctor_socket(session)
    kiosk = running_console.kiosk("kiosk-whose")

    def act(**payload: Any) -> dict[str, Any]:
        reply = proctor.call("action", {"csrf": csrf, **payload}, namespace=protocol.PROCTOR_NAMESPACE, timeout=30)
        return reply

    def sit(candidate: str) -> str:
        reply = act(type="admit", kiosk_id=kiosk.kiosk_id, candidate_id=candidate, package_id="pkg-open",
                    identity_checked=True)
        assert reply["ok"], reply
        wait_until(lambda: kiosk.state == "admitted")
        assert act(type="start", kiosk_id=kiosk.kiosk_id)["ok"]
        wait_until(lambda: kiosk.state == "in_progress")
        return reply["result"]["attempt_id"]

    first = sit("cand-2")  # Alan Turing, seat A2, 25 % extra time
    kiosk.send_event(kiosk.make_event("webcam.multiple_faces", "high", rule="multiple_faces",
                                      thresholds={"multiple_faces_min": 2, "multiple_faces_clear_s": 2.0},
                                      evidence={"faces": 2, "measured": {"brightness": 121.456, "lighting": "ok"}}))
    alert = wait_until(lambda: _pushed(received, protocol.PROCTOR_ALERT, kiosk_id=kiosk.kiosk_id))[-1]
    assert (alert["attempt_id"], alert["candidate_id"], alert["candidate_name"], alert["seat"]) == (
        first, "cand-2", "Alan Turing", "A2")
    wait_until(lambda: _pushed(received, protocol.PROCTOR_KIOSK, kiosk_id=kiosk.kiosk_id, open_alerts=1))

    assert act(type="end", kiosk_id=kiosk.kiosk_id, reason="candidate felt unwell")["ok"]
    wait_until(lambda: kiosk.state == "ended")
    second = sit("cand-3")  # Grace Hopper on the same kiosk; Alan Turing's alert is still open
    tile = wait_until(lambda: _pushed(received, protocol.PROCTOR_KIOSK, kiosk_id=kiosk.kiosk_id,
                                      candidate_id="cand-3", state="in_progress"))[-1]
    assert tile["open_alerts"] == 0 and tile["shown_attempt_id"] == second

    later, _later_csrf, later_received = running_console.proctor_socket(session)  # a dashboard opened now
    snapshot = wait_until(lambda: _pushed(later_received, protocol.PROCTOR_SNAPSHOT))[-1]
    queued = next(a for a in snapshot["alerts"] if a["alert_id"] == alert["alert_id"])
    assert (queued["candidate_name"], queued["attempt_id"]) == ("Alan Turing", first)
    assert next(t for t in snapshot["tiles"] if t["kiosk_id"] == kiosk.kiosk_id)["open_alerts"] == 0
    later.disconnect()

    # An incident the proctor wrote while Alan Turing's attempt was on the page stays with it.
    about_first = act(type="incident", kiosk_id=kiosk.kiosk_id, attempt_id=first, category="health",
                      text="Felt unwell at 10:05 and stopped.")
    assert about_first["ok"] and about_first["result"]["attempt_id"] == first
    assert (about_first["result"]["candidate_name"], about_first["result"]["seat"]) == ("Alan Turing", "A2")
    about_current = act(type="incident", kiosk_id=kiosk.kiosk_id, category="environment", text="Noise outside.")
    assert about_current["result"]["attempt_id"] == second and about_current["result"]["candidate_id"] == "cand-3"
    whole_room = act(type="incident", category="environment", text="Fire alarm test at 11:00.")
    assert whole_room["result"]["attempt_id"] is None and whole_room["result"]["candidate_id"] is None
    elsewhere = act(type="incident", kiosk_id="kiosk-other", attempt_id=first, category="other", text="x")
    assert not elsewhere["ok"] and "was not sat on kiosk kiosk-other" in elsewhere["error"]
    unknown = act(type="incident", kiosk_id=kiosk.kiosk_id, attempt_id="att-0000000000000000", category="other",
                  text="x")
    assert not unknown["ok"] and unknown["code"] == "not_found"

    report = session.get(running_console.url + "/sessions/pkg-open/report.json").json()
    alerts = [a for a in report["alerts"] if a["alert_id"] == alert["alert_id"]]
    assert [(a["candidate_id"], a["name"], a["seat"]) for a in alerts] == [("cand-2", "Alan Turing", "A2")]
    incidents = {i["incident_id"]: i for i in report["incidents"]}
    assert incidents[about_first["result"]["incident_id"]]["name"] == "Alan Turing"
    assert incidents[about_current["result"]["incident_id"]]["name"] == "Grace Hopper"
    attempts = {a["attempt_id"]: a for a in report["attempts"]}
    assert attempts[first]["accommodations"] == ["25 % extra time"] and attempts[second]["accommodations"] == []
    assert report["centre"]["zone"] == "Europe/Paris"

    page = session.get(running_console.url + "/sessions/pkg-open/report").text
    alert_row = next(r for r in re.findall(r"<tr>.*?</tr>", page, re.S) if "More than one face" in r
                     or "webcam.multiple_faces" in r)
    assert "Seat A2 · Alan Turing (cand-2)" in alert_row
    assert "Multiple faces min: <strong>2</strong>" in alert_row
    assert "Multiple faces clear: <strong>2 s</strong>" in alert_row
    assert "Measured › Brightness: <strong>121</strong>" in alert_row and "{" not in alert_row  # lists, not JSON
    assert re.search(r"\d{1,2} \w{3} \d{4}, \d\d:\d\d:\d\d (CET|CEST)", page)  # the centre's clock, not UTC text
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", page)
    assert "Times shown in</dt><dd>Europe/Paris" in page
    assert "25 % extra time" in page and "ended by a proctor" in page and "candidate felt unwell" in page
    assert 'href="/sessions"' in page and "Felt unwell at 10:05" in page
    assert "Seat A2 · Alan Turing (cand-2)" in next(r for r in re.findall(r"<tr>.*?</tr>", page, re.S)
                                                   if "Felt unwell" in r)
    kiosk.disconnect()
    proctor.disconnect()
