"""A candidate changes their e-mail address and closes their account on the real portal, in real
Chromium at 390 px with axe-core on every page: the change is confirmed from the new address (a
signed, single-use link), the old address is told when it is asked and when it is done, the person
record follows, an address another record holds changes nothing (and the page says the same); the
closure asks for the password and a tick, says what the body keeps, stops sign-in and the open
session, keeps the person record, and is audited; it waits until no seat is booked.
Screenshots in /tmp/invigil/shots/portal-account-*.png."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import urllib3
from playwright.sync_api import expect

from exam_core.timestamps import format_time, utc_now
from item_bank_sync.registry import applications, persons
from item_bank_sync.sittings import bookings, sessions
from tests.support.central_db import audit_of
from tests.support.portal_site import PASSWORD, Portal, body_text, confirmed, csrf_of
from tests.support.registry_body import CENTRE_ID, FORM_ID, REGISTRAR, SCHEME_ID
from tests.support.staff_web import SHOTS, axe_serious

urllib3.disable_warnings()
PHONE = {"width": 390, "height": 844}


def _browser_as(browser: Any, portal: Portal, email: str) -> Any:
    """A phone-sized page signed in as a newly confirmed candidate (the session cookie of the HTTP
    client that went through registration). CSP bypassed only so axe-core can be injected."""
    http = confirmed(portal, email)
    context = browser.new_context(ignore_https_errors=True, bypass_csp=True, viewport=PHONE)
    context.add_cookies([{"name": c.name, "value": c.value or "", "url": f"{portal.url}/portal/"}
                         for c in http.cookies])
    return context.new_page()


def _checked(page: Any, name: str) -> None:
    assert axe_serious(page) == [], name
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"portal-account-{name}.png"), full_page=True)


def _link(portal: Portal, message: Any) -> str:
    found = re.search(r"https://\S+/portal/email/\S+", body_text(message))
    assert found, body_text(message)
    return found.group(0).replace("https://127.0.0.1", portal.url.rsplit(":", 1)[0])


def test_change_of_address_confirmed_from_the_new_one(portal: Portal, browser: Any) -> None:
    page = _browser_as(browser, portal, "cara@example.org")
    page.goto(f"{portal.url}/portal/")
    page.get_by_role("link", name="My account").click()
    expect(page.locator("#current-email")).to_have_text("cara@example.org")
    _checked(page, "page")
    page.get_by_label("New e-mail address").fill("dora@example.org")
    page.locator("#password").fill("not my password")
    page.get_by_role("button", name="Send the link").click()
    expect(page.locator("#password + .error, #password ~ .error")).to_contain_text("not your current password")
    _checked(page, "refused")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check the new address")).to_be_visible()
    assert "dora@example.org" in body_text(portal.inbox.to("cara@example.org", count=2)[-1])  # the old one told
    page.goto(_link(portal, portal.inbox.to("dora@example.org")[0]))
    _checked(page, "confirm")
    page.get_by_role("button", name="Confirm my new address").click()
    expect(page.get_by_role("heading", name="Address changed")).to_be_visible()
    told = portal.inbox.to("cara@example.org", count=3)
    assert told[-1]["Subject"] == "Your e-mail address was changed"
    assert [p.email for p in persons.list_persons(portal.body.ctx, REGISTRAR, email="dora@example.org")]
    assert not persons.list_persons(portal.body.ctx, REGISTRAR, email="cara@example.org")
    again = portal.client()
    form = again.get(f"{portal.url}/portal/signin")
    signed = again.post(f"{portal.url}/portal/signin", data={"csrf": csrf_of(form.text), "email": "dora@example.org",
                                                           "password": PASSWORD})
    assert signed.status_code == 200 and "My applications" in signed.text
    assert "portal.email_changed" in [e.action for e in audit_of(portal.body.ctx.data_dir).entries()]


def test_an_address_another_record_holds_changes_nothing(portal: Portal) -> None:
    confirmed(portal, "eve@example.org", given="Eve")
    http = confirmed(portal, "cara@example.org")
    page = http.get(f"{portal.url}/portal/account")
    answer = http.post(f"{portal.url}/portal/account/email", data={
        "csrf": csrf_of(page.text), "new_email": "eve@example.org", "password": PASSWORD})
    assert answer.status_code == 200 and "Check the new address" in answer.text   # the same answer
    notice = portal.inbox.to("eve@example.org", count=2)[-1]
    assert "Nothing was changed" in body_text(notice) and "/portal/email/" not in body_text(notice)
    assert persons.list_persons(portal.body.ctx, REGISTRAR, email="cara@example.org")


def test_closing_the_account_keeps_the_record_and_stops_sign_in(portal: Portal, browser: Any) -> None:
    page = _browser_as(browser, portal, "cara@example.org")
    page.goto(f"{portal.url}/portal/account")
    expect(page.locator("#kept")).to_contain_text("ISO/IEC 17024")
    page.locator("#close_password").fill(PASSWORD)
    page.get_by_role("button", name="Close my account").click()
    expect(page.locator("#close-error")).to_contain_text("tick the box")
    _checked(page, "close-refused")
    page.locator("#close_password").focus()
    page.keyboard.press("Shift+Tab")                      # back to the tick box, by the keyboard
    page.keyboard.press("Space")
    expect(page.locator("#confirm")).to_be_checked()
    page.locator("#close_password").fill(PASSWORD)
    page.locator("#close_password").press("Enter")
    expect(page.get_by_role("heading", name="Account closed")).to_be_visible()
    expect(page.locator("main")).to_contain_text("keeps your certification record")
    _checked(page, "closed")
    page.goto(f"{portal.url}/portal/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    again = portal.client()
    form = again.get(f"{portal.url}/portal/signin")
    refused = again.post(f"{portal.url}/portal/signin", data={"csrf": csrf_of(form.text), "email": "cara@example.org",
                                                            "password": PASSWORD})
    assert refused.status_code == 401
    assert persons.list_persons(portal.body.ctx, REGISTRAR, email="cara@example.org")      # the record stays
    assert portal.inbox.to("cara@example.org", count=2)[-1]["Subject"] == "Your candidate account is closed"
    assert "portal.account_closed" in [e.action for e in audit_of(portal.body.ctx.data_dir).entries()]


def test_closing_is_refused_while_a_seat_is_booked(portal: Portal) -> None:
    ctx = portal.body.ctx
    http = confirmed(portal, "cara@example.org")
    (person,) = persons.list_persons(ctx, REGISTRAR, email="cara@example.org")
    app = applications.submit(ctx, REGISTRAR, person_id=person.person_id, scheme_id=SCHEME_ID, scheme_version=1,
                              answers={"education_level": "master", "experience_months": 30},
                              accept_code_of_conduct=True, body_rules_version="1")
    applications.decide(ctx, REGISTRAR, app.application_id, accept=True, reasons="met")
    session_id = sessions.plan(ctx, REGISTRAR, centre_id=CENTRE_ID, scheme_id=SCHEME_ID, scheme_version=1,
                               form_ids=[FORM_ID], starts_at=format_time(utc_now() + timedelta(days=10)),
                               window_minutes=60, capacity=1).session_id
    booking = bookings.book(ctx, REGISTRAR, session_id, person.person_id)
    close = {"csrf": csrf_of(http.get(f"{portal.url}/portal/account").text), "confirm": "yes",
             "close_password": PASSWORD}
    refused = http.post(f"{portal.url}/portal/account/close", data=close)
    assert refused.status_code == 422 and "cancel or finish your bookings" in refused.text
    bookings.cancel(ctx, REGISTRAR, booking.booking_id, reason="the candidate asked")
    assert http.post(f"{portal.url}/portal/account/close", data=close).status_code == 200
