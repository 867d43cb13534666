"""The alert queue: one open alert per kiosk, rule and attempt (repeats count up), resolved once
with a reason, in the audit chain; incidents and conflicts of interest beside it."""

from __future__ import annotations

import pytest

from proctor_console import services
from proctor_console.accounts import User
from proctor_console.context import ConsoleContext
from proctor_console.errors import Conflict, Forbidden, NotFound
from tests.support.console_world import ConsoleSetup


def _raise(alerts, attempt_id: str | None, severity: str, seq: int, per_attempt: bool = True) -> int:
    return alerts.raise_alert(kiosk_id="kiosk-1", attempt_id=attempt_id, rule="no_face_for", kind="face.absent",
                              severity=severity, thresholds={"seconds": seq}, evidence={"faces": 0}, seq=seq,
                              per_attempt=per_attempt)


def test_repeats_count_up_on_one_open_alert_per_attempt(bare_console: ConsoleSetup) -> None:
    alerts = services.alerts(ConsoleContext(bare_console.data))
    first = _raise(alerts, "att-1", "medium", 1)
    assert _raise(alerts, "att-1", "high", 2) == first
    assert _raise(alerts, "att-1", "low", 3) == first
    other_attempt = _raise(alerts, "att-2", "medium", 4)
    assert other_attempt != first
    alert = alerts.get(first)
    assert alert is not None
    assert (alert["count"], alert["severity"], alert["last_seq"], alert["thresholds"]) == (3, "high", 3, {"seconds": 3})
    assert [a["alert_id"] for a in alerts.open_alerts()] == [first, other_attempt]
    # a tile counts its own attempt's alerts and the kiosk's own, never another attempt's
    assert (alerts.count_open("kiosk-1", "att-1"), alerts.count_open("kiosk-1", "att-2"),
            alerts.count_open("kiosk-1", None)) == (1, 1, 0)
    assert _raise(alerts, "att-3", "medium", 5, per_attempt=False) in (first, other_attempt)  # per kiosk


def test_an_alert_is_resolved_once_with_its_reason(bare_console: ConsoleSetup) -> None:
    ctx = ConsoleContext(bare_console.data)
    alerts = services.alerts(ctx)
    alert_id = _raise(alerts, "att-1", "high", 1)
    alerts.resolve("paula", alert_id, "acknowledged", "bent to pick up a pen")
    with pytest.raises(Conflict, match="not open"):
        alerts.resolve("peter", alert_id, "dismissed", "again")
    resolved = alerts.get(alert_id)
    assert resolved is not None and (resolved["status"], resolved["resolved_by"]) == ("acknowledged", "paula")
    assert alerts.count_open("kiosk-1", "att-1") == 0 and alerts.open_alerts() == []
    assert ("paula", "alert.acknowledged", {"alert_id": alert_id, "reason": "bent to pick up a pen"}) in [
        (e.actor, e.action, e.data) for e in ctx.audit.entries()]
    assert _raise(alerts, "att-1", "high", 2) != alert_id  # a repeat after resolution opens a new alert


def test_incidents_and_conflicts_of_interest(bare_console: ConsoleSetup) -> None:
    ctx = ConsoleContext(bare_console.data)
    incidents, conflicts = services.incidents(ctx), services.conflicts(ctx)
    incident_id = incidents.report("paula", "technical", "screen flickers", kiosk_id="kiosk-1", attempt_id="att-1",
                                   package_id="pkg-1")
    assert [i["incident_id"] for i in incidents.for_attempt("att-1")] == [incident_id]
    assert [i["incident_id"] for i in incidents.for_session("pkg-1", [])] == [incident_id]
    conflicts.declare("paula", "cand-1", "my cousin")
    with pytest.raises(Forbidden, match="conflict of interest"):
        conflicts.check("paula", "cand-1")
    conflicts.check("peter", "cand-1")
    with pytest.raises(Forbidden, match="centre admin"):
        conflicts.override(User("peter", "proctor"), "paula", "cand-1", "no one else")
    with pytest.raises(NotFound, match="declared no conflict"):
        conflicts.override(User("admin", "centre_admin"), "peter", "cand-1", "no one else")
    conflicts.override(User("admin", "centre_admin"), "paula", "cand-1", "no other proctor in the room")
    conflicts.check("paula", "cand-1")
    assert [row[4] for row in conflicts.listing()] == ["admin"]
