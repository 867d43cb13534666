"""Candidate tools in Debian's Chromium against a real kiosk: the calculator's arithmetic (its own
parser: the page has no eval), highlights, struck-out options and the scratch pad kept per question
across navigation, a reload and a kiosk restart, the line reader, read-aloud, and every use recorded
in the sealed result. A form without tools shows none."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.kiosk_pages import ALL_TOOLS, Kiosk, heading, open_fold, set_display, to_exam, tool

pytestmark = pytest.mark.browser

#: (expression, mode, expected display or error fragment)
CALCULATIONS = [
    ("1+2*3", "basic", "7"), ("0.1+0.2", "basic", "0.3"), ("(2+3)×4", "basic", "20"), ("√16+50%", "basic", "4.5"),
    ("7÷2", "basic", "3.5"), ("2(3+4)", "basic", "14"), ("-2^2", "scientific", "-4"), ("2^3^2", "scientific", "512"),
    ("sin 30", "scientific", "0.5"), ("sin(30)^2", "scientific", "0.25"), ("2π", "scientific", "6.28318530718"),
    ("ln e", "scientific", "1"), ("log 1000", "scientific", "3"), ("5!", "scientific", "120"),
    ("1e3/4", "basic", "250"), ("asin 1", "scientific", "90"), ("sin -30", "scientific", "-0.5"),
    ("1/0", "basic", "cannot divide by zero"), ("(1+2", "basic", "a closing bracket is missing"),
    ("1.2.3", "basic", "two decimal points"), ("3 4", "basic", "cannot stand here"),
    ("2^2", "basic", "powers are on the scientific calculator"), ("sin 30", "basic", "on the scientific calculator"),
    ("alert(1)", "scientific", "is not a function the calculator knows"), ("√-1", "basic", "negative"),
    ("9" * 600, "basic", "longer than 500"), ("(" * 150 + "1", "basic", "too many brackets"),
]


@pytest.fixture
def kiosk(tmp_path):
    k = Kiosk(tmp_path, tools=ALL_TOOLS, rest_breaks=0, text_to_speech=True)
    yield k
    k.close()


def test_calculator_arithmetic_is_parsed_never_evaluated(page, kiosk):
    page.goto(kiosk.url)
    results = page.evaluate("""async (cases) => {
        const calc = await import('/static/calc.js');
        return cases.map(([text, mode]) => {
            try { return calc.formatResult(calc.evaluate(text, {mode})); }
            catch (err) { return `error: ${err.message}`; }
        });
    }""", [[text, mode] for text, mode, _ in CALCULATIONS])
    for (text, mode, wanted), got in zip(CALCULATIONS, results):
        assert got == wanted if wanted[0].isdigit() or wanted[0] == "-" else wanted in got, (text[:20], mode, got)


def select_text(page, selector: str, start: int, end: int) -> None:
    """Select characters [start, end) of the element's first text node, as a mouse drag would."""
    page.evaluate("""([selector, start, end]) => {
        const node = document.querySelector(selector).firstChild;
        const range = document.createRange();
        range.setStart(node, start); range.setEnd(node, end);
        const selection = window.getSelection(); selection.removeAllRanges(); selection.addRange(range);
    }""", [selector, start, end])


def test_highlights_strikes_and_notes_stay_with_their_question(page, kiosk):
    to_exam(page, kiosk)
    tool(page, "Highlighter").click()
    select_text(page, "#item-body > p", 6, 12)  # "Which option is the first?" -> "option"
    page.get_by_role("button", name="Highlight the selected text").click()
    expect(page.locator("#item-body mark.hl")).to_have_text("option")
    page.get_by_role("button", name="Strike out Option D").click()
    expect(page.locator('.choice-row[data-choice="D"]')).to_have_class("choice-row struck")
    expect(page.get_by_role("radio", name="Option D (struck out)")).to_be_visible()
    tool(page, "Scratch pad").click()
    page.get_by_role("textbox", name="Notes for yourself. They are not marked and stay on this kiosk.").fill("B or C?")
    expect(page.locator("#scratch-status")).to_have_text("Notes saved")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Next").click()
    heading(page, "Question 2 of 10: Inline choice")
    expect(page.locator("#item-body mark.hl")).to_have_count(0)  # highlights are per question
    page.get_by_role("button", name="Previous").click()
    heading(page, "Question 1 of 10: Single choice")
    expect(page.locator("#item-body mark.hl")).to_have_text("option")
    expect(page.get_by_role("button", name="Strike out Option D")).to_have_attribute("aria-pressed", "true")

    kiosk.restart()  # the kiosk goes down; the proctor approves the resume; the page comes back
    page.goto(kiosk.url)
    heading(page, "Question 1 of 10: Single choice")
    expect(page.locator("#item-body mark.hl")).to_have_text("option")
    expect(page.locator('.choice-row[data-choice="D"]')).to_have_class("choice-row struck")
    tool(page, "Scratch pad").click()
    expect(page.locator("#scratch-text")).to_have_value("B or C?")
    page.keyboard.press("Escape")

    tool(page, "Highlighter").click()
    page.locator("#item-body mark.hl").click()  # with the highlighter on, a click removes a highlight
    expect(page.locator("#item-body mark.hl")).to_have_count(0)
    session = kiosk.runtime.session
    assert session.state.annotations["Q01"] == {"highlight": [], "strike": ["D"]}
    assert session.state.annotations[""] == {"scratch": "B or C?"}


def test_line_reader_follows_the_focus_and_hides_from_screen_readers(page, kiosk):
    to_exam(page, kiosk)
    tool(page, "Line reader").click()
    reader = page.locator("#line-reader")
    expect(reader).to_be_visible()
    expect(reader).to_have_attribute("aria-hidden", "true")
    page.get_by_role("button", name="Next").focus()
    box = page.get_by_role("button", name="Next").bounding_box()
    band = page.locator("#line-reader .lr-band").bounding_box()
    assert band["y"] <= box["y"] + box["height"] / 2 <= band["y"] + band["height"]
    page.get_by_role("button", name="Next").click()  # the shade lets clicks through
    heading(page, "Question 2 of 10: Inline choice")
    before = page.locator("#line-reader .lr-band").bounding_box()["y"]
    page.keyboard.press("Alt+ArrowDown")
    assert page.locator("#line-reader .lr-band").bounding_box()["y"] > before
    tool(page, "Line reader").click()
    expect(reader).to_be_hidden()


def test_read_aloud_plays_the_question_from_the_kiosk(page, kiosk):
    to_exam(page, kiosk)
    tool(page, "Read aloud").click()
    expect(page.locator("#speech-status")).to_have_text("Reading the question aloud")
    duration = page.evaluate("""() => new Promise((resolve) => {
        const audio = document.getElementById('speech-audio');
        if (audio.readyState >= 1) resolve(audio.duration);
        else audio.addEventListener('loadedmetadata', () => resolve(audio.duration), {once: true});
    })""")
    assert 3 < duration < 30  # "Question 1 of 10. Which option is the first? ... Option 4: ..."
    assert page.evaluate("document.getElementById('speech-audio').src").startswith("blob:")
    page.get_by_role("button", name="Stop reading").click()
    expect(page.locator("#speech")).to_be_hidden()


def test_every_tool_used_is_recorded_in_the_sealed_result(page, kiosk):
    to_exam(page, kiosk)
    for name in ("Scientific calculator", "Scratch pad"):
        tool(page, name).click()
        page.keyboard.press("Escape")
    tool(page, "Line reader").click()
    tool(page, "Line reader").click()
    tool(page, "Highlighter").click()
    select_text(page, "#item-body > p", 0, 5)
    page.get_by_role("button", name="Highlight the selected text").click()
    page.get_by_role("button", name="Strike out Option A").click()
    tool(page, "Read aloud").click()
    expect(page.locator("#speech-status")).to_have_text("Reading the question aloud")
    page.get_by_role("button", name="Review and submit").click()
    page.get_by_role("button", name="Submit my examination").click()
    page.get_by_role("button", name="Yes, submit").click()
    heading(page, "Your examination has been submitted")
    used = kiosk.envelope_payload()["accommodations"]["used"]
    assert {"calculator", "scratch_pad", "line_reader", "highlighter", "strike_through", "text_to_speech"} <= set(used)
    assert all(used[name]["uses"] >= 1 and used[name]["first_used"] for name in used)


def test_a_form_without_tools_offers_none_and_the_kiosk_refuses_them(page, tmp_path):
    kiosk = Kiosk(tmp_path, text_to_speech=True)  # granted read-aloud, but the form's scheme permits no tool
    try:
        to_exam(page, kiosk)
        open_fold(page, "Tools")
        expect(page.locator("#tools")).to_be_hidden()
        expect(page.get_by_role("button", name="Strike out Option A")).to_have_count(0)
        token = page.locator('meta[name="kiosk-token"]').get_attribute("content")
        headers = {"X-Kiosk-Token": token}
        assert page.request.get(kiosk.url + "api/speech/0", headers=headers).status == 400
        for body in ({"name": "calculator", "value": True}, {"name": "text_to_speech", "value": True}):
            reply = page.request.post(kiosk.url + "api/accommodation", headers=headers, data=body)
            assert reply.status == 400 and reply.json()["field"] == "name"
        reply = page.request.post(kiosk.url + "api/annotate", headers=headers,
                                  data={"item_id": "Q01", "kind": "highlight", "value": [[0, 3]]})
        assert reply.status == 400 and reply.json()["field"] == "kind"
    finally:
        kiosk.close()


def test_zoom_enlarges_the_question_images_once_and_clicks_still_land(page, tmp_path):
    kiosk = Kiosk(tmp_path, zoom_percent=150)
    try:
        to_exam(page, kiosk)
        open_fold(page, "Questions")
        page.get_by_role("button", name="Question 10, not answered").click()
        heading(page, "Question 10 of 10: Hotspot")
        set_display(page, zoom=True)
        expect(page.locator("html")).to_have_css("font-size", "27px")  # text and images: 150 %
        stage = page.locator(".hotspot-stage").bounding_box()
        assert abs(stage["width"] - 300) <= 1 and abs(stage["height"] - 150) <= 1, stage  # 200 x 100 image, once
        page.mouse.click(stage["x"] + stage["width"] * 0.8, stage["y"] + stage["height"] * 0.25)  # top right
        expect(page.locator("#save-status")).to_have_text("Saved")
        assert kiosk.runtime.session.state.answers["Q10"] == {"R1": "TR"}
    finally:
        kiosk.close()
