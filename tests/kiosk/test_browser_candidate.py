"""The candidate's flow as a keyboard and screen-reader user meets it, and what each candidate may
see of another: real Chromium against a real kiosk on 127.0.0.1.

* a keyboard-only walk from the waiting screen to the receipt, through the display settings, the
  monitoring notice, strike-out, the calculator and the submit dialog (Escape closes it, focus
  stays inside it while open);
* the accessibility tree: names and roles of the groups, dialogs, navigation, timer and notices;
* the receipt shown only to the candidate who submitted, until cleared or timed out; after a
  proctor's end, only the receipt; nothing of the previous candidate (name, receipt, message,
  settings) for the next one;
* time changes announced once, in words.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from kiosk import pages

from tests.support.kiosk_pages import (ALL_TOOLS, Kiosk, check_screen, heading, open_fold, set_display,
                                       through_notice_and_agreement, to_exam)

pytestmark = pytest.mark.browser


@pytest.fixture
def kiosk(tmp_path):
    k = Kiosk(tmp_path, tools=ALL_TOOLS, large_text=True, rest_breaks=1, rest_break_minutes=5, text_to_speech=True)
    yield k
    k.close()


def focused(page) -> dict:
    return page.evaluate("""() => { const el = document.activeElement;
        const label = el.labels && el.labels.length ? el.labels[0].textContent : el.textContent;
        return {id: el.id, tag: el.tagName, name: (el.getAttribute('aria-label') || label || '').trim(),
                inDialog: !!el.closest('dialog[open]')}; }""")


def tab_to(page, name: str, limit: int = 80, key: str = "Tab") -> None:
    """Press Tab until the focused element's accessible text is ``name``."""
    for _ in range(limit):
        page.keyboard.press(key)
        if focused(page)["name"] == name:
            return
    raise AssertionError(f"Tab never reached {name!r}")


def test_keyboard_only_walk_of_the_whole_flow(page, kiosk):
    page.goto(kiosk.url)
    heading(page, "Please wait")
    tab_to(page, "Display")
    page.keyboard.press("Enter")
    expect(page.get_by_role("region", name="Display settings")).to_be_visible()
    assert focused(page)["tag"] == "INPUT"  # the panel takes focus
    page.keyboard.press("ArrowDown")        # Standard -> Large (125%), radio group arrows
    expect(page.locator("html")).to_have_css("font-size", "22.5px")
    page.keyboard.press("Escape")
    assert focused(page)["id"] == "btn-display"
    kiosk.admit()
    heading(page, "Confirm your identity")
    tab_to(page, "Yes, these are my details")
    page.keyboard.press("Enter")
    heading(page, "Waiting for the proctor")
    kiosk.start()
    heading(page, "How this examination is monitored")
    tab_to(page, "I have read how this examination is monitored")
    page.keyboard.press("Space")
    tab_to(page, "Continue")
    page.keyboard.press("Enter")
    heading(page, "Confidentiality and conduct agreement")
    tab_to(page, "I have read and accept this agreement")
    page.keyboard.press("Space")
    tab_to(page, "Continue")
    page.keyboard.press("Enter")
    heading(page, "Instructions")
    tab_to(page, "Begin the examination")
    page.keyboard.press("Enter")
    heading(page, "Question 1 of 10: Single choice")
    assert focused(page)["id"] == "item-heading"  # a new question is announced by its heading

    tab_to(page, "Strike out Option A")
    page.keyboard.press("Enter")
    expect(page.locator('.choice-row[data-choice="A"]')).to_have_class("choice-row struck")
    page.locator("#item-heading").focus()
    tab_to(page, "Option A (struck out)")  # the radio group: Tab enters it once, arrows choose
    for _ in range(4):
        if page.evaluate("document.activeElement.value") == "C":
            break
        page.keyboard.press("ArrowDown")
    expect(page.locator("#save-status")).to_have_text("Saved")
    tab_to(page, "Flag for review")
    page.keyboard.press("Enter")
    expect(page.locator("#btn-flag")).to_have_text("Flagged for review")

    page.locator("#item-heading").focus()
    if page.locator("#tools-toggle").get_attribute("aria-expanded") == "false":  # folded by the text size
        tab_to(page, "Tools", key="Shift+Tab")
        page.keyboard.press("Enter")
    tab_to(page, "Scientific calculator")
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "calc-input"
    page.keyboard.type("6*7")
    page.keyboard.press("Enter")
    expect(page.locator("#calc-result")).to_have_text("= 42")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Calculator")).to_be_hidden()
    assert focused(page)["id"] in ("tool-calculator", "tools-toggle")  # back where it was opened

    tab_to(page, "Review and submit")
    page.keyboard.press("Enter")
    heading(page, "Review your answers")
    tab_to(page, "Submit my examination")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Submit your examination?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("9 are unanswered")
    expect(dialog).to_contain_text("You flagged 1 for review (question 1).")
    for _ in range(6):  # focus is trapped: Tab never leaves the modal dialog for the page behind it
        page.keyboard.press("Tab")
        where = focused(page)
        assert where["inDialog"] or where["tag"] == "BODY", where
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert focused(page)["id"] == "btn-submit"
    page.keyboard.press("Enter")
    tab_to(page, "Yes, submit")
    page.keyboard.press("Enter")
    heading(page, "Your examination has been submitted")
    tab_to(page, "I have written down my code")
    page.keyboard.press("Enter")
    heading(page, "Please wait")
    payload = kiosk.envelope_payload()
    assert [r["value"] for r in payload["responses"] if r["item_id"] == "Q01"] == ["C"]
    assert payload["monitoring_notice"]["sha256"] and payload["monitoring_notice"]["acknowledged_at"]
    assert {"calculator", "strike_through", "text_size"} <= set(payload["accommodations"]["used"])


def test_accessibility_tree_names_and_roles(page, kiosk):
    to_exam(page, kiosk)
    group = page.get_by_role("group", name="Which option is the first? Choose one option.")
    expect(group).to_be_visible()  # named by the question, then its prompt
    for option in "ABCD":
        expect(group.get_by_role("radio", name=f"Option {option}", exact=True)).to_be_visible()
    expect(page.get_by_role("navigation", name="Questions (0 of 10 answered)")).to_be_visible()
    expect(page.get_by_role("timer", name="Time left")).to_contain_text("left")
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    open_fold(page, "Questions")
    expect(page.get_by_role("button", name="Question 1, not answered")).to_have_attribute("aria-current", "step")
    page.get_by_role("button", name="Question 6, not answered").click()
    expect(page.get_by_role("table", name="Which option is the first?")).to_have_count(0)
    matching = "Match each term to its definition. Match terms and definitions."
    expect(page.get_by_role("table", name=matching)).to_be_visible()
    open_fold(page, "Questions")
    page.get_by_role("button", name="Question 10, not answered").click()
    hotspots = "Select the top-left area. Select one area of the diagram."
    expect(page.get_by_role("radiogroup", name=hotspots)).to_be_visible()
    snapshot = page.locator("#screen-exam").aria_snapshot()
    assert 'heading "Question 10 of 10: Hotspot" [level=1]' in snapshot, snapshot
    assert 'button "Enlarge image: Diagram"' in snapshot
    kiosk.command("message", {"text": "Please sit still."})
    notices = page.get_by_role("region", name="Notices")
    expect(notices).to_contain_text("Message from the proctor at")
    expect(notices).to_contain_text("Please sit still.")
    notices.get_by_role("button", name="Dismiss message").click()
    expect(page.locator("#proctor-message")).to_be_hidden()
    kiosk.command("pause", {"reason": "noise"})
    expect(page.get_by_role("alertdialog", name="The examination is paused")).to_be_visible()
    kiosk.command("resume")
    expect(page.locator("#announcer")).to_contain_text("The examination continues.")
    page.get_by_role("button", name="Review and submit").click()
    page.get_by_role("button", name="Submit my examination").click()
    expect(page.get_by_role("dialog", name="Submit your examination?")).to_have_attribute("open", "")


def test_time_changes_are_announced_once_in_words(page, kiosk):
    to_exam(page, kiosk)
    kiosk.command("extend", {"seconds": 600, "reason": "fire drill"})
    announcer = page.locator("#announcer")
    expect(announcer).to_contain_text("The proctor gave you 10 minutes more.")
    expect(page.get_by_role("timer")).to_have_text("1 hour 10 minutes left")
    page.wait_for_timeout(1500)  # a second later nothing new is said: announcements follow changes only
    assert "gave you" in announcer.text_content()
    session = kiosk.runtime.session
    with session.lock:  # jump the time account to 4.5 minutes before the end
        session.clock._base_ms += session.remaining_ms() - 270_000
    expect(announcer).to_have_text("5 minutes remaining", timeout=5000)
    expect(page.get_by_role("timer")).to_have_text(re.compile(r"^4 minutes \d+ seconds left$"), timeout=3000)


def test_receipt_is_only_for_its_candidate_and_only_for_a_while(page, kiosk, monkeypatch):
    to_exam(page, kiosk)
    set_display(page, text_size=150, contrast="high")  # this candidate's own settings...
    kiosk.command("message", {"text": "Ada, your bag is by the door."})
    page.get_by_role("radio", name="Option B").check()
    expect(page.locator("#save-status")).to_have_text("Saved")
    kiosk.command("end", {"reason": "candidate left"})
    heading(page, "Your examination has been submitted")
    check_screen(page, "submitted")  # after the proctor's end: only the receipt, no question above it
    expect(page.locator("#submitted-reason")).to_have_text(
        "The proctor ended your examination; your answers so far were submitted.")
    code = page.locator("#receipt-code").text_content()
    assert code == kiosk.runtime.admission["receipt"]["receipt_code"]

    monkeypatch.setattr(pages, "RECEIPT_SECONDS", 1.0)  # nobody cleared it: it goes by itself
    heading(page, "Please wait")
    state = page.evaluate("""async () => (await fetch('/api/state', {headers: {'X-Kiosk-Token':
        document.querySelector('meta[name="kiosk-token"]').content}})).json()""")
    assert not {"candidate", "receipt_code", "accommodations"} & set(state) and state["messages"] == []
    text = page.locator("body").inner_text() + json.dumps(state)
    for secret in (code, "Ada Lovelace", "C123", "your bag"):
        assert secret not in text
    assert page.locator("#receipt-code").text_content() == ""
    expect(page.locator("html")).not_to_have_class("high-contrast")  # ...do not follow the next one

    kiosk.admit("ATT2", name="Grace Hopper")
    heading(page, "Confirm your identity")
    expect(page.locator("#i-name")).to_have_text("Grace Hopper")
    expect(page.locator("html")).to_have_css("font-size", "18px")  # her own (default) settings
    expect(page.locator("html")).not_to_have_class("high-contrast")
    assert code not in page.locator("body").inner_text() and "your bag" not in page.locator("body").inner_text()
    page.get_by_role("button", name="Yes, these are my details").click()
    kiosk.start()
    through_notice_and_agreement(page)
    page.get_by_role("button", name="Begin the examination").click()
    heading(page, "Question 1 of 10: Single choice")
    expect(page.get_by_role("radio", name="Option B")).not_to_be_checked()


def test_agreement_needs_the_current_monitoring_notice(page, kiosk):
    page.goto(kiosk.url)
    kiosk.admit()
    kiosk.runtime.confirm_identity()
    kiosk.start()
    heading(page, "How this examination is monitored")
    expect(page.get_by_role("list").first).to_contain_text("The examination page.")
    token = page.locator('meta[name="kiosk-token"]').get_attribute("content")
    reply = page.request.post(kiosk.url + "api/agreement", headers={"X-Kiosk-Token": token},
                              data={"accepted": True})
    assert reply.status == 400 and reply.json()["field"] == "monitoring_notice"
    reply = page.request.post(kiosk.url + "api/agreement", headers={"X-Kiosk-Token": token},
                              data={"accepted": True, "monitoring_notice": "0" * 64})
    assert reply.status == 400
    assert kiosk.runtime.session.state.phase == "agreement"
    page.get_by_role("checkbox", name="I have read how this examination is monitored").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Back to the monitoring notice").click()
    heading(page, "How this examination is monitored")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("checkbox", name="I have read and accept this agreement").check()
    page.get_by_role("button", name="Continue").click()
    heading(page, "Instructions")
    notice = kiosk.runtime.session.state.monitoring_notice
    assert notice["version"] == "invigil-monitoring-notice/1" and notice["checks"] == "page_signals"
    assert kiosk.runtime.outbox.pending()[-1].kind == "event"
    expect(page.locator("#instructions-standard")).to_contain_text("There are 10 questions. You have 1 hour.")
