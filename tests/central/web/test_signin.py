"""Sign-in to the staff application in real Chromium: TOTP enrolment with a QR code at the first
sign-in, a later sign-in with a code, wrong codes, back-off, one use per code, sign-out."""

from __future__ import annotations

import pyotp
from playwright.sync_api import expect

from item_bank_sync.staff.signins import REFUSED
from tests.support.staff_web import axe_serious, shot, sign_in


def test_first_sign_in_enrols_totp_then_later_sign_in_asks_for_a_code(browser, staff_web, staff_member):
    alice = staff_member("alice", ("admin", "reviewer"))
    page = sign_in(browser, staff_web, alice)
    assert alice.secret and len(alice.secret) == 32
    expect(page.locator("header")).to_contain_text("Signed in as alice")
    assert staff_web.book.get("alice").second_factor
    shot(page, "home")
    page.context.close()
    again = sign_in(browser, staff_web, alice)  # code page this time, not enrolment
    expect(again.get_by_role("heading", name="Home")).to_be_visible()
    again.context.close()
