"""Results release pages in real Chromium over a body with a passed and a failed attempt: the queue
with its centre and form filters as select boxes, holds placed and lifted, one attempt released
with the keyboard alone (its certificate issued and the score report shown, the PDF a download),
each page clean under axe-core, the audit entries the same as the CLI's, and a role that may not
release sees why instead of the button."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.body_pages import audit_entries, look, origin
from tests.support.central_cli import Central
from tests.support.central_release import FAILED, PASSED, results_world
from tests.support.central_world import CENTRE_ID, FORM_ID

RELEASER = "rita"


@pytest.fixture
def central(tmp_path: Path) -> Central:
    """PASSED decided pass and FAILED decided fail, both scored and unreleased (tests/support/central_release)."""
    results = results_world(tmp_path / "central")
    results.ctx.close()
    return Central(results.world.data_dir)


def tab_to(page: Any, element_id: str, limit: int = 80) -> None:
    """Press Tab until the element with ``element_id`` has the focus (fails after ``limit`` presses)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} never got the focus with Tab")


def test_the_queue_filters_by_centre_and_form_with_select_boxes_and_passes_axe(central, signed_in_page):
    page = signed_in_page(RELEASER, ("decision_maker",))
    page.goto(f"{origin(page)}/release")
    expect(page.get_by_role("link", name="Results release")).to_have_attribute("aria-current", "page")
    centre = page.locator("#f-queue-centre_id")
    assert centre.evaluate("e => e.tagName") == "SELECT" and page.locator("#f-queue-form_id").count() == 1
    centre.select_option(CENTRE_ID)
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("table").first).to_contain_text(PASSED)
    expect(page.get_by_role("table").first).to_contain_text(FAILED)
    assert look(page, "release-queue") == []
    page.get_by_label("Reason for releasing (recorded)").fill("results day")
    page.get_by_role("button", name="Release the results").click()     # neither a centre nor a form chosen
    expect(page.locator("#release-error")).to_contain_text("Choose a centre, a form or both")
    expect(page.get_by_label("Reason for releasing (recorded)")).to_have_value("results day")
    assert page.locator("#release-centre").get_attribute("aria-invalid") == "true"
    assert look(page, "release-queue-error") == [] and audit_entries(central.data_dir, "results.release") == []
    page.goto(f"{origin(page)}/release/attempts/{FAILED}")
    expect(page.locator("#standing")).to_contain_text("Decision: fail")
    assert look(page, "release-attempt-unreleased") == []


def test_holds_placed_and_lifted_on_the_page_write_the_cli_entries(central, signed_in_page):
    page = signed_in_page(RELEASER, ("decision_maker",))
    page.goto(f"{origin(page)}/release/holds")
    page.get_by_label("Hold the results of").select_option("form")
    page.get_by_label("Centre, form or attempt id").fill(FORM_ID)
    page.get_by_label("Reason for the hold (recorded)").fill("key of q1 flagged")
    page.get_by_role("button", name="Place the hold").click()
    expect(page.get_by_role("status")).to_contain_text(f"placed on form {FORM_ID}")
    expect(page.locator("#holds")).to_contain_text("key of q1 flagged")
    assert look(page, "release-holds") == []
    page.goto(f"{origin(page)}/release")
    page.get_by_label("Reason for releasing (recorded)").fill("results day")
    page.locator("#release-centre").select_option(CENTRE_ID)
    page.get_by_role("button", name="Release the results").click()
    expect(page.get_by_role("status").first).to_contain_text("Released 0, refused 2")
    expect(page.locator(".flash.error").first).to_contain_text("held (hold 1)")
    page.goto(f"{origin(page)}/release/holds")
    page.get_by_label("Reason for lifting hold 1").fill("key confirmed")
    page.get_by_role("button", name="Lift hold 1").click()
    expect(page.locator("#holds")).to_contain_text("No hold stands")
    central.json("release", "hold", "--attempt", FAILED, "--by", RELEASER, "--reason", "check")
    central.json("release", "lift", "2", "--by", RELEASER, "--reason", "checked")
    by_page, by_cli = audit_entries(central.data_dir, "results.hold")
    assert by_page["actor"] == by_cli["actor"] == RELEASER and by_page["data"].keys() == by_cli["data"].keys()
    lifted = audit_entries(central.data_dir, "results.lift-hold")
    assert [(e["actor"], e["data"]) for e in lifted] == [(RELEASER, {"hold_id": 1}), (RELEASER, {"hold_id": 2})]


def test_one_attempt_released_with_the_keyboard_alone_issues_its_certificate(central, signed_in_page):
    page = signed_in_page(RELEASER, ("decision_maker",))
    page.goto(f"{origin(page)}/release/attempts/{PASSED}")
    expect(page.locator("#certificate")).to_contain_text("issued when this pass is released")
    tab_to(page, "release-reason")
    page.keyboard.type("results day")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == f"Release attempt {PASSED}"
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("Released 1, refused 0; certificates issued 1")
    expect(page.locator("#report")).to_contain_text("PASS")
    expect(page.locator("#certificate")).to_contain_text("IC-")
    expect(page.locator("#told")).to_contain_text("no e-mail address on record")
    assert look(page, "release-attempt-released") == []
    link = page.get_by_role("link", name=f"Download the score report (PDF) of attempt {PASSED}")
    answer = page.request.get(origin(page) + (link.get_attribute("href") or ""))
    assert answer.headers["content-type"] == "application/pdf" and answer.body().startswith(b"%PDF-")
    central.json("release", "results", "--attempt", FAILED, "--by", RELEASER, "--reason", "results day")
    by_page, by_cli = audit_entries(central.data_dir, "results.release")
    assert by_page == {"actor": RELEASER, "data": {"attempts": [PASSED], "centre": "", "form": ""}}
    assert by_cli == {"actor": RELEASER, "data": {"attempts": [FAILED], "centre": "", "form": ""}}
    [issued] = audit_entries(central.data_dir, "certificate.issue")
    assert issued["actor"] == RELEASER and issued["data"]["attempt_id"] == PASSED


def test_a_registrar_may_hold_but_sees_why_they_may_not_release(central, signed_in_page):
    page = signed_in_page("reg", ("registrar",))
    page.goto(f"{origin(page)}/release/attempts/{PASSED}")
    assert page.get_by_role("button", name=f"Release attempt {PASSED}").count() == 0
    expect(page.locator("#release-blocked")).to_be_visible()
    page.goto(f"{origin(page)}/release/holds")
    assert page.get_by_role("button", name="Place the hold").count() == 1
    assert page.request.get(f"{origin(page)}/release/attempts/{PASSED}/report.pdf").status == 404   # not released
