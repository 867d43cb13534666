"""QTI graphicAssociate, graphicGapMatch and gap match with picture choices (gapImg) on the kiosk:
answered with the keyboard only in headless Chromium (lists instead of dragging), scanned by
axe-core, sealed as pairs, and checked by the server (areas, choices and matchMax)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from playwright.sync_api import expect

from exam_core.errors import ValidationError
from exam_core.model import FormContent
from kiosk.content import FormBundle
from simulators.forms import png
from tests.support.kiosk_interactions import (spoken, assert_axe_clean, form_of, next_question, saved_values, start,
                                             submit, tab_to)
from tests.support.kiosk_browser import Served, saved, until_exam
from tests.support.kiosk_session import new_session


def _ref(data: bytes, name: str, **extra: Any) -> dict[str, Any]:
    return {"sha256": hashlib.sha256(data).hexdigest(), "mime": "image/png", "name": name, **extra}


def content() -> tuple[FormContent, dict[str, bytes]]:
    plan, lamp, switch = png(300, 200, seed=4), png(24, 24, seed=5), png(24, 24, seed=6)
    plan_ref = _ref(plan, "plan.png", alt="Circuit drawing")
    lamp_ref, switch_ref = _ref(lamp, "lamp.png"), _ref(switch, "switch.png")
    lamp_html = f'<img src="media:{lamp_ref["sha256"]}" alt="Lamp symbol" width="24" height="24"/>'
    switch_html = f'<img src="media:{switch_ref["sha256"]}" alt="Switch symbol" width="24" height="24"/>'
    spots = [{"id": "L1", "shape": "rect", "coords": [10, 10, 60, 60], "label": "Line terminal"},
             {"id": "S1", "shape": "circle", "coords": [150, 40, 30], "label": "Switch", "match_max": 2},
             {"id": "LAMP", "shape": "ellipse", "coords": [240, 150, 40, 30], "label": "Lamp", "match_max": 2}]
    associate = {"item_id": "A1", "version": 1, "title": "Graphic associate", "media": [plan_ref],
                 "body_html": '<p>A lighting circuit.</p><div data-interaction="R1"></div>',
                 "interactions": [{"type": "graphic_associate", "response_id": "R1", "cardinality": "multiple",
                                   "base_type": "pair", "prompt_html": "Join the parts that are wired together.",
                                   "image": plan_ref, "hotspots": spots, "max_choices": 3}]}
    gaps = {"item_id": "G1", "version": 1, "title": "Graphic gap match", "media": [plan_ref, lamp_ref],
            "body_html": '<p>Label the drawing.</p><div data-interaction="R1"></div>',
            "interactions": [{"type": "graphic_gap_match", "response_id": "R1", "cardinality": "multiple",
                              "base_type": "directedPair", "prompt_html": "Place the labels on the drawing.",
                              "image": plan_ref, "max_choices": 2,
                              "choices": [{"id": "LAMPIMG", "html": lamp_html}, {"id": "SW", "html": "Switch"}],
                              "hotspots": [{"id": "A", "shape": "rect", "coords": [200, 100, 290, 190],
                                            "label": "Right box"},
                                           {"id": "B", "shape": "circle", "coords": [60, 60, 40],
                                            "label": "Left circle"}]}]}
    pictures = {"item_id": "P1", "version": 1, "title": "Pictures in gaps", "media": [lamp_ref, switch_ref],
                "body_html": '<div data-interaction="R1"></div>',
                "interactions": [{"type": "gap_match", "response_id": "R1", "cardinality": "multiple",
                                  "base_type": "directedPair", "prompt_html": "Choose the symbol for each gap.",
                                  "content_html": '<p>The <span data-gap="G1"></span> controls the '
                                                  '<span data-gap="G2"></span>.</p>',
                                  "choices": [{"id": "IMG_LAMP", "html": lamp_html},
                                              {"id": "IMG_SW", "html": switch_html}],
                                  "targets": [{"id": "G1"}, {"id": "G2"}], "max_choices": 2}]}
    media = {plan_ref["sha256"]: plan, lamp_ref["sha256"]: lamp, switch_ref["sha256"]: switch}
    return form_of([associate, gaps, pictures], media, "Pairs on images")


@pytest.fixture
def served(tmp_path):
    s = Served(tmp_path, content=content())
    yield s
    s.close()


def _choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the focused list by keyboard: the list is reached with Tab, then typed into."""
    tab_to(page, f'select[aria-label="{label}"]')
    page.keyboard.type(option)


@pytest.mark.browser
def test_pairs_on_images_are_made_by_keyboard(page, served):
    until_exam(page, served, "Question 1 of 3: Graphic associate")
    expect(page.locator(".interaction-graphic_associate img").first).to_have_attribute("alt", "Circuit drawing")
    for first, second in (("1. Line terminal", "2. Switch"), ("2. Switch", "3. Lamp")):
        _choose(page, "First item of the pair", first)
        _choose(page, "Second item of the pair", second)
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        saved(page)
    assert saved_values(served) == {"A1": [["L1", "S1"], ["S1", "LAMP"]]}
    expect(page.locator(".pair-line")).to_have_count(2)
    _choose(page, "First item of the pair", "1. Line terminal")   # the line terminal takes one pair only
    _choose(page, "Second item of the pair", "3. Lamp")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#announcer")).to_contain_text("1. Line terminal is already in as many pairs as it may be")
    tab_to(page, 'button[aria-label="Remove pair 1. Line terminal and 2. Switch"]')
    page.keyboard.press("Enter")
    saved(page)
    assert saved_values(served)["A1"] == [["S1", "LAMP"]]

    page.get_by_role("button", name="Next").click()
    page.get_by_role("heading", name="Question 2 of 3: Graphic gap match").wait_for()
    _choose(page, "1. Right box", "Lamp symbol")
    saved(page)
    _choose(page, "2. Left circle", "Switch")
    saved(page)
    assert saved_values(served)["G1"] == [["LAMPIMG", "A"], ["SW", "B"]]
    expect(page.locator("text.placed")).to_have_text(["Lamp symbol", "Switch"])
    expect(page.locator('select[aria-label="2. Left circle"] option[value="LAMPIMG"]')).to_be_disabled()

    page.get_by_role("button", name="Next").click()
    page.get_by_role("heading", name="Question 3 of 3: Pictures in gaps").wait_for()
    expect(page.locator(".gap-pictures figcaption")).to_have_text(["Lamp symbol", "Switch symbol"])
    _choose(page, "Gap 1", "Switch symbol")
    saved(page)
    _choose(page, "Gap 2", "Lamp symbol")
    saved(page)

    finals = {item: value for (item, _), value in submit(page, served).items()}
    assert finals == {"A1": [["S1", "LAMP"]], "G1": [["LAMPIMG", "A"], ["SW", "B"]],
                      "P1": [["IMG_SW", "G1"], ["IMG_LAMP", "G2"]]}


@pytest.mark.browser
def test_pairs_on_images_have_no_serious_accessibility_violations(browser, served):
    session = start(served)
    session.answer("A1", "R1", [["L1", "S1"]])
    session.answer("G1", "R1", [["SW", "A"]])

    def first(page):
        page.get_by_role("heading", name="Question 1 of 3").wait_for()
        page.wait_for_load_state("networkidle")
    assert_axe_clean(browser, served, [first, next_question(2, 3), next_question(3, 3)])


def test_the_server_checks_areas_choices_and_match_max(kiosk_db, journal_key):
    session, _ = new_session(kiosk_db, journal_key, bundle=FormBundle(*content()))
    session.open()
    session.accept_agreement()
    session.begin()
    assert session.answer("A1", "R1", [["L1", "LAMP"], ["S1", "LAMP"]])   # the lamp takes two pairs
    assert session.answer("G1", "R1", [["SW", "A"]]) and session.answer("P1", "R1", [["IMG_SW", "G2"]])
    for item_id, value, problem in (
            ("A1", [["L1", "S1"], ["L1", "LAMP"]], "L1 is used 2 times, at most 1"),
            ("A1", [["L1", "GATE"]], "not a possible pair"), ("A1", [["L1", "L1"]], "pairs an option with itself"),
            ("A1", [["S1", "LAMP"], ["LAMP", "S1"]], "is repeated"),
            ("G1", [["SW", "A"], ["SW", "B"]], "SW is used 2 times"), ("G1", [["A", "SW"]], "not a possible pair"),
            ("G1", [["LAMPIMG", "G1"]], "not a possible pair"), ("P1", [["IMG_SW", "A"]], "not a possible pair")):
        with pytest.raises(ValidationError, match=problem):
            session.answer(item_id, "R1", value)
    assert {k: v["R1"] for k, v in session.state.answers.items()} == {
        "A1": [["L1", "LAMP"], ["S1", "LAMP"]], "G1": [["SW", "A"]], "P1": [["IMG_SW", "G2"]]}


def test_read_aloud_says_the_areas_and_the_picture_choices() -> None:
    """Read aloud: areas by their labels, picture choices by their names."""
    pairs = spoken(content, 0)
    assert "Area 1: Line terminal." in pairs and "Area 3: Lamp." in pairs
    placed = spoken(content, 1)
    assert "Option 1: Lamp symbol. Option 2: Switch." in placed and "Area 2: Left circle." in placed
    assert "Option 2: Switch symbol." in spoken(content, 2)
