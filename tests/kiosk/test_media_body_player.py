"""Listening items on the kiosk (issue 18): a recording in the body or a prompt that is not an
interaction (QTI HTML5 ``audio``/``video`` imported as ``Item.players``) is played with the page's
own Play / Pause buttons and captions, never the browser's controls, as often as the candidate
likes (no limit unless the item gives one), and nothing is saved when it plays. Real Chromium,
real WAV and VP8 WebM made here, real WebVTT; scanned by axe-core."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from playwright.sync_api import expect

from exam_core.model import FormContent
from tests.support.av_files import captions, tone, webm_video
from tests.support.kiosk_browser import Served, saved, until_exam
from tests.support.kiosk_interactions import assert_axe_clean, form_of, spoken, start, submit

SHOTS = "/tmp/invigil/shots"


def _ref(data: bytes, mime: str, name: str, alt: str = "") -> dict[str, Any]:
    ref = {"sha256": hashlib.sha256(data).hexdigest(), "mime": mime, "name": name}
    return {**ref, "alt": alt} if alt else ref


def content() -> tuple[FormContent, dict[str, bytes]]:
    sound, clip, english = tone(), webm_video(1.0), captions((0.0, 1.0, "Lock the isolator off"))
    audio = _ref(sound, "audio/wav", "alarm.wav", "The alarm")
    video = _ref(clip, "video/webm", "lockout.webm", "Locking off")
    vtt = _ref(english, "text/vtt", "en.vtt")
    item = {"item_id": "L1", "version": 1, "title": "Listening", "media": [audio, video, vtt],
            "body_html": '<p>Listen to the alarm, then choose.</p><div data-player="1"></div>'
                         '<div data-interaction="RESPONSE"></div>',
            "players": [{"media": audio},
                        {"media": video, "tracks": [{"media": vtt, "srclang": "en", "label": "English",
                                                     "default": True}]}],
            "interactions": [
                {"type": "choice", "response_id": "RESPONSE", "cardinality": "single", "base_type": "identifier",
                 "prompt_html": '<p>Then watch:</p><div data-player="2"></div><p>Which alarm was it?</p>',
                 "choices": [{"id": "FIRE", "html": "Fire alarm"}, {"id": "GAS", "html": "Gas alarm"}]}]}
    return form_of([item], {audio["sha256"]: sound, video["sha256"]: clip, vtt["sha256"]: english}, "Listening")


@pytest.fixture
def served(tmp_path):
    s = Served(tmp_path, content=content())
    yield s
    s.close()


@pytest.mark.browser
def test_a_body_recording_plays_again_and_again_with_the_pages_own_buttons(page, served):
    until_exam(page, served, "Question 1 of 1: Listening")
    players = page.locator(".body-player .media-player")
    expect(players).to_have_count(2)
    controls = "Array.from(document.querySelectorAll('.body-player audio, .body-player video'), m => m.controls)"
    assert page.evaluate(controls) == [False, False]
    play = page.get_by_role("button", name="Play: The alarm")
    status = page.locator(".body-player .media-status").first
    expect(status).to_have_text("Played 0 times.")
    for count in (1, 2, 3):                               # no limit: the item gives none
        expect(play).to_be_enabled(timeout=5000)
        play.focus()
        page.keyboard.press("Enter")
        expect(status).to_have_text(f"Played {count} time{'' if count == 1 else 's'}.")
        expect(play).to_be_focused(timeout=5000)          # the tone ended: focus back on Play
    expect(page.get_by_label("Captions")).to_have_value("0")   # the video's default captions
    page.screenshot(path=f"{SHOTS}/H31-body-player.png", full_page=True)
    page.get_by_role("radio", name="Fire alarm").check()
    saved(page)
    finals = {response: value for (_, response), value in submit(page, served).items()}
    assert finals == {"RESPONSE": "FIRE"}                 # playing records nothing


@pytest.mark.browser
def test_the_body_players_have_no_serious_accessibility_violations(browser, served):
    start(served)

    def first(page):
        page.get_by_role("heading", name="Question 1 of 1").wait_for()
        page.wait_for_load_state("networkidle")
    assert_axe_clean(browser, served, [first])


def test_read_aloud_names_the_recordings_of_the_item() -> None:
    said = spoken(content, 0)
    assert "A recording: The alarm." in said and "A recording: Locking off." in said
