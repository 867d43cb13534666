"""Sign-in to the staff application in real Chromium: TOTP enrolment with a QR code at the first
sign-in, a later sign-in with a code, wrong codes, back-off, one use per code, sign-out."""

from __future__ import annotations

import pyotp
from playwright.sync_api import expect

from item_bank_sync.staff.signins import REFUSED

from tests.support.staff_web import shot, sign_in


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


def _submit_password(page, web, name: str, password: str) -> None:
    page.goto(f"{web.url}/signin")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Continue").click()


def test_an_unknown_name_and_a_wrong_password_get_the_same_words(browser, staff_web, staff_member):
    staff_member("alice", "admin")
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    _submit_password(page, staff_web, "alice", "not the password")
    wrong_password = page.get_by_role("alert").inner_text()
    _submit_password(page, staff_web, "nobody-here", "not the password")
    unknown = page.get_by_role("alert").inner_text()
    assert wrong_password == unknown == REFUSED
    context.close()


def test_a_wrong_code_is_refused_and_a_used_code_cannot_be_used_again(browser, staff_web, staff_member):
    alice = staff_member("alice", "reviewer")
    sign_in(browser, staff_web, alice).context.close()  # enrols
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    _submit_password(page, staff_web, "alice", alice.password)
    page.get_by_label("Code").fill("000000" if alice.next_code() != "000000" else "111111")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(REFUSED)
    used = pyotp.TOTP(alice.secret).generate_otp(alice.last_step - 1)  # the code enrolment used
    page.get_by_label("Code").fill(used)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(REFUSED)
    page.get_by_label("Code").fill(alice.next_code())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Home")).to_be_visible()
    context.close()


def test_a_recovery_code_signs_in_once(browser, staff_web, staff_member):
    alice = staff_member("alice", "reviewer")
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    _submit_password(page, staff_web, "alice", alice.password)
    alice.secret = "".join(page.locator("#totp-secret").inner_text().split())
    page.get_by_label("Code from the app").fill(alice.next_code())
    page.get_by_role("button", name="Confirm").click()
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 8 and len(set(codes)) == 8
    context.close()
    for expected in ("Home", "Enter your code"):  # the same recovery code twice
        context = browser.new_context(ignore_https_errors=True)
        page = context.new_page()
        _submit_password(page, staff_web, "alice", alice.password)
        page.get_by_label("Code").fill(codes[0])
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(expected)
        context.close()


def test_repeated_wrong_passwords_hold_the_name_back_even_with_the_right_one(browser, staff_web, staff_member):
    alice = staff_member("alice", "admin")
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    for _ in range(5):
        _submit_password(page, staff_web, "alice", "wrong password!")
        expect(page.get_by_role("alert")).to_have_text(REFUSED)
    _submit_password(page, staff_web, "alice", alice.password)
    expect(page.get_by_role("alert")).to_have_text(REFUSED)  # held back for 30 s: same words
    assert "/signin" in page.url
    context.close()


def test_sign_out_ends_the_session_and_a_copy_of_the_cookie_is_worthless(browser, staff_web, staff_member):
    page = sign_in(browser, staff_web, staff_member("alice", "admin"))
    cookies = page.context.cookies()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    other = browser.new_context(ignore_https_errors=True)
    other.add_cookies(cookies)
    copy = other.new_page()
    copy.goto(f"{staff_web.url}/home")
    expect(copy.get_by_role("heading", name="Sign in")).to_be_visible()
    other.close()
    page.context.close()


def test_sign_in_with_the_keyboard_alone(browser, staff_web, staff_member):
    alice = staff_member("alice", "admin")
    sign_in(browser, staff_web, alice).context.close()
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    page.goto(f"{staff_web.url}/signin")
    expect(page.get_by_label("Name")).to_be_focused()  # autofocus: the page opens ready to type
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")  # back past the brand link to the skip link, the first stop
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Name")).to_be_focused()
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type(alice.password)
    page.keyboard.press("Enter")
    page.get_by_label("Code").wait_for()
    expect(page.get_by_label("Code")).to_be_focused()  # autofocus
    page.keyboard.type(alice.next_code())
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Home")).to_be_visible()
    context.close()
