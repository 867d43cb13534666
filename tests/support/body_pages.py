"""What the staff pages of schemes/forms, centres, intake and review share in their tests.

``audit_entries``  the central audit chain's entries of one action (actor and data parsed), for the
                   parity tests: the page and the CLI must write the same entry with the same actor.
``look``           axe-core's serious and critical violations of a page, and its screenshot as
                   /tmp/invigil/shots/body-NAME.png (to look at by hand).
``results_world``  a central body with real sealed envelopes taken in (tests/support/central_world.py)
                   whose proctor is a member of staff, for the intake and decision pages.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from exam_core.sync_wire import EnvelopeMeta, Incident
from item_bank_sync.results.intake import Intake
from tests.support.central_db import central_db, rows
from tests.support.central_world import CENTRE_ID, World, build_world
from tests.support.staff_web import SHOTS, axe_serious

#: The proctor of every attempt of ``results_world`` (also made a member of staff by the tests).
PROCTOR = "pat.proctor"


def audit_entries(data_dir: Path, action: str) -> list[dict[str, Any]]:
    """``{"actor", "data"}`` of every entry of ``action``, oldest first."""
    found = rows(central_db(data_dir).bank, "SELECT actor, data FROM audit_log WHERE action = ? ORDER BY seq", action)
    return [{"actor": actor, "data": json.loads(data)} for actor, data in found]


def look(page: Any, name: str) -> list[dict[str, Any]]:
    """Screenshot the page as body-NAME.png and return its serious/critical axe-core violations."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"body-{name}.png"), full_page=True)
    return [{"id": v["id"], "nodes": [n["target"] for n in v["nodes"]][:3]} for v in axe_serious(page)]


#: What the console reports with each envelope: one monitoring alert (a rule fired) and one
#: proctor's incident report (no rule).
INCIDENTS = (Incident(kind="face.missing", severity="medium", at="2026-11-26T10:05:00Z", rule="face_absent"),
             Incident(kind="proctor.note", severity="low", at="2026-11-26T10:07:00Z"))


def results_world(data_dir: Path, attempts: dict[str, dict[str, Any]], cut_score: float = 3.0) -> World:
    """A world whose envelopes for ``attempts`` (attempt id -> answers) are taken in, proctored by
    PROCTOR, each with INCIDENTS."""
    world = build_world(data_dir, cut_score=cut_score)
    db = central_db(data_dir)
    intake = Intake(db.bank, db.results, world.keys, [])
    for attempt_id, answers in attempts.items():
        intake.receive(world.seal(attempt_id, answers), CENTRE_ID,
                       EnvelopeMeta(proctors=(PROCTOR,), incidents=INCIDENTS))
    return world


def origin(page: Any) -> str:
    """``https://127.0.0.1:PORT`` of the page's server."""
    return "/".join(page.url.split("/")[:3])
