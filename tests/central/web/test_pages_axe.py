"""axe-core on every page of the foundation (sign-in, enrolment, recovery codes, code, home, staff
administration, a person, the audit chain and its verification, my account, the 403 and 404
pages): no serious or critical violation. Each page is also saved as a screenshot
(/tmp/invigil/shots/staff-*.png) for a person to look at."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.staff_web import axe_serious, shot, sign_in


def _check(page, name: str) -> None:
    shot(page, name)
    assert axe_serious(page) == [], name
    assert page.locator("h1").count() == 1, name
    for landmark in ("header", "main", "footer"):
        assert page.locator(landmark).count() == 1, (name, landmark)


def test_sign_in_pages(browser, staff_web, staff_member):
    alice = staff_member("alice", ("admin", "reviewer", "registrar", "marker", "decision_maker", "approver"))
    context = browser.new_context(ignore_https_errors=True, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{staff_web.url}/signin")
    _check(page, "signin")
    page.get_by_label("Name").fill("alice")
    page.get_by_label("Password").fill("wrong password!")
    page.get_by_role("button", name="Continue").click()
    _check(page, "signin-refused")
    page.get_by_label("Name").fill("alice")
    page.get_by_label("Password").fill(alice.password)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Set up your second factor")).to_be_visible()
    _check(page, "enrol")
    alice.secret = "".join(page.locator("#totp-secret").inner_text().split())
    page.get_by_label("Code from the app").fill(alice.next_code())
    page.get_by_role("button", name="Confirm").click()
    _check(page, "recovery-codes")
    context.close()
    context = browser.new_context(ignore_https_errors=True, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{staff_web.url}/signin")
    page.get_by_label("Name").fill("alice")
    page.get_by_label("Password").fill(alice.password)
    page.get_by_role("button", name="Continue").click()
    _check(page, "code")
    context.close()


def test_signed_in_pages(browser, staff_web, staff_member):
    staff_member("bob", ("marker",))
    page = sign_in(browser, staff_web, staff_member(
        "alice", ("admin", "reviewer", "approver", "registrar", "marker", "decision_maker")))
    for path, name in (("/home", "home"), ("/admin/staff", "admin-staff"), ("/admin/staff/bob", "admin-person"),
                       ("/audit", "audit"), ("/audit?f_action=staff&sort=actor&dir=asc", "audit-filtered"),
                       ("/audit/verify", "audit-verify"), ("/account", "account"), ("/no-such-page", "404")):
        page.goto(f"{staff_web.url}{path}")
        _check(page, name)
    page.context.close()
    marker = sign_in(browser, staff_web, staff_member("mark", ("marker",)))
    marker.goto(f"{staff_web.url}/admin/staff")
    _check(marker, "403")
    marker.context.close()
