"""A central body with results to release and appeal: one attempt that passed (``PASSED``) and one
that failed (``FAILED``; one monitoring alert and one proctor's incident report), both received as
sealed envelopes through intake (proctored by ``PROCTOR``), their essays marked by two markers and
decided by ``DECIDER``. The form's items are placed in two blueprint areas, so a failed candidate's
report shows per-area feedback.

The cut (5.5 of 7) is such that correcting the key of q1 turns the pass (6) into a fail (5).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select, update

from exam_core.sync_wire import EnvelopeMeta, Incident
from exam_core.timestamps import utc_text
from item_bank_sync.bank.schema import forms, items
from item_bank_sync.certificates.settings import IssuerSettings, save_settings
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import write
from item_bank_sync.registry import actors, persons
from item_bank_sync.results.decisions import decide
from item_bank_sync.results.intake import Intake
from item_bank_sync.results.marking import record_mark
from tests.support.central_certificates import DECIDER, MARKERS, PROCTOR, PUBLIC_URL, pass_attempt
from tests.support.central_db import bank_of, central_db, execute, sql
from tests.support.central_world import CENTRE_ID, FORM_ID, FORM_VERSION, World, build_world

PASSED = "att-1"
FAILED = "att-f"
CUT = 5.5
AREAS = {"q1": "Safety", "q2": "Safety", "q3": "Practice"}

__all__ = ["AREAS", "CUT", "DECIDER", "FAILED", "MARKERS", "PASSED", "PROCTOR", "Results", "book_person",
           "correct_key", "results_world"]


@dataclass
class Results:
    world: World
    ctx: CentralContext


def _place_in_areas(ctx: CentralContext) -> None:
    f = forms.c
    with write(ctx.open_bank_db()) as conn:
        doc = json.loads(conn.execute(select(f.form_json).where(f.form_id == FORM_ID,
                                                                f.version == FORM_VERSION)).scalar_one())
        for ref in doc["items"]:
            ref["area"] = AREAS[ref["item_id"]]
        conn.execute(update(forms).where(f.form_id == FORM_ID, f.version == FORM_VERSION)
                     .values(form_json=json.dumps(doc)))


def _fail_attempt(world: World, attempt_id: str) -> None:
    stores = central_db(world.data_dir)
    intake = Intake(stores.bank, stores.results, world.keys, [])
    answers = {"q1": "B", "q2": ["A", "B"], "q3": "A short essay"}
    reported = (Incident(kind="face.missing", severity="medium", at=utc_text(), rule="face_absent"),
                Incident(kind="proctor.note", severity="low", at=utc_text()))
    intake.receive(world.seal(attempt_id, answers), CENTRE_ID, EnvelopeMeta(proctors=(PROCTOR,), incidents=reported))
    task = sql(stores.results).execute("SELECT task_id FROM marking_tasks WHERE attempt_id = ?",
                                       [attempt_id]).fetchone()[0]
    for marker in MARKERS:
        record_mark(stores.results, task, marker, 1)
    decide(stores.results, attempt_id, DECIDER, "fail", "below the cut score")


def results_world(data_dir: Path) -> Results:
    """The world described in the module's doc (close ``ctx`` at the end)."""
    world = build_world(data_dir, cut_score=CUT)
    ctx = CentralContext(data_dir=data_dir)
    _place_in_areas(ctx)
    save_settings(ctx, IssuerSettings(public_url=PUBLIC_URL))
    pass_attempt(world, PASSED)
    _fail_attempt(world, FAILED)
    return Results(world, ctx)


def correct_key(ctx: CentralContext, item_id: str, correct: str) -> str:
    """A corrected version 2 of ``item_id`` whose key is ``correct``; returns ``ITEM@2``."""
    i = items.c
    with write(ctx.open_bank_db()) as conn:
        row = dict(conn.execute(select(items).where(i.item_id == item_id, i.version == 1)).mappings().one())
        key = json.loads(row["key_json"])
        key["version"] = 2
        key["responses"][0]["correct"] = correct
        conn.execute(insert(items).values(**{**row, "version": 2, "key_json": json.dumps(key)}))
    return f"{item_id}@2"


def book_person(results: Results, attempt_id: str, email: str, n: int = 1) -> str:
    """Make ``attempt_id``'s candidate a registry person with ``email`` (as a booking does); returns
    the person's id. ``n`` keeps the booking's ids apart when several are made."""
    admin = actors.staff("ada", actors.ADMIN)
    pid = persons.add(results.ctx, admin, given_name="Ann", family_name=f"Lee{n}", email=email).person_id
    candidate = f"C-{n:016d}"
    bank_of(results.world.data_dir)["bookings"].insert({
        "booking_id": f"B-{n:016d}", "session_id": "S-0000000000000001", "person_id": pid,
        "application_id": f"A-{n:016d}", "candidate_id": candidate, "status": "booked", "seat": n,
        "queue_position": n, "created_at": utc_text(), "created_by": "test"})
    execute(central_db(results.world.data_dir).results, "UPDATE attempts SET candidate_id = ? WHERE attempt_id = ?",
            candidate, attempt_id)
    return str(pid)
