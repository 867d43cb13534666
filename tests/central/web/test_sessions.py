"""Server-side sessions: a disabled account's session ends at once, a password change ends the
person's other sessions (not the one they used), and an administrator's reset ends all of them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from exam_core.websec import totp
from item_bank_sync.db.sql import write
from item_bank_sync.staff.schema import staff_accounts
from item_bank_sync.staff.signins import FREE_PER_ADDRESS, SignInRefused, SignIns

from tests.support.staff_web import sign_in


def _home_or_signin(page, web) -> str:
    page.goto(f"{web.url}/home")
    return str(page.get_by_role("heading", level=1).inner_text())


def test_a_disabled_account_s_session_ends_at_once(browser, staff_web, staff_member):
    staff_member("alice", "admin")
    bob_page = sign_in(browser, staff_web, staff_member("bob", "marker"))
    assert _home_or_signin(bob_page, staff_web) == "Home"
    staff_web.book.disable("bob", "alice")
    assert _home_or_signin(bob_page, staff_web) == "Sign in"
    staff_web.book.enable("bob", "alice")
    assert _home_or_signin(bob_page, staff_web) == "Sign in"  # ended for good, not paused
    bob_page.context.close()


def test_a_password_change_ends_the_other_sessions_but_not_this_one(browser, staff_web, staff_member):
    bob = staff_member("bob", "marker")
    first = sign_in(browser, staff_web, bob)
    second = sign_in(browser, staff_web, bob)
    second.goto(f"{staff_web.url}/account")
    second.get_by_label("Current password").fill(bob.password)
    second.get_by_label("New password (at least 10 characters)").fill("a different password")
    second.get_by_label("New password again").fill("a different password")
    second.get_by_role("button", name="Change password").click()
    expect(second.get_by_role("status")).to_contain_text("your other sessions have ended")
    assert _home_or_signin(second, staff_web) == "Home"
    assert _home_or_signin(first, staff_web) == "Sign in"
    entries = [e for e in staff_web.ctx.audit_log().entries() if e.action == "staff.change_password"]
    assert [(e.actor, dict(e.data)) for e in entries] == [("bob", {"name": "bob"})]
    for page in (first, second):
        page.context.close()


def test_an_administrator_s_reset_ends_every_session(browser, staff_web, staff_member):
    staff_member("alice", "admin")
    bob_page = sign_in(browser, staff_web, staff_member("bob", "marker"))
    staff_web.book.reset_password("bob", "a reset password", "alice")
    assert _home_or_signin(bob_page, staff_web) == "Sign in"
    bob_page.context.close()


def test_half_signed_in_is_not_signed_in(browser, staff_web, staff_member):
    """After the password but before the code, no page but the code page opens."""
    staff_member("bob", "marker")
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    page.goto(f"{staff_web.url}/signin")
    page.get_by_label("Name").fill("bob")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Set up your second factor")).to_be_visible()
    for path in ("/home", "/audit", "/admin/staff", "/account"):
        page.goto(f"{staff_web.url}{path}")
        assert page.get_by_role("heading", level=1).inner_text() in ("Sign in", "Set up your second factor"), path
    context.close()


def test_a_reset_second_factor_ends_sessions_and_the_next_sign_in_enrols_again(browser, staff_web, staff_member):
    staff_member("alice", "admin")
    bob = staff_member("bob", "marker")
    page = sign_in(browser, staff_web, bob)
    first_secret = bob.secret
    staff_web.book.reset_second_factor("bob", "alice")
    assert _home_or_signin(page, staff_web) == "Sign in"
    page.context.close()
    bob.last_step = -1
    again = sign_in(browser, staff_web, bob)  # through the enrolment page again, with a new secret
    assert bob.secret != first_secret
    again.context.close()


def test_a_secret_sealed_under_another_key_refuses_the_code_without_an_error(browser, staff_web, staff_member):
    bob = staff_member("bob", "marker")
    sign_in(browser, staff_web, bob).context.close()
    with write(staff_web.book.engine) as tx:  # as after restoring bank.db under another body's keys
        tx.execute(update(staff_accounts).where(staff_accounts.c.name == "bob").values(
            totp_sealed=totp.seal_secret(b"\x01" * 32, bob.secret, "bob")))
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    page.goto(f"{staff_web.url}/signin")
    page.get_by_label("Name").fill("bob")
    page.get_by_label("Password").fill(bob.password)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code").fill(bob.next_code())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    context.close()


def test_many_failures_from_one_address_hold_back_that_address_only(staff_web, staff_member):
    """Twenty failures from one address (whatever names) hold that address back; the same person
    signs in from another address; the waits live in the database, shared by every process."""
    alice = staff_member("alice", "admin")
    signins = SignIns(staff_web.book)
    for n in range(FREE_PER_ADDRESS):
        with pytest.raises(SignInRefused):
            signins.check_password(f"guess-{n}", "wrong password", "10.0.0.66")
    with pytest.raises(SignInRefused):
        signins.check_password("alice", alice.password, "10.0.0.66")
    assert signins.check_password("alice", alice.password, "10.0.0.7").name == "alice"
    assert SignIns(staff_web.book)._wait("addr:10.0.0.66") > 0  # another process sees the same wait
