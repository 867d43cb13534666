"""QTI mediaInteraction on the kiosk: a sound from the form package played with the keyboard in
headless Chromium, at most the item's number of times (the page stops offering it, the server
refuses a count above the limit or one that goes down), scanned by axe-core."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from playwright.sync_api import expect

from exam_core.errors import ValidationError
from exam_core.model import FormContent
from kiosk.content import FormBundle
from tests.support.av_files import tone
from tests.support.kiosk_interactions import spoken, assert_axe_clean, form_of, start, submit
from tests.support.kiosk_browser import Served, saved, until_exam
from tests.support.kiosk_session import new_session


def content() -> tuple[FormContent, dict[str, bytes]]:
    sound = tone()
    ref = {"sha256": hashlib.sha256(sound).hexdigest(), "mime": "audio/wav", "name": "tone.wav",
           "alt": "A steady tone"}
    item = {"item_id": "M1", "version": 1, "title": "Listening", "media": [ref],
            "body_html": '<div data-interaction="PLAYS"></div><div data-interaction="RESPONSE"></div>',
            "interactions": [
                {"type": "media", "response_id": "PLAYS", "cardinality": "single", "base_type": "integer",
                 "prompt_html": "Play the recording (at most twice).",
                 "player": {"media": ref, "min_plays": 1, "max_plays": 2}},
                {"type": "choice", "response_id": "RESPONSE", "cardinality": "single", "base_type": "identifier",
                 "prompt_html": "Which alarm is a steady tone?",
                 "choices": [{"id": "FIRE", "html": "Fire alarm"}, {"id": "GAS", "html": "Gas alarm"}]}]}
    return form_of([item], {ref["sha256"]: sound}, "Listening")


@pytest.fixture
def served(tmp_path):
    s = Served(tmp_path, content=content())
    yield s
    s.close()


def _plays(served) -> Any:
    return served.runtime.require_session().state.answers.get("M1", {}).get("PLAYS")


@pytest.mark.browser
def test_a_recording_plays_at_most_its_limit_by_keyboard(page, served):
    until_exam(page, served, "Question 1 of 1: Listening")
    status = page.locator(".media-status")
    expect(status).to_have_text("Played 0 of 2 times. Play it at least once before answering.")
    play = page.get_by_role("button", name="Play: A steady tone")
    play.focus()
    page.keyboard.press("Enter")
    saved(page)
    assert _plays(served) == 1
    expect(status).to_have_text("Played 1 of 2 times.")
    expect(play).to_be_focused(timeout=5000)          # the tone ended: focus is back on Play
    page.keyboard.press("Enter")
    saved(page)
    assert _plays(served) == 2
    expect(status).to_have_text("Played 2 of 2 times. No plays left.", timeout=5000)
    expect(play).to_be_disabled()
    expect(page.locator(".media-status")).to_be_focused()
    page.get_by_role("radio", name="Fire alarm").check()
    saved(page)
    finals = {response: value for (_, response), value in submit(page, served).items()}
    assert finals == {"PLAYS": 2, "RESPONSE": "FIRE"}


@pytest.mark.browser
def test_the_player_has_no_serious_accessibility_violations(browser, served):
    start(served)

    def first(page):
        page.get_by_role("heading", name="Question 1 of 1").wait_for()
        page.wait_for_load_state("networkidle")
    assert_axe_clean(browser, served, [first])


def test_the_server_keeps_the_play_count_honest(kiosk_db, journal_key):
    session, _ = new_session(kiosk_db, journal_key, bundle=FormBundle(*content()))
    session.open()
    session.accept_agreement()
    session.begin()
    assert session.answer("M1", "PLAYS", 1) and session.answer("M1", "PLAYS", 2)
    for value, problem in ((3, "at most 2"), (1, "2 were recorded already"), (0, "a play count"),
                           (None, "a play count"), (True, "a play count"), ("2", "a play count")):
        with pytest.raises(ValidationError, match=problem):
            session.answer("M1", "PLAYS", value)
    assert session.state.answers["M1"]["PLAYS"] == 2


def test_read_aloud_says_how_often_the_recording_may_be_played() -> None:
    assert "A recording: A steady tone. It may be played 2 times." in spoken(content, 0)
