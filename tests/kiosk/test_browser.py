"""The candidate UI in headless Chromium: a whole exam with every interaction type, keyboard only,
an axe-core scan, and the server-side checks (token, CSP, validation)."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from exam_core.model import INTERACTION_TYPES

from simulators.forms import ANSWERS
from tests.support.kiosk_browser import Served, axe_violations as _axe, saved as _saved, until_exam as _until_exam
from tests.support.kiosk_pages import AXE

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tmp_path):
    s = Served(tmp_path, large_text=True, high_contrast=True, zoom_percent=150, rest_breaks=1,
               rest_break_minutes=5, extra_time_percent=25)
    yield s
    s.close()


def _order_by_mouse(page, wanted: list[str]) -> None:
    page.get_by_role("button", name="Keep this order").click()
    _saved(page)
    for target_pos, ident in enumerate(wanted):
        while True:
            ids = page.eval_on_selector_all(".order-item", "els => els.map(e => e.dataset.id)")
            pos = ids.index(ident)
            if pos == target_pos:
                break
            page.locator(f'.order-item[data-id="{ident}"] button[data-dir="up"]').click()
            _saved(page)


def _answer_with_mouse(page, item_id: str) -> None:
    if item_id == "Q01":
        page.get_by_role("radio", name="Option B").check()
    elif item_id == "Q02":
        page.get_by_role("combobox").select_option("blue")
    elif item_id == "Q03":
        page.get_by_role("textbox").fill("Paris")
        page.get_by_role("textbox").blur()
    elif item_id == "Q04":
        page.get_by_role("textbox").fill(ANSWERS["Q04"])
        page.get_by_role("textbox").blur()
    elif item_id == "Q05":
        _order_by_mouse(page, ANSWERS["Q05"])
        return
    elif item_id == "Q06":
        page.get_by_role("checkbox", name="Match Hash with Fixed-size digest").check()
        _saved(page)
        page.get_by_role("checkbox", name="Match Signature with Proof of origin").check()
    elif item_id == "Q07":
        for a, b in ANSWERS["Q07"]:
            names = {"K1": "Key", "K2": "Lock", "K3": "Pen", "K4": "Paper"}
            page.get_by_role("combobox", name="First item of the pair").select_option(label=names[a])
            page.get_by_role("combobox", name="Second item of the pair").select_option(label=names[b])
            page.get_by_role("button", name="Add pair").click()
            _saved(page)
    elif item_id == "Q08":
        page.get_by_role("combobox", name="Gap 1").select_option("W100")
        _saved(page)
        page.get_by_role("combobox", name="Gap 2").select_option("W0")
    elif item_id == "Q09":
        page.get_by_role("button", name="sat", exact=True).click()
        _saved(page)
        page.get_by_role("button", name="slept", exact=True).click()
    elif item_id == "Q10":
        page.get_by_role("radio", name="Top left").click()
    _saved(page)


def test_whole_exam_with_every_interaction_type(page, served):
    rendered = set()
    _until_exam(page, served)
    for n, item_id in enumerate(ANSWERS):
        page.get_by_role("heading", name=f"Question {n + 1} of 10").wait_for()
        rendered |= set(page.eval_on_selector_all(
            ".interaction", "els => els.map(e => [...e.classList].find(c => c.startsWith('interaction-')))"))
        _answer_with_mouse(page, item_id)
        if n == 2:
            page.get_by_role("button", name="Flag for review").click()
            page.get_by_role("button", name="Flagged for review").wait_for()
        if n < 9:
            page.get_by_role("button", name="Next").click()
    # types added after this ten-item form are rendered by test_slider_graphic_order.py, test_graphic_pairs.py
    # test_media_player.py and test_drawing.py
    later = {"slider", "graphic_order", "graphic_associate", "graphic_gap_match", "media", "drawing"}
    assert {c.removeprefix("interaction-") for c in rendered} == set(INTERACTION_TYPES) - later
    page.get_by_role("button", name="Review and submit").click()
    expect(page.locator("#review-summary")).to_have_text("10 of 10 answered, 0 unanswered, 1 flagged.")
    page.get_by_role("button", name="Submit my examination").click()
    page.get_by_role("button", name="Yes, submit").click()
    page.get_by_role("heading", name="Your examination has been submitted").wait_for()
    code = page.locator("#receipt-code").text_content()
    payload = served.envelope_payload()
    assert {r["item_id"]: r["value"] for r in payload["responses"]} == ANSWERS
    assert code == served.runtime.admission["receipt"]["receipt_code"] and len(code) == 11
    assert [r["flagged"] for r in payload["responses"] if r["item_id"] == "Q03"] == [True]


def _tab_to(page, js_predicate: str, limit: int = 80) -> None:
    """Press Tab until the focused element satisfies the predicate (a JS expression over `el`)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return !!({js_predicate}); }})()"):
            return
    raise AssertionError(f"never reached an element with {js_predicate}")


def _label(text: str) -> str:
    return f"(el.getAttribute('aria-label') || el.textContent || '').trim() === {json.dumps(text)}"


def _press_on(page, label: str, key: str = "Enter") -> None:
    _tab_to(page, _label(label))
    page.keyboard.press(key)


def _choose_by_keys(page, predicate: str, option_value: str) -> None:
    """Focus a select by Tab, then move through its options with the arrow keys."""
    _tab_to(page, predicate)
    for _ in range(10):
        if page.evaluate("document.activeElement.value") == option_value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"option {option_value} not reached")


def _keyboard_answer(page, item_id: str) -> None:
    if item_id == "Q01":
        _tab_to(page, "el.type === 'radio'")
        for _ in range(5):
            if page.evaluate("document.activeElement.value") == "B":
                break
            page.keyboard.press("ArrowDown")
        page.keyboard.press("Space")
    elif item_id == "Q02":
        _choose_by_keys(page, "el.tagName === 'SELECT'", "blue")
    elif item_id in ("Q03", "Q04"):
        _tab_to(page, "el.tagName === 'INPUT' && el.type === 'text' || el.tagName === 'TEXTAREA'")
        page.keyboard.type("Paris" if item_id == "Q03" else ANSWERS["Q04"])
        page.keyboard.press("Tab")
    elif item_id == "Q05":
        names = {"S1": "Option S1", "S2": "Option S2", "S3": "Option S3"}
        _press_on(page, "Keep this order")
        _saved(page)
        page.locator("#item-heading").focus()
        for target_pos, ident in enumerate(ANSWERS["Q05"]):
            while True:
                ids = page.eval_on_selector_all(".order-item", "els => els.map(e => e.dataset.id)")
                if ids.index(ident) == target_pos:
                    break
                _press_on(page, f"Move {names[ident]} up")
                _saved(page)
                page.locator("#item-heading").focus()
        return
    elif item_id == "Q06":
        _press_on(page, "Match Hash with Fixed-size digest", "Space")
        _saved(page)
        _press_on(page, "Match Signature with Proof of origin", "Space")
    elif item_id == "Q07":
        for a, b in ANSWERS["Q07"]:
            _choose_by_keys(page, _label("First item of the pair"), a)
            _choose_by_keys(page, _label("Second item of the pair"), b)
            _press_on(page, "Add pair")
            _saved(page)
            page.locator("#item-heading").focus()
        return
    elif item_id == "Q08":
        _choose_by_keys(page, _label("Gap 1"), "W100")
        _choose_by_keys(page, _label("Gap 2"), "W0")
    elif item_id == "Q09":
        _press_on(page, "sat")
        _saved(page)
        _press_on(page, "slept")
    elif item_id == "Q10":
        _press_on(page, "Top left", "Space")
    _saved(page)


def test_keyboard_only_completion(page, served):
    page.goto(served.url)
    page.get_by_role("heading", name="Please wait").wait_for()
    served.admit_and_start()
    page.get_by_role("heading", name="Confirm your identity").wait_for()
    _press_on(page, "Yes, these are my details")
    page.get_by_role("heading", name="How this examination is monitored").wait_for()
    _tab_to(page, "el.id === 'monitoring-accept'")
    page.keyboard.press("Space")
    _press_on(page, "Continue")
    page.get_by_role("heading", name="Confidentiality and conduct agreement").wait_for()
    _tab_to(page, "el.id === 'agreement-accept'")
    page.keyboard.press("Space")
    _press_on(page, "Continue")
    page.get_by_role("heading", name="Instructions").wait_for()
    _press_on(page, "Begin the examination")
    for n, item_id in enumerate(ANSWERS):
        page.get_by_role("heading", name=f"Question {n + 1} of 10").wait_for()
        _keyboard_answer(page, item_id)
        page.locator("#item-heading").focus()
        if n < 9:
            _press_on(page, "Next")
    _press_on(page, "Review and submit")
    page.get_by_role("heading", name="Review your answers").wait_for()
    expect(page.locator("#review-summary")).to_contain_text("10 of 10 answered")
    _press_on(page, "Submit my examination")
    _press_on(page, "Yes, submit")
    page.get_by_role("heading", name="Your examination has been submitted").wait_for()
    assert {r["item_id"]: r["value"] for r in served.envelope_payload()["responses"]} == ANSWERS


def test_accessibility_scan_has_no_serious_or_critical_violations(browser, served):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run npm ci at the repository root")

    def waiting(page):
        page.get_by_role("heading", name="Please wait").wait_for()

    def identity(page):
        served.admit_and_start()
        page.get_by_role("heading", name="Confirm your identity").wait_for()

    def monitoring(page):
        page.get_by_role("button", name="Yes, these are my details").click()
        page.get_by_role("heading", name="How this examination is monitored").wait_for()

    def agreement(page):
        page.get_by_role("checkbox").check()
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("heading", name="Confidentiality and conduct agreement").wait_for()

    def instructions(page):
        page.get_by_role("checkbox").check()
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("heading", name="Instructions").wait_for()

    def item(n):
        def step(page):
            if n == 0:
                page.get_by_role("button", name="Begin the examination").click()
            else:
                page.get_by_role("button", name="Next").click()
            page.get_by_role("heading", name=f"Question {n + 1} of 10").wait_for()
            page.wait_for_load_state("networkidle")
        return step

    def high_contrast(page):
        page.get_by_role("button", name="Display").click()
        page.get_by_role("radio", name="High contrast").check()
        expect(page.locator("html")).to_have_class("high-contrast")
        page.get_by_role("button", name="Close display settings").click()

    def review(page):
        page.get_by_role("button", name="Review and submit").click()
        page.get_by_role("heading", name="Review your answers").wait_for()

    steps = [waiting, identity, monitoring, agreement, instructions, *(item(n) for n in range(10)),
             high_contrast, review]
    violations = _axe(browser, served.url, steps)
    assert violations == [], json.dumps([(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
                                         for v in violations], indent=1)


def test_pause_overlay_and_rest_break_stop_the_clock(page, served):
    _until_exam(page, served)
    rt, world = served.runtime, served.world
    assert rt.handle_command(world.command("pause", {"reason": "fire alarm"})).ok
    page.get_by_role("alertdialog", name="The examination is paused").wait_for()
    frozen = rt.session.remaining_ms()
    page.wait_for_timeout(1200)
    assert rt.session.remaining_ms() == frozen
    assert rt.handle_command(world.command("resume", {})).ok
    page.get_by_role("alertdialog").wait_for(state="hidden")
    if page.get_by_role("button", name="Tools").get_attribute("aria-expanded") == "false":
        page.get_by_role("button", name="Tools").click()  # folded: large text leaves no room beside the question
    page.get_by_role("button", name="Take a rest break (1 left)").click()
    page.get_by_role("alertdialog", name="Rest break").wait_for()
    page.get_by_role("button", name="Return to the examination").click()
    page.get_by_role("alertdialog").wait_for(state="hidden")
    page.get_by_role("button", name="Display").click()
    page.get_by_role("radio", name="Largest (200%)").check()  # beyond self-service: large_text is granted
    expect(page.locator("html")).to_have_css("font-size", "36px")
    used = rt.session.state.accommodations_used
    assert set(used) >= {"rest_breaks", "text_size"} and used["text_size"]["last_value"] == 200


def test_api_refuses_requests_without_the_page_token_and_bad_values(page, served):
    import urllib.error
    import urllib.request
    _until_exam(page, served)
    req = urllib.request.Request(served.url + "api/answer", method="POST",
                                 data=b'{"item_id":"Q01","response_id":"R1","value":"A"}',
                                 headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req)
    assert err.value.code == 403
    status = page.evaluate("""async () => {
        const token = document.querySelector('meta[name="kiosk-token"]').content;
        const r = await fetch('/api/answer', {method: 'POST', headers: {'X-Kiosk-Token': token,
            'Content-Type': 'application/json'},
            body: JSON.stringify({item_id: 'Q01', response_id: 'R1', value: 'ZZ'})});
        return [r.status, (await r.json()).field];
    }""")
    assert status == [400, "value"]
    response = page.request.get(served.url)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "<script>" not in response.text()


def test_timer_warning_and_automatic_submission_at_time_out(page, served):
    _until_exam(page, served)
    page.get_by_role("radio", name="Option C").check()
    _saved(page)
    session = served.runtime.session
    with session.lock:  # jump the time account to 59 s before the end (the clock itself is monotonic)
        session.clock._base_ms = session.allowed_ms() - 59_000 - session.clock.elapsed_ms() + session.clock._base_ms
    expect(page.locator("#warning-banner")).to_have_text("1 minute remaining", timeout=5000)
    assert {10, 5, 1} <= session.state.warnings
    expect(page.locator("#timer")).to_have_class("timer low")
    with session.lock:
        session.clock._base_ms += 58_500
    page.get_by_role("heading", name="Your examination has been submitted").wait_for(timeout=10000)
    payload = served.envelope_payload()
    assert payload["submission"]["reason"] == "timeout"
    assert [r["value"] for r in payload["responses"] if r["item_id"] == "Q01"] == ["C"]
