"""The main navigation links every area a role may open and nothing else: for each role, signed in
through the real pages in Chromium, the links shown are the expected areas, each opens (200), and
every area not shown answers 403. The items pages' stylesheet sits in the head, not in <main>."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from item_bank_sync.web.nav import AREAS
from tests.support.body_pages import origin

EVERYONE = ("Home", "Items", "Audit", "My account")
REVIEW = ("Integrity", "Item analysis", "Exam review")
REGISTRY = ("Applications", "Accommodations", "Sessions")
CASES = ("Appeals & complaints", "Corrective actions")
RECERT = ("Certificates", "Falling due", "CPD audit")
EXPECTED: dict[str, set[str]] = {
    "item_writer": {*EVERYONE, "Import items"},
    "reviewer": {*EVERYONE},
    "approver": {*EVERYONE},
    "marker": {*EVERYONE, "Marking", "Re-marks"},
    "psychometrician": {*EVERYONE, "Marking", "Schemes & forms", *REVIEW, "Standard setting", "Corrective actions",
                        "Results release"},
    "registrar": {*EVERYONE, "Centres", "Intake", "Decisions", "Results", "Results release", *REGISTRY, *CASES,
                  *RECERT},
    "decision_maker": {*EVERYONE, "Intake", "Standard setting", "Decisions", "Results", "Results release", *CASES,
                       "Certificates"},
    "admin": {label for label, _ in AREAS} - {"Import items", "Marking", "Re-marks"},
    "auditor": {label for label, _ in AREAS},
}


def _paths(page) -> dict[str, str]:
    """label -> path of every area, read from an auditor's navigation (the auditor sees them all)."""
    nav = page.get_by_role("navigation", name="Main")
    return {a.inner_text(): a.get_attribute("href") for a in nav.get_by_role("link").all()}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_each_role_is_linked_to_exactly_the_areas_it_may_open(role, signed_in_page):
    auditor = signed_in_page("audrey", ("auditor",))
    every = _paths(auditor)
    assert set(every) == EXPECTED["auditor"]
    page = signed_in_page(f"p-{role.replace('_', '-')}", (role,))
    shown = _paths(page)
    assert set(shown) == EXPECTED[role]
    for label, path in every.items():
        status = page.request.get(f"{origin(page)}{path}", max_redirects=0).status
        assert status == (200 if label in shown else 403), (role, label, path, status)


def test_the_current_area_is_marked_and_the_items_stylesheet_is_in_the_head(signed_in_page):
    page = signed_in_page("mia", ("marker", "item_writer"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Items", exact=True).click()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Items", exact=True)).to_have_attribute(
        "aria-current", "page")
    for path in ("/items/", "/items/import/", "/marking/", "/marking/agreement"):
        page.goto(f"{origin(page)}{path}")
        assert page.locator("head link[href*='items.css']").count() == 1, path
        assert page.locator("main link").count() == 0, path
