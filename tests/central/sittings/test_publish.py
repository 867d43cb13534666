"""Publishing a session (item_bank_sync/sittings/publish.py): the roster is signed by the body's key
for the session's centre with the photos and approved accommodations, each publication a newer
version, kept where the sync API and the bundle to the centre take it from; through the service and
the CLI (``sessions publish --json``, with its duty line); a profile beyond the scheme is refused
even when it reached the store; only registrars and admins publish."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import update

from exam_core import roster_wire
from exam_core.timestamps import format_time, utc_now
from item_bank_sync.db.sql import write
from item_bank_sync.registry import accommodations, actors, persons
from item_bank_sync.registry.errors import Forbidden, Refused
from item_bank_sync.registry.schema import accommodation_requests
from item_bank_sync.sittings import bookings, sessions
from item_bank_sync.sittings.publish import publish, roster_path, rosters_for
from item_bank_sync.staff.duties import DUTIES
from item_bank_sync.trust.identity import CentralKeys
from tests.support.registry_body import (ADMIN, CENTRE_ID, MARKER, REGISTRAR, SCHEME_ID, Body, eligible_persons,
                                         photo_bytes, planned_session)


def _booked_with_photo_and_accommodations(body: Body) -> tuple[sessions.Session, list[bookings.Booking], str]:
    session = planned_session(body, capacity=3)
    a, b = eligible_persons(body, 2)
    persons.set_photo(body.ctx, REGISTRAR, a, photo_bytes())
    req = accommodations.request(body.ctx, actors.candidate(b), person_id=b, scheme_id=SCHEME_ID, scheme_version=1,
                                 requested={"extra_time_percent": 50, "large_text": True}, reason="report")
    accommodations.approve(body.ctx, REGISTRAR, req.request_id, reasons="ok",
                           expires_on=(utc_now() + timedelta(days=30)).date().isoformat())
    made = [bookings.book(body.ctx, REGISTRAR, session.session_id, p) for p in (a, b)]
    return session, made, req.request_id


def _open(body: Body, session_id: str) -> roster_wire.SessionRoster:
    data = roster_path(body.ctx, CENTRE_ID, session_id).read_bytes()
    return roster_wire.open_roster(data, CentralKeys.load(body.ctx).signing.public_key(), CENTRE_ID, session_id)


def test_publish_signs_candidates_seats_photos_and_accommodations_for_the_centre(body: Body) -> None:
    session, (ba, bb), _ = _booked_with_photo_and_accommodations(body)
    summary = publish(body.ctx, REGISTRAR, session.session_id)
    assert summary | {"bytes": 0} == {"session_id": session.session_id, "centre_id": CENTRE_ID, "version": 1,
                                      "candidates": 2, "photos": 1, "bytes": 0}
    roster = _open(body, session.session_id)
    assert (roster.scheme_id, roster.scheme_version, roster.forms, roster.starts_at) == \
        (SCHEME_ID, 1, session.forms, session.starts_at)
    first, second = roster.candidates
    assert (first.candidate_id, first.seat, first.name) == (ba.candidate_id, "1", "P0 Doe")
    assert first.photo == persons.photo(body.ctx, REGISTRAR, ba.person_id)
    assert (second.candidate_id, second.photo, second.accommodations.extra_time_percent,
            second.accommodations.large_text) == (bb.candidate_id, None, 50, True)
    assert roster.accommodation_policy.max_extra_time_percent == 50
    assert sessions.get(body.ctx, session.session_id).status == "published"
    entry = [e for e in body.ctx.audit_log().entries() if e.action == "session.publish"][-1]
    assert entry.actor == REGISTRAR.name and "P0" not in json.dumps(entry.data)   # no personal data


def test_publishing_again_signs_the_next_version_without_the_cancelled(body: Body) -> None:
    session, (ba, bb), _ = _booked_with_photo_and_accommodations(body)
    publish(body.ctx, REGISTRAR, session.session_id)
    bookings.cancel(body.ctx, REGISTRAR, ba.booking_id, reason="ill")
    assert publish(body.ctx, ADMIN, session.session_id)["version"] == 2
    roster = _open(body, session.session_id)
    assert roster.version == 2 and [c.candidate_id for c in roster.candidates] == [bb.candidate_id]
    assert rosters_for(body.ctx, CENTRE_ID) == [roster_path(body.ctx, CENTRE_ID, session.session_id).read_bytes()]
    assert rosters_for(body.ctx, "centre-2") == []


def test_a_profile_beyond_the_scheme_in_the_store_is_never_signed(body: Body) -> None:
    session, _, request_id = _booked_with_photo_and_accommodations(body)
    with write(body.ctx.open_bank_db()) as conn:      # as if written past every door
        conn.execute(update(accommodation_requests).where(accommodation_requests.c.request_id == request_id)
                     .values(profile_json=json.dumps({"extra_time_percent": 200})))
    with pytest.raises(Refused, match="beyond what scheme"):
        publish(body.ctx, REGISTRAR, session.session_id)
    assert not roster_path(body.ctx, CENTRE_ID, session.session_id).exists()


def test_only_registrars_and_admins_publish_and_not_after_the_window(body: Body) -> None:
    session = planned_session(body)
    with pytest.raises(Forbidden):
        publish(body.ctx, MARKER, session.session_id)
    with pytest.raises(Forbidden):
        publish(body.ctx, actors.candidate("P-x"), session.session_id)
    with write(body.ctx.open_bank_db()) as conn:
        conn.execute(update(sessions.exam_sessions).where(sessions.exam_sessions.c.session_id == session.session_id)
                     .values(starts_at=format_time(utc_now() - timedelta(hours=2))))
    with pytest.raises(Refused, match="window is over"):
        publish(body.ctx, REGISTRAR, session.session_id)
    assert DUTIES["sessions.publish"] == (actors.REGISTRAR, actors.ADMIN)


def test_cli_sessions_publish_json(body: Body) -> None:
    session, _, _ = _booked_with_photo_and_accommodations(body)
    done = body.central.json("sessions", "publish", session.session_id, "--by", "rita")
    assert (done["version"], done["candidates"], done["photos"]) == (1, 2, 1)
    assert body.central.json("sessions", "publish", session.session_id, "--by", "rita")["version"] == 2
    refused = body.central.json("sessions", "publish", "S-nothing", "--by", "rita", code=1)
    assert "S-nothing" in refused["error"]
