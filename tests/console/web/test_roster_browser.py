"""The roster as proctors and centre admins see it, in headless Chromium against a real console
(issue 13, items 2 and 3): each candidate's accommodations and whether the scheme allows them, who
has already sat (on the Roster page and in the dashboard's admit list), an admit list that starts
with no candidate and no session chosen (and the admin page's kiosk revocation with no kiosk), and
a centre admin allowing one more admission with a reason.
"""

from __future__ import annotations

from typing import Any

import pytest

from exam_core import protocol
from exam_core.model import AccommodationPolicy
from tests.support.console_world import (ADMIN, PROCTOR, RunningConsole, browser_login, cli, console_tab,
                                         make_package, wait_until)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _sit(running: RunningConsole, kiosk: Any, candidate_id: str) -> None:
    """A proctor on the /proctor socket admits and starts ``candidate_id`` (who has then sat)."""
    proctor, csrf, _ = running.proctor_socket(running.login())
    try:
        def act(**payload: Any) -> dict[str, Any]:
            return proctor.call("action", {"csrf": csrf, **payload}, namespace=protocol.PROCTOR_NAMESPACE, timeout=30)
        assert act(type="admit", kiosk_id=kiosk.kiosk_id, candidate_id=candidate_id, package_id="pkg-policy",
                   identity_checked=True)["ok"]
        wait_until(lambda: kiosk.state == "admitted")
        assert act(type="start", kiosk_id=kiosk.kiosk_id)["ok"]
        wait_until(lambda: kiosk.state == "in_progress")
    finally:
        proctor.disconnect()


def test_roster_page_and_admit_list_show_accommodations_and_who_has_sat(browser: Any,
                                                                        running_console: RunningConsole) -> None:
    url, data = running_console.url, running_console.setup.data
    policy = AccommodationPolicy(accommodations_allowed=("extra_time_percent",), max_extra_time_percent=20)
    cli(data, "packages", "import", str(make_package(running_console.setup, "pkg-policy", accommodation_policy=policy)))
    sitting = running_console.kiosk("kiosk-sat")
    _sit(running_console, sitting, "cand-1")
    idle = running_console.kiosk("kiosk-idle")

    with console_tab(browser) as page:
        browser_login(page, url, PROCTOR)
        page.wait_for_selector("#link-status:has-text('live')")
        page.click("#tile-kiosk-idle")
        choice = page.locator("#admit-form select[name=candidate_id]")
        assert choice.input_value() == ""                    # nobody is admitted by default
        options = choice.locator("option").all_inner_texts()
        assert options[0].startswith("Choose the candidate")
        assert any("cand-1" in o and "already sat" in o for o in options)
        assert not any("cand-2" in o and "already sat" in o for o in options)
        assert page.locator("#admit-form select[name=package_id]").input_value() == ""    # nor any session
        page.select_option("#admit-form select[name=package_id]", "pkg-policy")
        page.check("#admit-form input[name=identity_checked]")
        page.click("#admit-form button[type=submit]")        # the browser refuses a form without a candidate
        assert page.evaluate("document.querySelector('#admit-form select[name=candidate_id]').validity.valueMissing")
        assert not idle.commands

        page.click("nav a:has-text('Roster')")
        page.wait_for_url(url + "/roster")
        row = page.inner_text("#candidate-cand-2")
        assert "extra time +25 %" in row and "no: extra_time_percent 25: the scheme allows at most 20" in row
        assert "nothing granted" in page.inner_text("#candidate-cand-3")
        sat = page.inner_text("#candidate-cand-1 .sat")
        assert "pkg-policy on kiosk-sat (in_progress)" in sat
        assert page.locator("#candidate-cand-1 form").count() == 0   # a proctor cannot allow a re-admission
        assert not [e for e in page.errors if "Content Security Policy" in e]

    with console_tab(browser) as page:
        browser_login(page, url, ADMIN)
        page.goto(url + "/roster")
        page.fill("#candidate-cand-1 input[name=reason]", "the kiosk's screen failed after five minutes")
        page.click("#candidate-cand-1 button:has-text('Allow one more admission')")
        page.wait_for_selector("[role=status]:has-text('cand-1 may be admitted once more')")
        assert "allowed by admin: the kiosk's screen failed after five minutes" in page.inner_text("#candidate-cand-1")
        page.goto(url + "/dashboard")
        options = page.locator("#admit-form select[name=candidate_id] option").all_inner_texts()
        assert any("cand-1" in o and "re-admission allowed" in o for o in options)
        page.goto(url + "/admin")                        # revoking a kiosk names one: no kiosk chosen by default
        assert page.locator("form:has(input[value=revoke]) select[name=kiosk_id]").input_value() == ""
    for kiosk in (sitting, idle):
        kiosk.disconnect()
