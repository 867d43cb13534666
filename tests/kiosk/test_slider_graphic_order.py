"""QTI slider and graphicOrder items on the kiosk: answered with the keyboard only in headless
Chromium, scanned by axe-core, sealed in the model's value shapes, and checked by the server (a
slider value the slider does not offer, or an order that leaves an area out, is refused)."""

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

AREAS = [("NORTH", "North tower", [10, 10, 90, 60]), ("MID", "Middle bridge", [110, 70, 190, 130]),
         ("SOUTH", "South gate", [210, 140, 290, 190])]


def _slider(n: int, base: str, slider: dict[str, Any], prompt: str) -> dict[str, Any]:
    return {"item_id": f"S{n}", "version": 1, "title": f"Slider {n}",
            "body_html": '<p>Estimate the value.</p><div data-interaction="R1"></div>',
            "interactions": [{"type": "slider", "response_id": "R1", "cardinality": "single",
                              "base_type": base, "prompt_html": prompt, "slider": slider}]}


def content() -> tuple[FormContent, dict[str, bytes]]:
    image = png(300, 200, seed=3)
    ref = {"sha256": hashlib.sha256(image).hexdigest(), "mime": "image/png", "name": "Castle plan"}
    order = {"item_id": "G1", "version": 1, "title": "Graphic order",
             "body_html": '<p>Visit the castle.</p><div data-interaction="R1"></div>', "media": [ref],
             "interactions": [{"type": "graphic_order", "response_id": "R1", "cardinality": "ordered",
                               "base_type": "identifier", "prompt_html": "Order the stops from north to south.",
                               "image": ref, "min_choices": 3, "max_choices": 3,
                               "hotspots": [{"id": i, "shape": "rect", "coords": c, "label": label}
                                            for i, label, c in AREAS[::-1]]}]}
    items = [_slider(1, "integer", {"lower": 0, "upper": 400, "step": 10}, "UK mains voltage in volts?"),
             _slider(2, "float", {"lower": 0, "upper": 1, "step": 0.25, "orientation": "vertical",
                                  "reverse": True}, "Fraction of the tank that is full?"),
             order]
    return form_of(items, {ref["sha256"]: image}, "New interactions")


@pytest.fixture
def served(tmp_path):
    s = Served(tmp_path, content=content())
    yield s
    s.close()


@pytest.mark.browser
def test_sliders_and_graphic_order_are_answered_by_keyboard(page, served):
    until_exam(page, served, "Question 1 of 3: Slider 1")
    expect(page.locator(".interaction-slider")).to_have_count(1)
    expect(page.locator(".slider-value")).to_have_text("No answer yet")
    tab_to(page, "input.slider")
    expect(page.get_by_role("slider", name="UK mains voltage in volts?")).to_be_focused()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    saved(page)
    assert saved_values(served) == {"S1": 30}
    page.keyboard.press("End")
    saved(page)
    assert saved_values(served)["S1"] == 400
    page.keyboard.press("Tab")   # the exact value box: a value off the steps is refused on the page
    exact = page.get_by_role("spinbutton", name="UK mains voltage in volts?: exact value")
    expect(exact).to_be_focused()
    page.keyboard.press("Control+a")
    page.keyboard.type("235")
    page.keyboard.press("Tab")
    expect(exact).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#announcer")).to_contain_text("from 0 to 400 in steps of 10")
    assert saved_values(served)["S1"] == 400
    exact.focus()
    page.keyboard.press("Control+a")
    page.keyboard.type("230")
    page.keyboard.press("Tab")
    saved(page)
    assert saved_values(served)["S1"] == 230
    expect(page.locator(".slider-value")).to_have_text("Your answer: 230")

    page.get_by_role("button", name="Next").click()
    page.get_by_role("heading", name="Question 2 of 3: Slider 2").wait_for()
    tab_to(page, "input.slider")
    page.keyboard.press("ArrowDown")      # vertical and reversed: the lower end is at the top
    page.keyboard.press("ArrowDown")
    saved(page)
    assert saved_values(served)["S2"] == 0.5

    page.get_by_role("button", name="Next").click()
    page.get_by_role("heading", name="Question 3 of 3: Graphic order").wait_for()
    expect(page.locator(".interaction-graphic_order")).to_have_count(1)
    badges = page.locator(".order-badge text")
    expect(badges).to_have_text(["1", "2", "3"])        # South gate, Middle bridge, North tower as given
    tab_to(page, 'button[aria-label="Move North tower up"]')
    page.keyboard.press("Enter")
    saved(page)
    expect(page.get_by_role("button", name="Move North tower up")).to_be_focused()
    page.keyboard.press("Enter")
    saved(page)
    assert saved_values(served)["G1"] == ["NORTH", "SOUTH", "MID"]
    tab_to(page, 'button[aria-label="Move Middle bridge up"]')
    page.keyboard.press("Enter")
    saved(page)
    assert saved_values(served)["G1"] == ["NORTH", "MID", "SOUTH"]
    expect(page.locator("#announcer")).to_contain_text("Middle bridge moved to position 2 of 3")
    expect(badges).to_have_text(["3", "2", "1"])        # drawn in area order: South, Middle, North

    finals = {item: value for (item, _), value in submit(page, served).items()}
    assert finals == {"S1": 230, "S2": 0.5, "G1": ["NORTH", "MID", "SOUTH"]}


@pytest.mark.browser
def test_new_interactions_have_no_serious_accessibility_violations(browser, served):
    start(served).answer("S2", "R1", 0.75)

    def first(page):
        page.get_by_role("heading", name="Question 1 of 3").wait_for()
        page.get_by_role("slider").focus()
    assert_axe_clean(browser, served, [first, next_question(2, 3), next_question(3, 3)])


def test_the_server_accepts_only_values_the_interaction_offers(kiosk_db, journal_key):
    session, _ = new_session(kiosk_db, journal_key, bundle=FormBundle(*content()))
    session.open()
    session.accept_agreement()
    session.begin()
    assert session.answer("S1", "R1", 0) and session.answer("S1", "R1", 400) and session.answer("S2", "R1", 0.25)
    assert session.answer("G1", "R1", ["MID", "NORTH", "SOUTH"])
    for item_id, value, problem in (("S1", 235, "not a value of the slider"), ("S1", 410, "not a value"),
                                    ("S1", -10, "not a value"), ("S1", 2.5, "must be an integer"),
                                    ("S2", 0.3, "not a value"), ("S2", "0.5", "must be a finite number"),
                                    ("G1", ["MID", "NORTH"], "must list all 3"),
                                    ("G1", ["MID", "NORTH", "GATE"], "not an option"),
                                    ("G1", ["MID", "MID", "SOUTH"], "chosen twice")):
        with pytest.raises(ValidationError, match=problem):
            session.answer(item_id, "R1", value)
    assert _answers_of(session) == {"S1": 400, "S2": 0.25, "G1": ["MID", "NORTH", "SOUTH"]}


def _answers_of(session) -> dict[str, Any]:
    return {item: values["R1"] for item, values in session.state.answers.items()}


def test_read_aloud_says_the_scale_and_the_areas() -> None:
    """Read aloud: the slider's scale and the picture's areas by their labels."""
    assert "A scale from 0 to 400 in steps of 10." in spoken(content, 0)
    assert "A scale from 0 to 1 in steps of 0.25." in spoken(content, 1)
    assert "Area 1: South gate. Area 2: Middle bridge. Area 3: North tower." in spoken(content, 2)
