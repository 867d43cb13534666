"""Applications with the applicant agreement, the registrar's decision and an appeal lodged;
conflicts of interest refusing a related registrar; accommodations approved only within the scheme."""

from __future__ import annotations

from datetime import timedelta

import pytest

from exam_core.timestamps import utc_now
from item_bank_sync.registry import accommodations, actors, applications, conflicts, persons
from item_bank_sync.registry.errors import ConflictOfInterest, Forbidden, Refused
from tests.support.registry_body import ADMIN, MARKER, REGISTRAR, REGISTRAR_2, SCHEME_ID, Body
from tests.support.central_db import audit_of

GOOD = {"education_level": "master", "experience_months": 30}
NEXT_YEAR = (utc_now() + timedelta(days=365)).date().isoformat()


def _person(body: Body, email: str = "ann@example.org", dob: str = "1990-05-01") -> str:
    return persons.add(body.ctx, REGISTRAR, given_name="Ann", family_name="Smith", email=email,
                       date_of_birth=dob).person_id


def _submit(body: Body, person_id: str, answers: dict | None = None) -> applications.Application:
    return applications.submit(body.ctx, actors.candidate(person_id), person_id=person_id, scheme_id=SCHEME_ID,
                               scheme_version=1, answers=GOOD if answers is None else answers,
                               accept_code_of_conduct=True, body_rules_version="2026-1")


def test_submit_records_agreement_and_automatic_eligibility(body: Body) -> None:
    pid = _person(body)
    app = _submit(body, pid)
    assert app.status == applications.SUBMITTED and app.eligibility["result"] == "met"
    assert app.agreement["body_rules_version"] == "2026-1" and len(app.agreement["code_of_conduct"]["sha256"]) == 64
    assert app.agreement["accepted_by"] == f"person:{pid}"
    with pytest.raises(Refused, match="already submitted"):
        _submit(body, pid)
    with pytest.raises(Refused, match="code of conduct"):
        applications.submit(body.ctx, REGISTRAR, person_id=_person(body, "b@example.org"), scheme_id=SCHEME_ID,
                            scheme_version=1, answers=GOOD, accept_code_of_conduct=False, body_rules_version="1")


def test_too_young_and_inexperienced_is_not_met_and_refused_then_appealed(body: Body) -> None:
    pid = _person(body, dob=(utc_now() - timedelta(days=365 * 16)).date().isoformat())
    app = _submit(body, pid, {"education_level": "secondary", "experience_months": 3})
    assert app.eligibility["result"] == "not_met"
    assert [r["result"] for r in app.eligibility["rules"]] == ["not_met", "not_met", "not_met"]
    refused = applications.decide(body.ctx, REGISTRAR, app.application_id, accept=False,
                                  reasons="prerequisites not met")
    assert refused.status == applications.REFUSED and refused.appeal_possible
    with pytest.raises(Refused, match="not submitted"):
        applications.decide(body.ctx, REGISTRAR, app.application_id, accept=True, reasons="changed my mind")
    appealed = applications.lodge_appeal(body.ctx, actors.candidate(pid), app.application_id, note="I disagree")
    assert appealed.appeal_lodged_at and not appealed.appeal_possible and appealed.appeal_note == "I disagree"
    entry = [e for e in audit_of(body.central.data_dir).entries() if e.action == "application.appeal"][-1]
    assert "I disagree" not in str(entry.data)
    with pytest.raises(Refused, match="once"):
        applications.lodge_appeal(body.ctx, actors.candidate(pid), app.application_id)


def test_only_a_registrar_decides_with_reasons(body: Body) -> None:
    pid = _person(body)
    app = _submit(body, pid)
    for actor in (ADMIN, MARKER, actors.candidate(pid)):
        with pytest.raises(Forbidden):
            applications.decide(body.ctx, actor, app.application_id, accept=True, reasons="ok")
    with pytest.raises(Refused, match="reasons"):
        applications.decide(body.ctx, REGISTRAR, app.application_id, accept=True, reasons="  ")
    accepted = applications.decide(body.ctx, REGISTRAR, app.application_id, accept=True, reasons="all met")
    assert accepted.valid_on(utc_now()) and not accepted.valid_on(utc_now() + timedelta(days=400))
    assert applications.valid_application(body.ctx, pid, SCHEME_ID, 1) == accepted
    entry = [e for e in audit_of(body.central.data_dir).entries() if e.action == "application.decide"][-1]
    assert (entry.actor, entry.data["decision"], entry.data["reasons"]) == ("rita", "accepted", "all met")


def test_a_related_registrar_cannot_decide_and_another_can(body: Body) -> None:
    pid = _person(body)
    app = _submit(body, pid)
    declared = conflicts.declare(body.ctx, REGISTRAR, person_id=pid, relationship="trainer", note="ran her course")
    with pytest.raises(ConflictOfInterest, match="trainer"):
        applications.decide(body.ctx, REGISTRAR, app.application_id, accept=True, reasons="ok")
    decided = applications.decide(body.ctx, REGISTRAR_2, app.application_id, accept=True, reasons="ok")
    assert decided.status == "accepted"
    assert [d.conflict_id for d in conflicts.list_declarations(body.ctx, MARKER)] == []
    listed = conflicts.list_declarations(body.ctx, ADMIN, person_id=pid)
    assert [d.conflict_id for d in listed] == [declared.conflict_id]
    with pytest.raises(Forbidden):
        conflicts.withdraw(body.ctx, REGISTRAR_2, declared.conflict_id, "not mine")
    conflicts.withdraw(body.ctx, REGISTRAR, declared.conflict_id, "course ended five years ago")
    conflicts.check(body.ctx, REGISTRAR, pid, "decide")   # no longer refused
    with pytest.raises(Refused):
        conflicts.declare(body.ctx, REGISTRAR, person_id=pid, relationship="friend")
    with pytest.raises(Forbidden):
        conflicts.declare(body.ctx, MARKER, person_id=pid, relationship="relative", staff="rita")


@pytest.mark.parametrize("requested, problem", [
    ({"extra_time_percent": 100}, "allows at most 50"),
    ({"screen_reader": True}, "does not allow"),
    ({"text_to_speech": True, "large_text": True}, "does not allow"),
    ({"zoom_percent": 9000}, "zoom_percent"),
    ({"unknown": 1}, "unknown"),
    ({}, "no adjustment"),
])
def test_accommodation_beyond_the_scheme_refused_at_request(body: Body, requested: dict, problem: str) -> None:
    pid = _person(body)
    with pytest.raises(Refused, match=problem):
        accommodations.request(body.ctx, actors.candidate(pid), person_id=pid, scheme_id=SCHEME_ID, scheme_version=1,
                               requested=requested, reason="dyslexia")


def test_accommodation_approved_within_the_scheme_with_expiry_and_never_beyond(body: Body) -> None:
    pid = _person(body)
    req = accommodations.request(body.ctx, actors.candidate(pid), person_id=pid, scheme_id=SCHEME_ID,
                                 scheme_version=1, requested={"extra_time_percent": 25, "large_text": True},
                                 reason="dyslexia")
    with pytest.raises(Refused, match="does not allow"):
        accommodations.approve(body.ctx, REGISTRAR, req.request_id, expires_on=NEXT_YEAR, reasons="ok",
                               profile={"extra_time_percent": 25, "screen_reader": True})
    with pytest.raises(Refused, match="expires_on"):
        accommodations.approve(body.ctx, REGISTRAR, req.request_id, expires_on="2020-01-01", reasons="ok")
    conflicts.declare(body.ctx, REGISTRAR_2, person_id=pid, relationship="employer")
    with pytest.raises(ConflictOfInterest):
        accommodations.approve(body.ctx, REGISTRAR_2, req.request_id, expires_on=NEXT_YEAR, reasons="ok")
    done = accommodations.approve(body.ctx, REGISTRAR, req.request_id, expires_on=NEXT_YEAR, reasons="report seen")
    assert done.status == "approved" and done.profile is not None and done.profile["extra_time_percent"] == 25
    active = accommodations.active_profile(body.ctx, pid, SCHEME_ID, 1, utc_now().date())
    assert active is not None and active[0] == req.request_id and active[1].large_text
    later = utc_now().date() + timedelta(days=400)
    assert accommodations.active_profile(body.ctx, pid, SCHEME_ID, 1, later) is None
    with pytest.raises(Refused, match="approved, not requested"):
        accommodations.refuse(body.ctx, REGISTRAR, req.request_id, reasons="no")


def test_a_candidate_lists_only_their_own_records(body: Body) -> None:
    ann, bob = _person(body), _person(body, "bob@example.org")
    mine = _submit(body, ann)
    _submit(body, bob)
    as_ann = actors.candidate(ann)
    assert [a.application_id for a in applications.list_applications(body.ctx, as_ann, person_id=ann)] == \
        [mine.application_id]
    for person_id in (bob, None):
        with pytest.raises(Forbidden):
            applications.list_applications(body.ctx, as_ann, person_id=person_id)
        with pytest.raises(Forbidden):
            accommodations.list_requests(body.ctx, as_ann, person_id=person_id)
    with pytest.raises(Forbidden):
        applications.show(body.ctx, as_ann, _submit(body, _person(body, "c@example.org")).application_id)
    assert len(applications.list_applications(body.ctx, REGISTRAR)) == 3
