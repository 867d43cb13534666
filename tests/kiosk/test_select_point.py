"""QTI selectPoint items (interaction ``hotspot``, base type ``point``, no areas): placed by mouse and
by keyboard in headless Chromium, sealed as image pixel coordinates, and checked by the server."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from playwright.sync_api import expect

from exam_core.errors import ValidationError
from exam_core.model import FormContent

from kiosk.content import FormBundle
from exam_core.presentation import item_view

from tests.support.kiosk_session import new_session
from simulators.forms import png
from tests.support.kiosk_pages import AXE
from tests.support.kiosk_browser import Served, axe_violations as _axe, saved as _saved, until_exam as _until_exam

NATURAL = (300, 200)     # the first image declares no size: its own size is the coordinate space
DECLARED = (400, 200)    # the second is a 200 x 100 image the item shows at 400 x 200


def _point_item(n: int, image: dict[str, Any], cardinality: str, max_choices: int) -> dict[str, Any]:
    return {"item_id": f"P{n}", "version": 1, "title": f"Select point {n}",
            "body_html": '<p>Mark the place on the map.</p><div data-interaction="R1"></div>',
            "media": [image],
            "interactions": [{"type": "hotspot", "response_id": "R1", "cardinality": cardinality,
                              "base_type": "point", "prompt_html": f"Mark point set {n}.", "image": image,
                              "max_choices": max_choices}]}


def point_content() -> tuple[FormContent, dict[str, bytes]]:
    first, second = png(*NATURAL, seed=1), png(200, 100, seed=2)
    refs: list[dict[str, Any]] = [{"sha256": hashlib.sha256(data).hexdigest(), "mime": "image/png", "name": "Map"}
            for data in (first, second)]
    refs[1].update(width=DECLARED[0], height=DECLARED[1])
    items = [_point_item(1, refs[0], "single", 1), _point_item(2, refs[1], "multiple", 2)]
    form = {"form_id": "F1", "version": 1, "scheme_id": "S1", "scheme_version": 1, "title": "Points",
            "duration_seconds": 3600, "items": [{"item_id": i["item_id"], "version": 1} for i in items],
            "instructions_html": "<p>Place points.</p>", "agreement_html": "<p>I agree.</p>"}
    return FormContent.from_dict({"form": form, "items": items}), {refs[0]["sha256"]: first, refs[1]["sha256"]: second}


@pytest.fixture
def served(tmp_path):
    s = Served(tmp_path, content=point_content())
    yield s
    s.close()


def _stage_click(page, fx: float, fy: float) -> None:
    box = page.locator(".point-stage img").bounding_box()
    page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)


def _answer(served) -> Any:
    return served.runtime.require_session().state.answers


@pytest.mark.browser
def test_points_are_placed_by_mouse_and_by_keyboard(page, served):
    _until_exam(page, served, "Question 1 of 2: Select point 1")

    # Single point, by mouse: a quarter across, half down the 300 x 200 image.
    stage = page.get_by_role("application", name="Mark point set 1.")
    _stage_click(page, 0.25, 0.5)
    _saved(page)
    x, y = _answer(served)["P1"]["R1"]
    assert abs(x - 75) <= 1 and abs(y - 100) <= 1
    # ...then moved by keyboard: two steps right (5 px each), three single pixels down, Enter.
    expect(stage).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    for _ in range(3):
        page.keyboard.press("Shift+ArrowDown")
    expect(page.locator(".point-where")).to_contain_text(f"x {x + 10}, y {y + 3} of 300 by 200 pixels")
    page.keyboard.press("Enter")
    _saved(page)
    assert _answer(served)["P1"]["R1"] == [x + 10, y + 3]  # single cardinality: replaced, [x, y]

    page.get_by_role("button", name="Next").click()
    page.get_by_role("heading", name="Question 2 of 2: Select point 2").wait_for()
    # Up to two points on an image shown at its declared 400 x 200, by keyboard only.
    page.keyboard.press("Tab")
    while not page.evaluate("document.activeElement.classList.contains('point-stage')"):
        page.keyboard.press("Tab")
    expect(page.locator(".point-where")).to_contain_text("x 200, y 100 of 400 by 200 pixels")
    for _ in range(4):
        page.keyboard.press("ArrowLeft")
    page.keyboard.press("Enter")
    _saved(page)
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    _saved(page)
    assert _answer(served)["P2"]["R1"] == [[180, 100], [180, 90]]
    page.keyboard.press("Enter")          # a third point is refused on the page: at most two
    _stage_click(page, 0.9, 0.1)          # by mouse too
    expect(page.locator("#announcer")).to_contain_text("At most 2 points")
    page.keyboard.press("Delete")         # the last point goes; a click puts one in its place
    _saved(page)
    _stage_click(page, 0.75, 0.25)
    _saved(page)
    first, second = _answer(served)["P2"]["R1"]
    assert first == [180, 100] and abs(second[0] - 300) <= 1 and abs(second[1] - 50) <= 1
    expect(page.locator(".points li")).to_have_count(2)
    page.get_by_role("button", name="Remove point 1").click()
    _saved(page)
    assert _answer(served)["P2"]["R1"] == [second]

    page.get_by_role("button", name="Review and submit").click()
    page.get_by_role("button", name="Submit my examination").click()
    page.get_by_role("button", name="Yes, submit").click()
    page.get_by_role("heading", name="Your examination has been submitted").wait_for()
    finals = {r["item_id"]: r["value"] for r in served.envelope_payload()["responses"]}
    assert finals == {"P1": [x + 10, y + 3], "P2": [second]}


@pytest.mark.browser
def test_point_items_have_no_serious_accessibility_violations(browser, served):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run npm ci at the repository root")
    served.admit_and_start()
    served.runtime.confirm_identity()
    session = served.runtime.require_session()
    session.accept_agreement()
    session.begin()
    session.answer("P2", "R1", [[10, 10], [390, 190]])

    def first(page):
        page.get_by_role("heading", name="Question 1 of 2").wait_for()
        page.get_by_role("application").focus()

    def second(page):
        page.get_by_role("button", name="Next").click()
        page.get_by_role("heading", name="Question 2 of 2").wait_for()
        page.wait_for_load_state("networkidle")
    violations = _axe(browser, served.url, [first, second])
    assert violations == [], json.dumps([(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
                                         for v in violations], indent=1)


@pytest.mark.browser
def test_the_server_refuses_points_off_the_image(page, served):
    served.admit_and_start()
    served.runtime.confirm_identity()
    session = served.runtime.require_session()
    session.accept_agreement()
    session.begin()
    page.goto(served.url)
    page.get_by_role("heading", name="Question 1 of 2: Select point 1").wait_for()
    status = page.evaluate("""async (body) => {
        const token = document.querySelector('meta[name="kiosk-token"]').content;
        const r = await fetch('/api/answer', {method: 'POST', headers: {'X-Kiosk-Token': token,
            'Content-Type': 'application/json'}, body: JSON.stringify(body)});
        return [r.status, await r.json()];
    }""", {"item_id": "P1", "response_id": "R1", "value": [301, 10]})
    assert status[0] == 400 and "outside the 300 x 200 image" in status[1]["reason"]


def test_point_values_are_checked_against_the_image_the_page_draws(kiosk_db, journal_key):
    bundle = FormBundle(*point_content())
    views = [item_view(item, 1, bundle.image_size)["interactions"][0]["image"] for item in bundle.items]
    assert [(v["width"], v["height"]) for v in views] == [NATURAL, DECLARED]
    session, _ = new_session(kiosk_db, journal_key, bundle=bundle)
    session.open()
    session.accept_agreement()
    session.begin()
    assert session.answer("P1", "R1", [300, 200]) and session.answer("P2", "R1", [[400, 0], [0, 200]])
    for item_id, value, field in (("P1", [300.5, 1], "value"), ("P1", [-1, 5], "value"),
                                  ("P2", [[1, 1], [401, 1]], "value[1]"), ("P2", [[1, 1]] * 3, "value"),
                                  ("P1", [[1, 1]], "value"), ("P2", [1, 1], "value[0]")):
        with pytest.raises(ValidationError) as caught:
            session.answer(item_id, "R1", value)
        assert caught.value.field == field, (item_id, value, caught.value)
    assert session.state.answers["P2"]["R1"] == [[400, 0], [0, 200]]


def test_a_point_on_an_image_of_unknown_size_is_refused(kiosk_db, journal_key):
    content, _ = point_content()
    bundle = FormBundle(content, {})  # no image bytes: the first item declares no size either
    assert bundle.image_size(content.items[0].interactions[0].image) is None
    assert bundle.image_size(content.items[1].interactions[0].image) == DECLARED
    session, _ = new_session(kiosk_db, journal_key, bundle=bundle)
    session.open()
    session.accept_agreement()
    session.begin()
    with pytest.raises(ValidationError, match="size is unknown"):
        session.answer("P1", "R1", [1, 1])
