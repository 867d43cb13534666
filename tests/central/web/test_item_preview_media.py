"""Recordings play inside the staff item preview (issue 18): the sandboxed frame's own policy lets
it play sound and video (and their captions) from files the page carries inline, and nothing from
any server. Real Chromium, a real WAV and a real VP8 WebM imported through the CLI."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from item_bank_sync.web.items.preview import PREVIEW_CSP
from tests.support.av_files import captions, tone, webm_video
from tests.support.central_items import write_qti
from tests.support.staff_web import SHOTS, axe_serious

QTI3 = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"


def _media_item() -> str:
    """A QTI 3.0 item with a sound (an object) and a captioned video (HTML5), and a scored choice."""
    return (f'<qti-assessment-item xmlns="{QTI3}" identifier="av" title="Alarm and lockout" adaptive="false" '
            'time-dependent="false">'
            '<qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier">'
            '<qti-correct-response><qti-value>A</qti-value></qti-correct-response></qti-response-declaration>'
            '<qti-response-declaration identifier="HEAR" cardinality="single" base-type="integer"/>'
            '<qti-response-declaration identifier="SEE" cardinality="single" base-type="integer"/>'
            '<qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float"/><qti-item-body>'
            '<qti-media-interaction response-identifier="HEAR"><object type="audio/wav" data="media/alarm.bin">'
            'The alarm tone</object></qti-media-interaction>'
            '<qti-media-interaction response-identifier="SEE"><video title="Lockout demonstration">'
            '<source src="media/clip.webm" type="video/webm"/>'
            '<track kind="captions" src="media/en.vtt" srclang="en" label="English" default="default"/>'
            '</video></qti-media-interaction>'
            '<qti-choice-interaction response-identifier="RESPONSE" max-choices="1">'
            '<qti-simple-choice identifier="A">Fire</qti-simple-choice>'
            '<qti-simple-choice identifier="B">Gas</qti-simple-choice></qti-choice-interaction></qti-item-body>'
            '<qti-response-processing template="https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct"/>'
            '</qti-assessment-item>')


def test_sound_and_video_play_in_the_preview_frame(central, staff_web, signed_in_page, tmp_path: Path):
    folder = tmp_path / "q"
    (folder / "media").mkdir(parents=True)
    (folder / "media" / "alarm.bin").write_bytes(tone(1.0))          # typed by its bytes, not its name
    (folder / "media" / "clip.webm").write_bytes(webm_video(2.0))
    (folder / "media" / "en.vtt").write_bytes(captions((0.0, 2.0, "Isolate the supply first")))
    write_qti(folder, "av.xml", _media_item())
    assert central.json("import", folder, "--by", "wendy")["rejected"] == []

    mark = signed_in_page("mark", ("marker",))
    mark.goto(f"{staff_web.url}/items/av")
    frame = mark.frame_locator("iframe.preview")
    frame.get_by_role("button", name="Play: The alarm tone").click()
    frame.get_by_role("button", name="Play: Lockout demonstration").click()
    players = frame.locator(".media-player")
    expect(players).to_have_count(2)
    for index in range(2):
        player = players.nth(index)
        player.evaluate("""m => new Promise((done, fail) => {
            if (m.readyState >= 2) return done();
            m.addEventListener('canplay', done);
            m.addEventListener('error', () => fail(String(m.error && m.error.code)));
            setTimeout(() => fail('readyState ' + m.readyState), 10000); })""")
        assert player.evaluate("m => m.readyState") >= 2
        assert player.evaluate("m => m.src").startswith("blob:")   # made in the frame, fetched from nowhere
    assert players.nth(1).evaluate("m => m.textTracks[0].mode") == "showing"
    frame.locator(".media-player").nth(1).evaluate("""m => new Promise(done => {
        const t = m.textTracks[0]; if (t.activeCues && t.activeCues.length) return done();
        t.addEventListener('cuechange', done); })""")
    served = mark.request.get(f"{staff_web.url}/items/av/v/1/preview")
    assert served.headers["content-security-policy"] == PREVIEW_CSP
    assert axe_serious(mark) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    mark.screenshot(path=str(SHOTS / "H24-preview-media.png"), full_page=True)


def test_the_preview_policy_plays_only_what_the_frame_holds() -> None:
    """Recordings from blob: URLs the frame made, fetched only from data: URLs it holds: no server."""
    directives = dict(d.strip().split(" ", 1) for d in PREVIEW_CSP.split(";") if " " in d.strip())
    assert directives["media-src"] == "blob:" and directives["connect-src"] == "data:"
    assert directives["default-src"] == "'none'" and directives["img-src"] == "data:"
