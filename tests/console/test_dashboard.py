"""The dashboard's tiles and pushes, on the console's own records (no socket: ``emit`` is captured)."""

from __future__ import annotations

from typing import Any

from exam_core import protocol
from exam_core.model import Accommodations, Attempt
from proctor_console import services
from proctor_console.attempts import Attempts
from proctor_console.context import ConsoleContext
from proctor_console.dashboard import Dashboard, Room
from tests.support.console_world import ROSTER, ConsoleSetup


def _dashboard(ctx: ConsoleContext) -> tuple[Dashboard, list[tuple[str, Any]]]:
    pushed: list[tuple[str, Any]] = []
    dashboard = Dashboard(Room(), Attempts(ctx.db), services.roster(ctx), services.alerts(ctx),
                          lambda event, data: pushed.append((event, data)), ctx.media_dir / "thumbnails")
    return dashboard, pushed


def _admit(ctx: ConsoleContext, attempt_id: str, kiosk_id: str, candidate_id: str) -> None:
    Attempts(ctx.db).create(Attempt(attempt_id=attempt_id, candidate_id=candidate_id, form_id="form-1", form_version=1,
                                    package_id="pkg-open", centre_id="centre-1", kiosk_id=kiosk_id, option_seed=1,
                                    state="admitted", candidate_name="", seat="", accommodations=Accommodations(),
                                    duration_seconds=3600), "paula")


def test_a_tile_shows_the_current_attempts_candidate_and_open_alerts(bare_console: ConsoleSetup) -> None:
    ctx = ConsoleContext(bare_console.data)
    services.roster(ctx).import_csv(ROSTER.encode(), "roster.csv", "admin")
    dashboard, pushed = _dashboard(ctx)
    dashboard.refresh_tile("kiosk-1")
    assert pushed[-1][1]["candidate_id"] is None and pushed[-1][1]["status"] == "offline"
    _admit(ctx, "att-1", "kiosk-1", "cand-2")
    services.alerts(ctx).raise_alert(kiosk_id="kiosk-1", attempt_id="att-1", rule="r", kind="face.absent",
                                     severity="high", thresholds={}, evidence={})
    dashboard.refresh_tile("kiosk-1")
    event, tile = pushed[-1]
    assert event == protocol.PROCTOR_KIOSK
    assert (tile["attempt_id"], tile["candidate_name"], tile["seat"], tile["state"], tile["open_alerts"]) == (
        "att-1", "Alan Turing", "A2", "admitted", 1)
    dashboard.room.attach("kiosk-1", "sid-1")
    assert dashboard.room.tile("kiosk-1").status == "admitted"
    assert dashboard.snapshot()["alerts"][0]["kiosk_id"] == "kiosk-1"


def test_alerts_and_thumbnails_reach_the_proctors(bare_console: ConsoleSetup) -> None:
    ctx = ConsoleContext(bare_console.data)
    dashboard, pushed = _dashboard(ctx)
    alert_id = services.alerts(ctx).raise_alert(kiosk_id="kiosk-2", attempt_id=None, rule="r", kind="input.paste",
                                                severity="medium", thresholds={}, evidence={"chars": 400})
    dashboard.push_alert(alert_id)
    assert [event for event, _ in pushed] == [protocol.PROCTOR_ALERT, protocol.PROCTOR_KIOSK]
    assert pushed[0][1]["evidence"] == {"chars": 400} and pushed[1][1]["open_alerts"] == 1
    dashboard.save_thumbnail("kiosk-2", b"\xff\xd8jpeg")
    assert (ctx.media_dir / "thumbnails" / "kiosk-2.jpg").read_bytes() == b"\xff\xd8jpeg"
    assert dashboard.room.tile("kiosk-2").to_dict()["thumbnail_url"] == "/media/thumbnails/kiosk-2.jpg?v=1"


def test_a_pinned_kiosk_shows_its_seat_free_or_taken_and_no_label_once_unpinned(bare_console: ConsoleSetup) -> None:
    """The seat a centre admin pinned wins over the candidate's roster seat; unpinned, a free tile has none."""
    ctx = ConsoleContext(bare_console.data)
    services.roster(ctx).import_csv(ROSTER.encode(), "roster.csv", "admin")
    pinned = {"kiosk-1": "D4"}
    dashboard = Dashboard(Room(), Attempts(ctx.db), services.roster(ctx), services.alerts(ctx),
                          lambda event, data: None, ctx.media_dir / "thumbnails", lambda k: pinned.get(k, ""))
    tile = dashboard.room.tile("kiosk-1")
    dashboard.refresh_tile("kiosk-1")
    assert tile.seat == "D4" and tile.candidate_id is None
    pinned.clear()
    dashboard.refresh_tile("kiosk-1")
    assert tile.seat == ""
    _admit(ctx, "att-1", "kiosk-1", "cand-2")                          # roster seat A2
    dashboard.refresh_tile("kiosk-1")
    assert (tile.seat, tile.candidate_id) == ("A2", "cand-2")
    pinned["kiosk-1"] = "D4"
    dashboard.refresh_tile("kiosk-1")
    assert (tile.seat, tile.candidate_id) == ("D4", "cand-2")
