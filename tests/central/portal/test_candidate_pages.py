"""A candidate's whole path on the portal in real Chromium (phone-sized): register, confirm, apply
with the agreement, upload evidence (a hostile type refused), ask for adjustments (beyond the
scheme refused), book, move and cancel a seat, see status and messages, download their own data;
axe-core on every page, keyboard-only sign-in; another candidate gets 404 for every record of the
first. Screenshots in /tmp/invigil/shots/portal-*.png."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from datetime import timedelta
from typing import Any

import pytest
import urllib3
from playwright.sync_api import expect

from exam_core.timestamps import format_time, utc_now
from item_bank_sync.registry import accommodations, applications, persons
from item_bank_sync.sittings import bookings, sessions
from tests.support.portal_site import PASSWORD, Portal, confirmed, link_in
from tests.support.registry_body import CENTRE_ID, FORM_ID, PDF, REGISTRAR, SCHEME_ID
from tests.support.central_db import audit_of
from tests.support.staff_web import SHOTS, axe_serious

urllib3.disable_warnings()
PHONE = {"width": 390, "height": 844}


def _page(browser: Any) -> Any:
    # CSP bypassed only so axe-core can be injected; test_accounts checks the CSP itself
    context = browser.new_context(ignore_https_errors=True, bypass_csp=True, viewport=PHONE)
    return context.new_page()


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"portal-{name}.png"), full_page=True)


def _checked(page: Any, name: str) -> None:
    assert axe_serious(page) == [], name
    _shot(page, name)


def _register_in_browser(page: Any, portal: Portal, email: str) -> None:
    page.goto(f"{portal.url}/portal/register")
    _checked(page, "register")
    page.get_by_label("Given name").fill("Cara")
    page.get_by_label("Family name").fill("Doe")
    page.get_by_label("Date of birth").fill("1990-05-01")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    page.goto(link_in(portal.inbox.to(email)[0]))
    _checked(page, "confirm")
    page.get_by_role("button", name="Confirm and create my account").click()
    expect(page.get_by_role("heading", name="Cara Doe")).to_be_visible()


def _session(portal: Portal, days: int) -> str:
    return sessions.plan(portal.body.ctx, REGISTRAR, centre_id=CENTRE_ID, scheme_id=SCHEME_ID, scheme_version=1,
                         form_ids=[FORM_ID], starts_at=format_time(utc_now() + timedelta(days=days)),
                         window_minutes=60, capacity=1).session_id


def test_a_candidate_applies_books_and_downloads_their_data(portal: Portal, browser: Any, tmp_path: Any) -> None:
    page = _page(browser)
    _register_in_browser(page, portal, "cara@example.org")
    _checked(page, "home-empty")
    (person,) = persons.list_persons(portal.body.ctx, REGISTRAR, email="cara@example.org")

    page.get_by_role("link", name="Apply", exact=True).click()
    page.get_by_role("link", name="Certified Practitioner").click()
    expect(page.locator("#agreement")).to_contain_text("I will not disclose exam content.")
    page.get_by_label("Highest education completed").select_option("master")
    page.get_by_label("Relevant experience (months)").fill("30")
    page.get_by_role("button", name="Send my application").click()
    expect(page.locator("#form-error")).to_contain_text("agreement")            # not accepted: refused
    _checked(page, "apply-refused")
    page.get_by_label("I accept the code of conduct").check()
    page.get_by_role("button", name="Send my application").click()
    expect(page.get_by_role("heading", name="Application sent")).to_be_visible()
    (application,) = applications.list_applications(portal.body.ctx, REGISTRAR, person_id=person.person_id)
    assert application.agreement["body_rules_version"] == "1" and application.eligibility["result"] == "met"

    page.get_by_role("link", name="My page", exact=True).click()
    hostile = tmp_path / "letter.pdf"
    hostile.write_bytes(b"<html><script>alert(1)</script></html>")
    page.locator(".application input[type=file]").set_input_files(str(hostile))
    page.locator(".application").get_by_role("button", name="Upload").click()
    expect(page.locator("#notice")).to_contain_text("only PDF, PNG or JPEG")
    good = tmp_path / "diploma.pdf"
    good.write_bytes(PDF)
    page.goto(f"{portal.url}/portal/")
    page.locator(".application input[type=file]").set_input_files(str(good))
    page.locator(".application").get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", name="Document added")).to_be_visible()

    page.get_by_role("link", name="Adjustments").click()
    page.get_by_label("Extra time (percent)").fill("100")                     # the scheme allows 50
    page.get_by_label("Why you need them").fill("dyslexia")
    page.get_by_role("button", name="Send my request").click()
    expect(page.locator("#form-error")).to_contain_text("beyond what the scheme allows")
    _checked(page, "accommodations-refused")
    page.get_by_label("Extra time (percent)").fill("25")
    page.get_by_role("button", name="Send my request").click()
    expect(page.get_by_role("heading", name="Request sent")).to_be_visible()

    applications.decide(portal.body.ctx, REGISTRAR, application.application_id, accept=True, reasons="met")
    (request,) = accommodations.list_requests(portal.body.ctx, REGISTRAR, person_id=person.person_id)
    accommodations.approve(portal.body.ctx, REGISTRAR, request.request_id, reasons="letter",
                           expires_on=(utc_now() + timedelta(days=200)).date().isoformat())
    first, second = _session(portal, 10), _session(portal, 20)
    page.get_by_role("link", name="Book a seat").click()
    page.locator(".session").first.get_by_role("button").click()
    expect(page.get_by_role("heading", name="Your booking is made.")).to_be_visible()
    page.get_by_role("link", name="Book a seat").click()
    _checked(page, "sessions")
    page.get_by_role("button", name="Move").click()
    expect(page.get_by_role("heading", name="Your booking is moved.")).to_be_visible()
    (active,) = bookings.list_bookings(portal.body.ctx, REGISTRAR, person_id=person.person_id, active_only=True)
    assert active.session_id == second
    page.get_by_role("link", name="Book a seat").click()
    page.get_by_role("button", name="Cancel this booking").click()
    expect(page.get_by_role("heading", name="Your booking is cancelled.")).to_be_visible()
    page.get_by_role("link", name="Book a seat").click()
    page.locator(".session").first.get_by_role("button").click()

    page.get_by_role("link", name="My page", exact=True).click()
    expect(page.locator(".application")).to_contain_text("accepted")
    expect(page.locator(".request")).to_contain_text("approved")
    expect(page.locator(".booking")).to_have_count(3)
    expect(page.locator(".message")).to_have_count(5)        # received, booked, moved, cancelled, booked
    expect(page.locator(".message").last).to_contain_text("Application received")
    assert len(portal.inbox.to("cara@example.org", count=6)) == 6    # the confirmation link and the five
    _checked(page, "home")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download my data").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    data = json.loads(archive.read("data.json"))
    assert data["person"]["email"] == "cara@example.org" and len(data["applications"]) == 1
    assert next(n for n in archive.namelist() if n.startswith("evidence/")).endswith("diploma.pdf")
    assert archive.read(next(n for n in archive.namelist() if n.startswith("evidence/"))) == PDF

    actor = f"person:{person.person_id}"
    done = [e.action for e in audit_of(portal.body.central.data_dir).entries() if e.actor == actor]
    for action in ("application.submit", "evidence.add", "accommodation.request", "booking.book", "booking.move",
                   "booking.cancel", "evidence.read"):
        assert action in done, action
    assert first != second


def test_another_candidate_sees_none_of_it(portal: Portal, browser: Any) -> None:
    """Every record of one person answered 404 to another signed-in candidate (pages and changes)."""
    cara = confirmed(portal, "cara@example.org")
    (person,) = persons.list_persons(portal.body.ctx, REGISTRAR, email="cara@example.org")
    application = applications.submit(portal.body.ctx, REGISTRAR, person_id=person.person_id, scheme_id=SCHEME_ID,
                                      scheme_version=1, answers={"education_level": "master",
                                                                 "experience_months": 30},
                                      accept_code_of_conduct=True, body_rules_version="1")
    applications.decide(portal.body.ctx, REGISTRAR, application.application_id, accept=True, reasons="met")
    booking = bookings.book(portal.body.ctx, REGISTRAR, _session(portal, 10), person.person_id)
    eve = confirmed(portal, "eve@example.org", given="Eve", family="Other")
    token = _csrf(eve, portal)
    for path in (f"/portal/applications/{application.application_id}/evidence",
                 f"/portal/bookings/{booking.booking_id}/cancel", f"/portal/bookings/{booking.booking_id}/move"):
        answer = eve.post(portal.url + path, data={"csrf": token}, files={"document": ("x.pdf", PDF)})
        assert answer.status_code == 404, path
    home = eve.get(f"{portal.url}/portal/").text
    assert "cara" not in home.lower() and application.application_id not in home
    export = eve.get(f"{portal.url}/portal/export").content
    assert b"cara" not in zipfile.ZipFile(io.BytesIO(export)).read("data.json").lower()
    assert bookings.get(portal.body.ctx, booking.booking_id).status == "booked"
    assert "Cara" in cara.get(f"{portal.url}/portal/").text


def _csrf(http: Any, portal: Portal) -> str:
    from tests.support.portal_site import csrf_of
    return csrf_of(http.get(f"{portal.url}/portal/").text)


def test_keyboard_only_sign_in(portal: Portal, browser: Any) -> None:
    confirmed(portal, "kim@example.org")
    page = _page(browser)
    page.goto(f"{portal.url}/portal/reset")
    _checked(page, "reset")
    page.goto(f"{portal.url}/portal/signin")
    _checked(page, "signin")
    page.keyboard.press("Tab")
    for _ in range(8):
        if page.evaluate("document.activeElement.id") == "email":
            break
        page.keyboard.press("Tab")
    page.keyboard.type("kim@example.org")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Cara Doe")).to_be_visible()
    page.goto(f"{portal.url}/portal/security")
    _checked(page, "security")
    strict = browser.new_context(ignore_https_errors=True, viewport=PHONE)     # the CSP as served
    real = strict.new_page()
    strict.add_cookies(page.context.cookies())
    real.goto(f"{portal.url}/portal/security")
    assert real.locator("img.qr").evaluate("img => img.complete && img.naturalWidth > 0")
    strict.close()


pytestmark = pytest.mark.timeout(300)
