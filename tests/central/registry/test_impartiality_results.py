"""A marker or decider who declared a relationship with a person cannot mark or decide that person's
attempt (the attempt's candidate id maps to the person through their booking); a CSV-roster
attempt, which maps to no person, is unaffected. Real intake of a sealed envelope, the real CLI."""

from __future__ import annotations

from pathlib import Path

from exam_core.sync_wire import EnvelopeMeta
from exam_core.timestamps import utc_text
from item_bank_sync.registry import actors, conflicts, persons
from item_bank_sync.results.intake import Intake
from tests.support.central_cli import Central
from tests.support.central_db import bank_of, central_db, execute, value
from tests.support.central_world import CENTRE_ID, build_world


def test_related_marker_and_decider_refused_others_not(tmp_path: Path) -> None:
    world = build_world(tmp_path / "central", cut_score=5.0)
    stores = central_db(world.data_dir)
    intake = Intake(stores.bank, stores.results, world.keys, [])
    for attempt in ("att-1", "att-2"):
        intake.receive(world.seal(attempt, {"q1": "A", "q2": ["A", "C"], "q3": "An essay"}), CENTRE_ID,
                       EnvelopeMeta(proctors=("Pat Proctor",)))
    ctx = world.context
    pid = persons.add(ctx, actors.staff("ada", actors.ADMIN), given_name="Ann", family_name="Lee",
                      email="ann@example.org").person_id
    bank_of(world.data_dir)["bookings"].insert({
        "booking_id": "B-0000000000000001", "session_id": "S-0000000000000001", "person_id": pid,
        "application_id": "A-0000000000000001", "candidate_id": "C-0000000000000001", "status": "booked", "seat": 1,
        "queue_position": 1, "created_at": utc_text(), "created_by": "test"})
    execute(stores.results, "UPDATE attempts SET candidate_id = ? WHERE attempt_id = ?", "C-0000000000000001", "att-1")
    conflicts.declare(ctx, actors.staff("Mia Marker", "marker"), person_id=pid, relationship="relative")
    conflicts.declare(ctx, actors.staff("Dee Decider", "decision_maker"), person_id=pid, relationship="trainer")
    ctx.close()
    cli = Central(world.data_dir)
    task = value(stores.results, "SELECT task_id FROM marking_tasks WHERE attempt_id = ?", "att-1")
    other = value(stores.results, "SELECT task_id FROM marking_tasks WHERE attempt_id = ?", "att-2")
    refused = cli.json("marking", "mark", str(task), "--by", "mia  MARKER", "--score", "3", code=1)
    assert "relative" in refused["error"]
    cli.json("marking", "mark", str(other), "--by", "Mia Marker", "--score", "3")     # CSV-roster attempt
    cli.json("marking", "mark", str(task), "--by", "Max Marker", "--score", "3")
    assert "trainer" in cli.json("decide", "att-1", "--by", "Dee Decider", "--outcome", "fail", "--reason", "x",
                                 code=1)["error"]
