"""The Users page in headless Chromium: a centre admin manages an account while its owner is logged in.

Two browser contexts against a real console process: the admin's, and the proctor's whose dashboard
socket the server drops (and whose page goes to the login form) when the admin disables the account.
"""

from __future__ import annotations

import pytest

from tests.support.console_world import ADMIN, PASSWORD, RunningConsole, console_tab

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OLGA_FIRST = "olga's first password"
OLGA_NEW = "olga's second password"


def _login(page, url: str, user: str, password: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=name]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def _row_state(page, name: str) -> str:
    return page.get_attribute(f"#user-{name}", "data-state")


def test_admin_manages_a_user_in_the_browser(browser, running_console: RunningConsole) -> None:
    url = running_console.url
    with console_tab(browser) as admin, console_tab(browser) as olga:
        _login(admin, url, ADMIN, PASSWORD)
        admin.wait_for_url(url + "/dashboard")
        admin.click("header nav a:has-text('Users')")
        admin.wait_for_url(url + "/admin/users")
        assert "script-src 'self'" in admin.request.get(url + "/admin/users").headers["content-security-policy"]

        form = "#add-user"
        admin.fill(f"{form} input[name=name]", "olga")
        admin.select_option(f"{form} select[name=role]", "proctor")
        admin.fill(f"{form} input[name=password]", OLGA_FIRST)
        admin.fill(f"{form} input[name=password_confirm]", OLGA_FIRST + " typo")
        admin.click(f"{form} button[type=submit]")
        assert "the two passwords differ" in admin.inner_text("#users-result")
        assert admin.query_selector("#user-olga") is None
        admin.fill(f"{form} input[name=name]", "olga")
        admin.fill(f"{form} input[name=password]", OLGA_FIRST)
        admin.fill(f"{form} input[name=password_confirm]", OLGA_FIRST)
        admin.click(f"{form} button[type=submit]")
        assert admin.inner_text("#users-result") == "User olga (proctor) added."
        assert _row_state(admin, "olga") == "active"

        _login(olga, url, "olga", OLGA_FIRST)
        olga.wait_for_url(url + "/dashboard")
        olga.wait_for_selector("#link-status:has-text('live')")

        admin.click("#user-olga form[data-do=disable] button")
        assert _row_state(admin, "olga") == "disabled"
        olga.wait_for_url(url + "/login", timeout=5000)  # her dashboard socket was dropped by the server

        admin.click("#user-olga form[data-do=enable] button")
        admin.fill("#user-olga form[data-do=reset_password] input[name=password]", OLGA_NEW)
        admin.fill("#user-olga form[data-do=reset_password] input[name=password_confirm]", OLGA_NEW)
        admin.click("#user-olga form[data-do=reset_password] button")
        assert "Password of olga reset" in admin.inner_text("#users-result")
        _login(olga, url, "olga", OLGA_FIRST)
        assert "wrong user name or password" in olga.inner_text(".error")

        for _ in range(4):  # with the one above: five wrong passwords lock the account
            _login(olga, url, "olga", "not olga's password")
        _login(olga, url, "olga", OLGA_NEW)
        assert "locked" in olga.inner_text(".error")
        admin.goto(url + "/admin/users")
        assert _row_state(admin, "olga") == "locked"
        admin.click("#user-olga form[data-do=unlock] button")
        assert admin.inner_text("#users-result") == "User olga unlocked." and _row_state(admin, "olga") == "active"
        _login(olga, url, "olga", OLGA_NEW)
        olga.wait_for_url(url + "/dashboard")
        olga.wait_for_selector("#link-status:has-text('live')")
        assert not [e for e in admin.errors + olga.errors if "Content Security Policy" in e]
