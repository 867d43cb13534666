"""QTI drawingInteraction on the kiosk: lines drawn on the item's picture with the keyboard and the
mouse in headless Chromium, saved as a PNG of the lines (the picture's size) for the markers,
undone and cleared, restored after a reload, scanned by axe-core, and checked by the server."""

from __future__ import annotations

import base64
import hashlib
import io
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from exam_core.errors import ValidationError
from exam_core.model import FormContent
from kiosk.content import FormBundle
from simulators.forms import png
from tests.support.kiosk_interactions import spoken, assert_axe_clean, form_of, start, submit
from tests.support.kiosk_browser import Served, saved, until_exam
from tests.support.kiosk_session import new_session

SIZE = (400, 300)


def content() -> tuple[FormContent, dict[str, bytes]]:
    picture = png(*SIZE, seed=9)
    ref = {"sha256": hashlib.sha256(picture).hexdigest(), "mime": "image/png", "name": "circuit.png",
           "alt": "Open circuit with a gap"}
    item = {"item_id": "D1", "version": 1, "title": "Drawing", "media": [ref],
            "body_html": '<p>The lamp does not light.</p><div data-interaction="RESPONSE"></div>',
            "interactions": [{"type": "drawing", "response_id": "RESPONSE", "cardinality": "single",
                              "base_type": "file", "prompt_html": "Draw the wire that completes the circuit.",
                              "image": ref}]}
    return form_of([item], {ref["sha256"]: picture}, "Drawing")


@pytest.fixture
def served(tmp_path):
    s = Served(tmp_path, content=content())
    yield s
    s.close()


def _drawing(served) -> Any:
    return served.runtime.require_session().state.answers.get("D1", {}).get("RESPONSE")


def _inked(value: str) -> Image.Image:
    """The saved PNG: the picture's size, transparent except for the lines."""
    image = Image.open(io.BytesIO(base64.b64decode(value.split(",", 1)[1]))).convert("RGBA")
    assert image.size == SIZE
    return image


def _alpha(image: Any, xy: tuple[int, int]) -> int:
    """The alpha of one RGBA pixel (typed: Pillow's getpixel answers a float for one-band images)."""
    pixel = image.getpixel(xy)
    assert isinstance(pixel, tuple)
    return int(pixel[3])


@pytest.mark.browser
def test_lines_are_drawn_by_keyboard_and_mouse(page, served):
    until_exam(page, served, "Question 1 of 1: Drawing")
    stage = page.get_by_role("application", name="Draw the wire that completes the circuit.")
    stage.focus()
    expect(page.locator(".point-where")).to_contain_text("Pen up at x 200, y 150 of 400 by 300 pixels")
    page.keyboard.press("Space")                 # pen down at the centre, four steps (8 px) right, up
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")
    saved(page)
    line = _inked(_drawing(served))
    assert _alpha(line, (216, 150)) > 0 and _alpha(line, (200, 100)) == 0
    assert _alpha(line, (10, 10)) == 0       # the picture itself is not in the drawing

    box = page.locator(".drawing-layer").bounding_box()   # a mouse line across the top left
    page.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.1)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.1, steps=5)
    page.mouse.up()
    saved(page)
    both = _inked(_drawing(served))
    assert _alpha(both, (80, 30)) > 0 and _alpha(both, (216, 150)) > 0
    expect(page.locator("#polite")).to_contain_text("Line 2 drawn")

    page.get_by_role("button", name="Undo last line").click()
    saved(page)
    undone = _inked(_drawing(served))
    assert _alpha(undone, (80, 30)) == 0 and _alpha(undone, (216, 150)) > 0

    page.reload()                                 # after a reload the saved drawing is shown again
    page.get_by_role("heading", name="Question 1 of 1: Drawing").wait_for()
    expect(page.locator(".point-where")).to_contain_text("The drawing has lines.")
    page.get_by_role("button", name="Clear drawing").click()
    saved(page)
    assert _drawing(served) is None

    page.get_by_role("application").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Shift+ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    saved(page)
    final = submit(page, served)[("D1", "RESPONSE")]
    assert _alpha(_inked(final), (200, 155)) > 0


@pytest.mark.browser
def test_the_drawing_area_has_no_serious_accessibility_violations(browser, served):
    start(served)

    def first(page):
        page.get_by_role("heading", name="Question 1 of 1").wait_for()
        page.get_by_role("application").focus()
    assert_axe_clean(browser, served, [first])


def test_the_server_accepts_only_a_png_drawing(kiosk_db, journal_key):
    session, _ = new_session(kiosk_db, journal_key, bundle=FormBundle(*content()))
    session.open()
    session.accept_agreement()
    session.begin()
    drawing = "data:image/png;base64," + base64.b64encode(png(40, 30, seed=1)).decode()
    assert session.answer("D1", "RESPONSE", drawing)
    gif = "data:image/png;base64," + base64.b64encode(b"GIF89a" + bytes(20)).decode()
    for value, problem in ((gif, "is not a PNG"), ("data:image/svg+xml;base64,PHN2Zz4=", "must match"),
                           ("data:image/png;base64," + "A" * 100_000, "longer than"), (["x"], "must be a string")):
        with pytest.raises(ValidationError, match=problem):
            session.answer("D1", "RESPONSE", value)
    assert session.state.answers["D1"]["RESPONSE"] == drawing


def test_read_aloud_says_what_the_drawing_is_made_on() -> None:
    assert "Draw on the picture: Open circuit with a gap." in spoken(content, 0)
