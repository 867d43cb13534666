"""Sessions, bookings, the waiting list and the roster through the service API, on this run's engine;
and capacity held under concurrent bookings from real processes released together by a barrier
(run this file with INVIGIL_TEST_CENTRAL_DB=postgresql too: each test then has its own database
in the private cluster, which the child processes inherit)."""

from __future__ import annotations

import json
import multiprocessing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from exam_core.timestamps import format_time, utc_now
from item_bank_sync.context import CentralContext
from item_bank_sync.registry import accommodations, actors, conflicts, persons
from item_bank_sync.registry.errors import ConflictOfInterest, Forbidden, NotFound, Refused
from item_bank_sync.sittings import bookings, roster_for, sessions
from tests.support.registry_body import (CENTRE_ID, FORM_ID, IN_A_WEEK, MARKER, REGISTRAR, REGISTRAR_2, SCHEME_ID, Body,
                                         eligible_persons, photo_bytes, planned_session)



def test_plan_refuses_what_does_not_exist(body: Body) -> None:
    for wrong, problem in (({"centre_id": "nowhere"}, "centre"), ({"form_ids": ["F9"]}, "form F9"),
                           ({"scheme_version": 7}, "version 7"), ({"capacity": 0}, "capacity"),
                           ({"starts_at": "2001-01-01T00:00:00Z"}, "future")):
        args: dict[str, Any] = {"centre_id": CENTRE_ID, "scheme_id": SCHEME_ID, "scheme_version": 1,
                                "form_ids": [FORM_ID], "starts_at": IN_A_WEEK, "window_minutes": 60, "capacity": 2,
                                **wrong}
        with pytest.raises((Refused, NotFound), match=problem):
            sessions.plan(body.ctx, REGISTRAR, **args)
    with pytest.raises(Forbidden):
        sessions.plan(body.ctx, MARKER, centre_id=CENTRE_ID, scheme_id=SCHEME_ID, scheme_version=1,
                      form_ids=[FORM_ID], starts_at=IN_A_WEEK, window_minutes=60, capacity=2)


def test_full_session_fills_a_waiting_list_promoted_in_order(body: Body) -> None:
    session = planned_session(body)
    a, b, c, d = eligible_persons(body, 4)
    made = [bookings.book(body.ctx, actors.candidate(p), session.session_id, p) for p in (a, b, c, d)]
    assert [(x.status, x.seat) for x in made] == [("booked", 1), ("booked", 2), ("waiting", None), ("waiting", None)]
    with pytest.raises(Refused, match="already holds"):
        bookings.book(body.ctx, actors.candidate(a), session.session_id, a)
    bookings.cancel(body.ctx, actors.candidate(a), made[0].booking_id, reason="ill")
    assert (bookings.get(body.ctx, made[2].booking_id).status, bookings.get(body.ctx, made[2].booking_id).seat) == \
        ("booked", 1)
    assert bookings.get(body.ctx, made[3].booking_id).status == "waiting"
    got = sessions.get(body.ctx, session.session_id)
    assert (got.booked, got.waiting) == (2, 1)


def test_only_eligible_persons_book_and_only_for_themselves(body: Body) -> None:
    session = planned_session(body)
    (eligible,) = eligible_persons(body, 1)
    other = persons.add(body.ctx, REGISTRAR, given_name="No", family_name="App", email="no@example.org").person_id
    with pytest.raises(Refused, match="no accepted application"):
        bookings.book(body.ctx, actors.candidate(other), session.session_id, other)
    with pytest.raises(Forbidden):
        bookings.book(body.ctx, actors.candidate(other), session.session_id, eligible)
    with pytest.raises(Forbidden):
        bookings.book(body.ctx, MARKER, session.session_id, eligible)
    conflicts.declare(body.ctx, REGISTRAR, person_id=eligible, relationship="relative")
    with pytest.raises(ConflictOfInterest):
        bookings.book(body.ctx, REGISTRAR, session.session_id, eligible)
    assert bookings.book(body.ctx, REGISTRAR_2, session.session_id, eligible).status == "booked"


def test_move_to_a_free_session_and_not_to_a_full_one(body: Body) -> None:
    first, second = planned_session(body, capacity=1), planned_session(body, capacity=1)
    a, b, c = eligible_persons(body, 3)
    ba = bookings.book(body.ctx, actors.candidate(a), first.session_id, a)
    bb = bookings.book(body.ctx, actors.candidate(b), first.session_id, b)     # waiting
    moved = bookings.move(body.ctx, actors.candidate(a), ba.booking_id, second.session_id, reason="closer")
    assert (moved.session_id, moved.status, moved.seat) == (second.session_id, "booked", 1)
    assert bookings.get(body.ctx, ba.booking_id).status == "moved"
    assert bookings.get(body.ctx, bb.booking_id).seat == 1                      # promoted into the freed seat
    bc = bookings.book(body.ctx, actors.candidate(c), first.session_id, c)
    with pytest.raises(Refused, match="full"):
        bookings.move(body.ctx, actors.candidate(c), bc.booking_id, second.session_id, reason="try")


def test_no_change_within_the_cutoff(body: Body) -> None:
    soon = planned_session(body, starts_at=format_time(utc_now() + timedelta(hours=30)))
    (pid,) = eligible_persons(body, 1)
    with pytest.raises(Refused, match="within 48 hours"):
        bookings.book(body.ctx, actors.candidate(pid), soon.session_id, pid)
    settings = json.loads(body.ctx.body_path.read_text())
    body.ctx.body_path.write_text(json.dumps({**settings, "bookings": {"change_cutoff_hours": 24}}))
    booked = bookings.book(body.ctx, actors.candidate(pid), soon.session_id, pid)
    body.ctx.body_path.write_text(json.dumps({**settings, "bookings": {"change_cutoff_hours": 36}}))
    with pytest.raises(Refused, match="within 36 hours"):
        bookings.cancel(body.ctx, actors.candidate(pid), booked.booking_id, reason="late")


def test_roster_carries_seats_photo_digests_and_approved_accommodations(body: Body) -> None:
    session = planned_session(body, capacity=3)
    a, b = eligible_persons(body, 2)
    persons.set_photo(body.ctx, actors.candidate(a), a, photo_bytes())
    req = accommodations.request(body.ctx, actors.candidate(b), person_id=b, scheme_id=SCHEME_ID, scheme_version=1,
                                 requested={"extra_time_percent": 50}, reason="report")
    accommodations.approve(body.ctx, REGISTRAR, req.request_id, reasons="ok",
                           expires_on=(utc_now() + timedelta(days=30)).date().isoformat())
    ba = bookings.book(body.ctx, actors.candidate(a), session.session_id, a)
    bb = bookings.book(body.ctx, REGISTRAR, session.session_id, b)
    roster = roster_for(body.ctx, session.session_id)
    entries = {e.person_id: e for e in roster.entries}
    assert entries[a].photo_sha256 == persons.show(body.ctx, REGISTRAR, a).photo_sha256
    assert (entries[a].seat, entries[a].candidate_id, entries[a].accommodations) == (1, ba.candidate_id, {})
    assert entries[b].accommodations["extra_time_percent"] == 50
    assert entries[b].accommodation_request_id == req.request_id
    assert entries[b].candidate_id == bb.candidate_id and entries[b].name == "P1 Doe"
    assert bookings.person_of_candidate(body.ctx, bb.candidate_id) == b
    conflicts.declare(body.ctx, MARKER, person_id=b, relationship="trainer")
    with pytest.raises(ConflictOfInterest):
        bookings.check_candidate(body.ctx, MARKER, bb.candidate_id, "mark this attempt")
    bookings.check_candidate(body.ctx, MARKER, "csv-roster-candidate", "mark this attempt")   # no person: no check
    with pytest.raises(Forbidden):
        roster_for(body.ctx, session.session_id, MARKER)


def _book_after_barrier(data_dir: str, session_id: str, person_id: str, barrier: Any, out: Any) -> None:
    ctx = CentralContext(data_dir=Path(data_dir))
    try:
        barrier.wait(timeout=60)
        found = bookings.book(ctx, actors.candidate(person_id), session_id, person_id)
        out.put((person_id, found.status, found.seat))
    except Exception as exc:   # reported to the parent, which fails the test with it
        out.put((person_id, "error", repr(exc)))
    finally:
        ctx.close()


def test_capacity_holds_under_concurrent_bookings_from_processes(body: Body) -> None:
    """Four people and one of them twice (a double click), five processes released together."""
    session = planned_session(body, capacity=2)
    people = eligible_persons(body, 4)
    body.ctx.close()
    spawn = multiprocessing.get_context("spawn")
    requests = [*people, people[0]]
    barrier, out = spawn.Barrier(len(requests)), spawn.Queue()
    workers = [spawn.Process(target=_book_after_barrier,
                             args=(str(body.central.data_dir), session.session_id, p, barrier, out))
               for p in requests]
    for w in workers:
        w.start()
    results = [out.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=60)
    errors = [r for r in results if r[1] == "error"]
    assert len(errors) == 1 and errors[0][0] == people[0] and "already holds" in errors[0][2]
    assert sorted(r[2] for r in results if r[1] == "booked") == [1, 2]
    assert sum(r[1] == "waiting" for r in results) == 2
    waiting = [b.queue_position for b in bookings.list_bookings(body.ctx, REGISTRAR, session_id=session.session_id)
               if b.status == "waiting"]
    assert len(set(waiting)) == 2
