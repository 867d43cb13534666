"""Staff pages of the registry and sittings in real Chromium over a real HTTPS server: the application
queue with the automatic eligibility result, decisions, the evidence viewer by role, accommodation
requests (a profile beyond the scheme refused on the page as by the CLI), sessions with capacity and
bookings with the waiting list; a declared conflict of interest refused; each role sees only what
it may (a marker: nothing; the auditor: reads, no buttons, POST refused); axe-core on each page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from exam_core.timestamps import format_time, utc_now
from item_bank_sync.portal.accounts import messages_of
from item_bank_sync.registry import accommodations, actors, applications, conflicts, evidence, persons
from item_bank_sync.sittings import bookings, sessions
from tests.support.registry_body import CENTRE_ID, FORM_ID, PDF, REGISTRAR, SCHEME_ID, Body, make_body
from tests.support.central_db import audit_of
from tests.support.staff_web import StaffWeb, axe_serious, shot

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def body(tmp_path: Path) -> Iterator[Body]:
    made = make_body(tmp_path)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def staff_web(body: Body) -> Iterator[StaffWeb]:
    """The staff application over the registry tests' body (replaces the conftest's fixture)."""
    web = StaffWeb(body.central.data_dir)
    try:
        yield web
    finally:
        web.close()


def _person(body: Body, name: str, *, experience: int = 30, decide: bool = False) -> tuple[str, str]:
    pid = persons.add(body.ctx, REGISTRAR, given_name=name, family_name="Doe", email=f"{name.lower()}@example.org",
                      date_of_birth="1990-01-01").person_id
    app = applications.submit(body.ctx, actors.candidate(pid), person_id=pid, scheme_id=SCHEME_ID, scheme_version=1,
                              answers={"education_level": "master", "experience_months": experience},
                              accept_code_of_conduct=True, body_rules_version="1")
    if decide:
        applications.decide(body.ctx, REGISTRAR, app.application_id, accept=True, reasons="met")
    return pid, app.application_id


def test_application_queue_decision_and_evidence_by_role(body, staff_web, signed_in_page) -> None:
    ann, ann_app = _person(body, "Ann")
    _bob, bob_app = _person(body, "Bob", experience=3)
    doc = evidence.add(body.ctx, actors.candidate(ann), evidence.APPLICATION, ann_app, "diploma.pdf", PDF)
    url = staff_web.url
    rita = signed_in_page("rita", ("registrar",))
    rita.get_by_role("link", name="Applications").click()
    table = rita.get_by_role("table", name="Applications submitted (2 in all")
    expect(table.get_by_role("row", name=ann_app)).to_contain_text("met")
    expect(table.get_by_role("row", name=bob_app)).to_contain_text("not_met")
    assert axe_serious(rita) == []
    shot(rita, "registry-applications")
    rita.get_by_role("link", name=ann_app).click()
    expect(rita.locator("#eligibility")).to_contain_text("experience_months")
    with rita.expect_download() as download:
        rita.get_by_role("link", name="diploma.pdf").click()
    assert Path(download.value.path()).read_bytes() == PDF
    assert axe_serious(rita) == []
    shot(rita, "registry-application")
    rita.get_by_label("Accept").check()
    rita.get_by_label("Reasons (the applicant sees them)").fill("education and experience met")
    rita.get_by_role("button", name="Record the decision").click()
    expect(rita.locator("#app-status")).to_contain_text("accepted")
    entries = [e for e in audit_of(body.central.data_dir).entries() if e.action == "application.decide"]
    assert [(e.actor, e.data["decision"]) for e in entries] == [("rita", "accepted")]
    assert [e.actor for e in audit_of(body.central.data_dir).entries() if e.action == "evidence.read"] == ["rita"]
    (told,) = messages_of(body.ctx, ann)                  # on the person's portal page (no relay configured here)
    assert told["subject"] == "Your application was accepted" and "education and experience met" in told["body"]

    rita.get_by_label("Why (checked who asks").fill("passport seen")
    rita.get_by_role("button", name="Turn off the candidate's second factor (lost phone)").click()
    expect(rita.locator(".flash")).to_contain_text("has no second factor on")      # Ann has no portal account

    # a registrar who declared a relationship with Bob cannot decide his application
    conflicts.declare(body.ctx, actors.staff("rex", "registrar"), person_id=_bob, relationship="relative")
    rex = signed_in_page("rex", ("registrar",))
    rex.goto(f"{url}/registry/applications/{bob_app}")
    rex.get_by_label("Refuse").check()
    rex.get_by_label("Reasons (the applicant sees them)").fill("not enough experience")
    rex.get_by_role("button", name="Record the decision").click()
    expect(rex.locator("main")).to_contain_text("relative")
    assert applications.show(body.ctx, REGISTRAR, bob_app).status == "submitted"

    # a marker sees none of it; the auditor reads but has no button and cannot post
    mark = signed_in_page("mark", ("marker",))
    for path in ("/registry/applications", f"/registry/applications/{ann_app}", f"/registry/evidence/{doc.document_id}",
                 "/registry/accommodations", "/sittings/sessions"):
        assert mark.goto(url + path).status == 403, path
    otto = signed_in_page("otto", ("auditor",))
    assert otto.goto(f"{url}/registry/applications/{bob_app}").status == 200
    expect(otto.get_by_role("button", name="Record the decision")).to_have_count(0)
    token = otto.locator("input[name=csrf]").first.get_attribute("value")
    answer = otto.request.post(f"{url}/registry/applications/{bob_app}/decide",
                               form={"csrf": token, "decision": "accept", "reasons": "x"})
    assert answer.status == 403


def test_accommodation_beyond_the_scheme_refused_on_the_page(body, staff_web, signed_in_page) -> None:
    ann, _app = _person(body, "Ann")
    req = accommodations.request(body.ctx, actors.candidate(ann), person_id=ann, scheme_id=SCHEME_ID,
                                 scheme_version=1, requested={"extra_time_percent": 25}, reason="dyslexia")
    rita = signed_in_page("rita", ("registrar",))
    rita.get_by_role("link", name="Accommodations").click()
    rita.get_by_role("link", name=req.request_id).click()
    expect(rita.locator("#policy")).to_contain_text("extra time at most 50 %")
    assert axe_serious(rita) == []
    shot(rita, "registry-accommodation")
    rita.get_by_label("Extra time (percent)").fill("100")
    rita.get_by_label("Approve this profile").check()
    rita.get_by_label("Reasons (the candidate sees them)").fill("letter")
    rita.get_by_role("button", name="Record the decision").click()
    expect(rita.locator("main")).to_contain_text("beyond what the scheme allows")
    assert accommodations.show(body.ctx, REGISTRAR, req.request_id).status == "requested"
    rita.go_back()
    rita.get_by_label("Extra time (percent)").fill("25")
    rita.get_by_label("Approve this profile").check()
    rita.get_by_label("Reasons (the candidate sees them)").fill("letter")
    rita.get_by_role("button", name="Record the decision").click()
    expect(rita.locator("#req-status")).to_contain_text("approved")
    assert accommodations.show(body.ctx, REGISTRAR, req.request_id).profile["extra_time_percent"] == 25


def test_sessions_capacity_and_waiting_list(body, staff_web, signed_in_page) -> None:
    ann, _ = _person(body, "Ann", decide=True)
    bob, _ = _person(body, "Bob", decide=True)
    rita = signed_in_page("rita", ("registrar",))
    rita.get_by_role("link", name="Sessions").click()
    rita.get_by_label("Centre").fill(CENTRE_ID)
    rita.get_by_label("Scheme", exact=True).fill(SCHEME_ID)
    rita.get_by_label("Scheme version").fill("1")
    rita.get_by_label("Forms (ids, separated by commas)").fill(FORM_ID)
    rita.get_by_label("Starts (UTC").fill(format_time(utc_now() + timedelta(days=14)))
    rita.get_by_label("Capacity (seats)").fill("1")
    rita.get_by_role("button", name="Plan the session").click()
    expect(rita.locator("#seats")).to_contain_text("0 of 1 booked")
    for pid in (ann, bob):
        rita.get_by_label("Person id").fill(pid)
        rita.get_by_role("button", name="Book", exact=True).click()
    expect(rita.locator("#seats")).to_contain_text("1 of 1 booked, 1 waiting")
    assert axe_serious(rita) == []
    shot(rita, "sittings-session")
    (first,) = list(bookings.list_bookings(body.ctx, REGISTRAR, person_id=ann))
    rita.get_by_role("link", name=first.booking_id).click()
    assert axe_serious(rita) == []
    rita.get_by_label("Reason", exact=True).fill("asked by phone")
    rita.get_by_role("button", name=f"Cancel booking {first.booking_id}").click()
    expect(rita.locator("#seats")).to_contain_text("1 of 1 booked, 0 waiting")
    (bobs,) = bookings.list_bookings(body.ctx, REGISTRAR, person_id=bob)
    assert (bobs.status, bobs.seat) == ("booked", 1)
    rita.goto(f"{staff_web.url}/sittings/sessions")
    assert axe_serious(rita) == []
    shot(rita, "sittings-sessions")
    done = [(e.actor, e.action) for e in audit_of(body.central.data_dir).entries()
            if e.action.startswith(("session.", "booking."))]
    assert done == [("rita", "session.plan"), ("rita", "booking.book"), ("rita", "booking.book"),
                    ("rita", "booking.cancel")]
    assert sessions.list_sessions(body.ctx)[0].capacity == 1


def _plan(body: Body, days: int, capacity: int) -> sessions.Session:
    return sessions.plan(body.ctx, REGISTRAR, centre_id=CENTRE_ID, scheme_id=SCHEME_ID, scheme_version=1,
                         form_ids=[FORM_ID], starts_at=format_time(utc_now() + timedelta(days=days)),
                         window_minutes=60, capacity=capacity)


def test_move_a_booking_to_another_session_with_room(body, staff_web, signed_in_page) -> None:
    """The booking page's move form offers only other upcoming sessions of the same scheme version
    with a free seat, calls ``bookings move`` (same audit entry as the CLI: booking.move by the
    signed-in person) and gives the freed seat to the first one waiting; with the keyboard alone."""
    ann, _ = _person(body, "Ann", decide=True)
    bob, _ = _person(body, "Bob", decide=True)
    here, there, full = _plan(body, 14, 1), _plan(body, 21, 2), _plan(body, 28, 1)
    bookings.book(body.ctx, REGISTRAR, full.session_id, _person(body, "Cy", decide=True)[0])
    anns = bookings.book(body.ctx, REGISTRAR, here.session_id, ann)
    bobs = bookings.book(body.ctx, REGISTRAR, here.session_id, bob)
    assert (anns.status, bobs.status) == ("booked", "waiting")
    rita = signed_in_page("rita", ("registrar",))
    rita.goto(f"{staff_web.url}/sittings/bookings/{anns.booking_id}")
    offered = rita.get_by_label("Session to move to").locator("option").all_inner_texts()
    assert len(offered) == 1 and there.session_id in offered[0]          # not this one, not the full one
    assert axe_serious(rita) == []
    shot(rita, "sittings-booking")
    rita.get_by_label("Session to move to").focus()
    rita.keyboard.press("Tab")
    rita.keyboard.type("asked to sit later")
    rita.keyboard.press("Tab")
    rita.keyboard.press("Enter")
    expect(rita.locator(".flash")).to_contain_text(f"Booking {anns.booking_id} moved")
    expect(rita.locator("#seats")).to_contain_text("1 of 2 booked")
    (moved,) = bookings.list_bookings(body.ctx, REGISTRAR, person_id=ann, active_only=True)
    assert (moved.session_id, moved.status) == (there.session_id, "booked")
    assert bookings.get(body.ctx, bobs.booking_id).status == "booked"   # the freed seat went to Bob
    (entry,) = [e for e in audit_of(body.central.data_dir).entries() if e.action == "booking.move"]
    assert (entry.actor, entry.data["to"], entry.data["reason"]) == ("rita", moved.booking_id, "asked to sit later")
    rita.goto(f"{staff_web.url}/sittings/bookings/{anns.booking_id}")   # a former booking: no form
    expect(rita.locator("#booking-status")).to_contain_text("moved")
    expect(rita.get_by_role("button", name=f"Move booking {anns.booking_id}")).to_have_count(0)
    # a move the service refuses (the other session filled meanwhile) is shown with its reason
    rita.goto(f"{staff_web.url}/sittings/bookings/{moved.booking_id}")
    bookings.book(body.ctx, REGISTRAR, here.session_id, _person(body, "Dee", decide=True)[0])
    token = rita.locator("input[name=csrf]").first.get_attribute("value")
    answer = rita.request.post(f"{staff_web.url}/sittings/bookings/{moved.booking_id}/move",
                               form={"csrf": token, "to_session": here.session_id, "reason": "x"})
    assert answer.status == 422 and "is full" in answer.text()


def test_lists_are_paged_in_the_database(body, staff_web, signed_in_page) -> None:
    """Sessions, a session's bookings and the application queue come a page at a time (25 here),
    with links to the next page that keep the list's choice (status, every session); only the names
    on the page shown are read."""
    people = [_person(body, f"P{i:02d}", decide=i < 27) for i in range(30)]
    session = _plan(body, 14, 40)
    for pid, _app in people[:27]:
        bookings.book(body.ctx, REGISTRAR, session.session_id, pid)
    for day in range(26):
        _plan(body, 30 + day, 1)
    rita = signed_in_page("rita", ("registrar",))
    url = staff_web.url
    rita.goto(f"{url}/sittings/sessions?size=25")
    expect(rita.get_by_role("table", name="Upcoming sessions (27 in all, 1 to 25 shown)")).to_be_visible()
    rita.get_by_role("link", name="Next").click()
    expect(rita.get_by_role("table", name="Upcoming sessions (27 in all, 26 to 27 shown)")).to_be_visible()
    rita.goto(f"{url}/sittings/sessions?all=1")
    assert rita.url.endswith("/sittings/sessions/every")
    before = sum(e.action == "person.read" for e in audit_of(body.central.data_dir).entries())
    rita.goto(f"{url}/sittings/sessions/{session.session_id}?size=25")
    expect(rita.get_by_role("table", name="Bookings (27 in all, 1 to 25 shown)")).to_be_visible()
    reads = sum(e.action == "person.read" for e in audit_of(body.central.data_dir).entries()) - before
    assert reads <= 25
    rita.get_by_role("link", name="Page 2").click()
    expect(rita.get_by_role("table", name="Bookings (27 in all, 26 to 27 shown)")).to_be_visible()
    assert axe_serious(rita) == []
    rita.goto(f"{url}/registry/applications?status=accepted&size=25")
    expect(rita.get_by_role("table", name="Applications accepted (27 in all, 1 to 25 shown)")).to_be_visible()
    rita.get_by_role("link", name="Next").click()
    expect(rita.get_by_role("table", name="Applications accepted (27 in all, 26 to 27 shown)")).to_be_visible()
    rita.goto(f"{url}/registry/applications")
    expect(rita.get_by_role("table", name="Applications submitted (3 in all")).to_be_visible()
    assert axe_serious(rita) == []
    shot(rita, "registry-applications-paged")


@pytest.mark.parametrize("role", ["item_writer", "approver", "reviewer", "psychometrician", "decision_maker"])
def test_roles_without_personal_data_see_no_registry_page(body, staff_web, signed_in_page, role) -> None:
    """Only registrar, admin and auditor read persons, applications, evidence and bookings (clause 7.3)."""
    ann, ann_app = _person(body, "Ann", decide=True)
    doc = evidence.add(body.ctx, actors.candidate(ann), evidence.APPLICATION, ann_app, "diploma.pdf", PDF)
    session = sessions.plan(body.ctx, REGISTRAR, centre_id=CENTRE_ID, scheme_id=SCHEME_ID, scheme_version=1,
                            form_ids=[FORM_ID], starts_at=format_time(utc_now() + timedelta(days=9)),
                            window_minutes=60, capacity=2)
    bookings.book(body.ctx, REGISTRAR, session.session_id, ann)
    page = signed_in_page(f"user-{role}", (role,))
    for path in ("/registry/applications", f"/registry/applications/{ann_app}", f"/registry/evidence/{doc.document_id}",
                 "/registry/accommodations", "/sittings/sessions", f"/sittings/sessions/{session.session_id}"):
        answer = page.goto(staff_web.url + path)
        assert answer.status == 403, (role, path)
        expect(page.locator("main")).not_to_contain_text("Ann")
    expect(page.get_by_role("link", name="Applications")).to_have_count(0)
