"""Captions of a recording on the kiosk (QTI ``track``, WebVTT from the form package): a video
shows the item's default track as it plays, an audio recording writes the current cue below the
player, the candidate switches captions off or on with a labelled list (keyboard), and the page
stays clean under axe-core. Real Chromium, real VP8 WebM and WAV, real WebVTT."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from playwright.sync_api import expect

from exam_core.model import FormContent
from tests.support.av_files import captions, tone, webm_video
from tests.support.kiosk_browser import Served, until_exam
from tests.support.kiosk_interactions import assert_axe_clean, form_of, start


def _ref(data: bytes, mime: str, name: str, alt: str = "") -> dict[str, Any]:
    ref = {"sha256": hashlib.sha256(data).hexdigest(), "mime": mime, "name": name}
    return {**ref, "alt": alt} if alt else ref


def content() -> tuple[FormContent, dict[str, bytes]]:
    clip, sound = webm_video(2.0), tone(2.0)
    english = captions((0.0, 2.0, "Isolate the supply first"))
    welsh = captions((0.0, 2.0, "Ynyswch y cyflenwad yn gyntaf"))
    spoken = captions((0.0, 2.0, "A steady tone sounds"))
    video, audio = _ref(clip, "video/webm", "lockout.webm", "Lockout demonstration"), _ref(sound, "audio/wav", "t.wav")
    vtt = {name: _ref(data, "text/vtt", f"{name}.vtt") for name, data in
           (("en", english), ("cy", welsh), ("tone", spoken))}
    item = {"item_id": "V1", "version": 1, "title": "Watching", "media": [video, audio, *vtt.values()],
            "body_html": '<div data-interaction="WATCH"></div><div data-interaction="LISTEN"></div>',
            "interactions": [
                {"type": "media", "response_id": "WATCH", "cardinality": "single", "base_type": "integer",
                 "prompt_html": "Watch the demonstration.",
                 "player": {"media": video, "tracks": [
                     {"media": vtt["en"], "kind": "captions", "srclang": "en", "label": "English", "default": True},
                     {"media": vtt["cy"], "kind": "subtitles", "srclang": "cy", "label": "Cymraeg"}]}},
                {"type": "media", "response_id": "LISTEN", "cardinality": "single", "base_type": "integer",
                 "prompt_html": "Listen to the alarm.",
                 "player": {"media": audio, "tracks": [{"media": vtt["tone"], "srclang": "en", "label": "English"}]}}]}
    files = {r["sha256"]: d for r, d in ((video, clip), (audio, sound), (vtt["en"], english), (vtt["cy"], welsh),
                                         (vtt["tone"], spoken))}
    return form_of([item], files, "Watching")


@pytest.fixture
def served(tmp_path):
    s = Served(tmp_path, content=content())
    yield s
    s.close()


def _wait_track_modes(page, index: int, expected: list[str]) -> None:
    """Wait until the player's tracks have these modes (the browser's own pick settles first);
    Playwright's timeout fails the test when they never do."""
    page.wait_for_function("""([i, want]) => JSON.stringify(Array.from(
        document.querySelectorAll('.media-player')[i].textTracks, t => t.mode)) === JSON.stringify(want)""",
                           arg=[index, expected], timeout=5000)


def _active_cues(page, index: int) -> list[str]:
    return page.evaluate("""(i) => Array.from(document.querySelectorAll('.media-player')[i].textTracks)
        .flatMap(t => Array.from(t.activeCues || [], c => c.text))""", index)


@pytest.mark.browser
def test_a_video_shows_its_default_captions_and_the_candidate_switches_them(page, served):
    until_exam(page, served, "Question 1 of 1: Watching")
    chooser = page.get_by_label("Captions").first
    expect(chooser).to_have_value("0")                      # the item's default track, English
    _wait_track_modes(page, 0, ["showing", "disabled"])
    page.get_by_role("button", name="Play: Lockout demonstration").press("Enter")
    page.wait_for_function("document.querySelectorAll('.media-player')[0].readyState >= 2")
    page.wait_for_function("""Array.from(document.querySelectorAll('.media-player')[0].textTracks)
        .some(t => t.activeCues && t.activeCues.length)""")
    assert _active_cues(page, 0) == ["Isolate the supply first"]
    chooser.focus()
    page.keyboard.press("ArrowDown")                         # the next track, by keyboard alone
    expect(chooser).to_have_value("1")
    _wait_track_modes(page, 0, ["disabled", "showing"])
    chooser.select_option("")
    _wait_track_modes(page, 0, ["disabled", "disabled"])


@pytest.mark.browser
def test_captions_of_a_sound_are_written_below_the_player(page, served):
    until_exam(page, served, "Question 1 of 1: Watching")
    chooser = page.get_by_label("Captions").nth(1)
    expect(chooser).to_have_value("")                        # no default: off until chosen
    chooser.select_option("0")
    page.get_by_role("button", name="Play: the recording").click()
    expect(page.locator(".media-captions")).to_have_text("A steady tone sounds", timeout=5000)


@pytest.mark.browser
def test_the_caption_list_has_no_serious_accessibility_violations(browser, served):
    start(served)

    def first(page):
        page.get_by_role("heading", name="Question 1 of 1").wait_for()
        page.wait_for_load_state("networkidle")
    assert_axe_clean(browser, served, [first])
