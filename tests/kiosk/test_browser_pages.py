"""Every candidate screen, in every state, as a person sees it: Debian's Chromium at 1280x800 and
1024x768, with standard settings, larger text with high contrast, and the largest text with zoom.

Each screen is checked for what the issue found broken: only the current screen is shown and
reachable with Tab, the header stays one line, nothing scrolls sideways, the question is above
the fold, the timer stays in view, every target is at least 24 x 24 CSS pixels, one h1; axe-core
finds nothing serious or critical and no heading, landmark or label problem. Screenshots of every
screen and setting go to /tmp/invigil/shots/.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.kiosk_pages import (ALL_TOOLS, AXE, VIEWPORTS, Kiosk, axe, check_question_in_view, check_screen,
                                       check_timer_sticks, heading, open_fold, set_display, shot, tool)

pytestmark = pytest.mark.browser

#: (name, display settings): standard; self-service larger text with high contrast; the largest
#: text (granted) with the granted zoom on top.
SETTINGS: tuple[tuple[str, dict[str, Any]], ...] = (
            ("standard", {"text_size": 100, "contrast": "standard", "zoom": False}),
            ("larger-high-contrast", {"text_size": 150, "contrast": "high"}),
            ("largest-zoom", {"text_size": 200, "contrast": "standard", "zoom": True}))


@pytest.fixture
def kiosk(tmp_path):
    k = Kiosk(tmp_path, tools=ALL_TOOLS, large_text=True, zoom_percent=150, rest_breaks=1, rest_break_minutes=5,
              text_to_speech=True)
    yield k
    k.close()


class Walk:
    """Visits screens under every setting, checking, scanning and photographing each."""

    def __init__(self, page, viewport: str) -> None:
        self.page = page
        self.viewport = viewport
        self.violations: list[str] = []

    def visit(self, screen: str, name: str, extra=None) -> None:
        for setting, values in SETTINGS:
            set_display(self.page, **values)
            check_screen(self.page, screen)
            if extra is not None:
                extra(self.page)
            # axe on every screen, at both sizes; high contrast's colours once (they do not depend on the size)
            if setting == "standard" or (setting == "larger-high-contrast" and self.viewport == "1024x768"):
                self.violations += axe(self.page, f"{self.viewport} {name} {setting}")
            shot(self.page, f"{self.viewport}-{name}-{setting}")
        set_display(self.page, text_size=100, contrast="standard", zoom=False)


def exam_checks(page) -> None:
    check_question_in_view(page)
    check_timer_sticks(page)


def go_to_question(page, number: int, title: str) -> None:
    open_fold(page, "Questions")
    page.get_by_role("button", name=f"Question {number},", exact=False).click()
    heading(page, f"Question {number} of 10: {title}")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_every_screen_in_every_state(browser, kiosk, viewport):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run npm ci at the repository root")
    context = browser.new_context(bypass_csp=True, viewport=VIEWPORTS[viewport])  # CSP bypassed for axe only
    page = context.new_page()
    walk = Walk(page, viewport)
    try:
        page.goto(kiosk.url)
        heading(page, "Please wait")
        walk.visit("waiting", "01-waiting")
        kiosk.admit()
        heading(page, "Confirm your identity")
        walk.visit("identity", "02-identity")
        page.get_by_role("button", name="Yes, these are my details").click()
        heading(page, "Waiting for the proctor")
        walk.visit("awaiting_start", "03-awaiting-start")
        kiosk.start()
        heading(page, "How this examination is monitored")
        walk.visit("monitoring", "04-monitoring-notice")
        page.get_by_role("checkbox", name="I have read how this examination is monitored").check()
        page.get_by_role("button", name="Continue").click()
        heading(page, "Confidentiality and conduct agreement")
        walk.visit("agreement", "05-agreement")
        page.get_by_role("checkbox", name="I have read and accept this agreement").check()
        page.get_by_role("button", name="Continue").click()
        heading(page, "Instructions")
        walk.visit("instructions", "06-instructions")
        page.get_by_role("button", name="Begin the examination").click()
        heading(page, "Question 1 of 10: Single choice")
        walk.visit("exam", "07-question-choice", exam_checks)
        kiosk.command("message", {"text": "Ten minutes until the fire drill."})
        expect(page.get_by_role("region", name="Notices")).to_contain_text("Ten minutes until the fire drill.")
        walk.visit("exam", "08-question-with-proctor-message", check_timer_sticks)  # the message may push the question
        page.get_by_role("button", name="Dismiss message").click()
        go_to_question(page, 6, "Match")
        walk.visit("exam", "09-question-match", exam_checks)
        go_to_question(page, 10, "Hotspot")
        walk.visit("exam", "10-question-hotspot", exam_checks)
        page.get_by_role("button", name="Enlarge image: Diagram", exact=True).click()
        expect(page.get_by_role("dialog", name="Enlarged image: Diagram")).to_be_visible()
        shot(page, f"{viewport}-11-image-enlarged")
        page.keyboard.press("Escape")
        tool(page, "Scientific calculator").click()
        expect(page.get_by_role("dialog", name="Calculator")).to_be_visible()
        shot(page, f"{viewport}-12-calculator")
        page.keyboard.press("Escape")
        kiosk.command("pause", {"reason": "fire drill"})
        expect(page.get_by_role("alertdialog", name="The examination is paused")).to_be_visible()
        shot(page, f"{viewport}-13-paused")
        kiosk.command("resume")
        expect(page.get_by_role("alertdialog")).to_be_hidden()
        page.get_by_role("button", name="Review and submit").click()
        heading(page, "Review your answers")
        walk.visit("review", "14-review", check_timer_sticks)
        page.get_by_role("button", name="Submit my examination").click()
        expect(page.get_by_role("dialog", name="Submit your examination?")).to_be_visible()
        shot(page, f"{viewport}-15-submit-confirmation")
        page.get_by_role("button", name="Yes, submit").click()
        heading(page, "Your examination has been submitted")
        walk.visit("submitted", "16-submitted")
        page.get_by_role("button", name="I have written down my code").click()
        heading(page, "Please wait")
        walk.visit("waiting", "17-waiting-for-the-next-candidate")
        assert walk.violations == [], "\n".join(walk.violations)
    finally:
        context.close()
