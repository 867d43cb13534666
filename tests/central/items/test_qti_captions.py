"""Captions of a recording (QTI ``track`` in an HTML5 ``video``/``audio`` of a mediaInteraction):
imported with their WebVTT file checked by its content, carried with the item like other media,
exported and re-imported equal; a file that is not WebVTT text, or a kind the kiosk cannot show,
refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from exam_core.model import CaptionTrack
from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.items.media import MAX_VTT_BYTES
from tests.support.av_files import captions, tone, webm_video
from tests.support.central_items import write_qti
from tests.support.qti_roundtrip import export_and_reimport, imported, parse

QTI3 = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
QTI22 = "http://www.imsglobal.org/xsd/imsqti_v2p2"
QH5 = "http://www.imsglobal.org/xsd/imsqtiv2p2_html5_v1p0"
ENGLISH = captions((0.0, 1.0, "Isolate the supply first"))
PROCESSING3 = ('<qti-response-processing template="https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/'
               'match_correct"/>')


def video_item(player: str) -> str:
    """A QTI 3.0 item: a video the candidate watches, and a choice scored as usual."""
    return (f'<qti-assessment-item xmlns="{QTI3}" identifier="cap" title="Lockout" adaptive="false" '
            'time-dependent="false">'
            '<qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier">'
            '<qti-correct-response><qti-value>A</qti-value></qti-correct-response></qti-response-declaration>'
            '<qti-response-declaration identifier="PLAYS" cardinality="single" base-type="integer"/>'
            '<qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float"/>'
            f'<qti-item-body><qti-media-interaction response-identifier="PLAYS" max-plays="2">{player}'
            '</qti-media-interaction><qti-choice-interaction response-identifier="RESPONSE" max-choices="1">'
            '<qti-simple-choice identifier="A">Isolate</qti-simple-choice>'
            '<qti-simple-choice identifier="B">Lock</qti-simple-choice></qti-choice-interaction></qti-item-body>'
            f'{PROCESSING3}</qti-assessment-item>')


VIDEO = ('<video width="64" height="48" title="Lockout demonstration">'
         '<source src="media/clip.webm" type="video/webm"/>'
         '<track kind="captions" src="media/en.vtt" srclang="en" label="English" default="default"/>'
         '<track kind="subtitles" src="media/cy.captions" srclang="cy" label="Cymraeg"/></video>')


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    media = tmp_path / "media"
    media.mkdir()
    (media / "clip.webm").write_bytes(webm_video())
    (media / "tone.wav").write_bytes(tone())
    (media / "en.vtt").write_bytes(ENGLISH)
    (media / "cy.captions").write_bytes(captions((0.0, 1.0, "Ynyswch y cyflenwad")))  # typed by content
    return tmp_path


def test_captions_are_imported_with_the_recording(folder: Path) -> None:
    parsed = imported(write_qti(folder, "i.xml", video_item(VIDEO)))
    player = parsed.item.interactions[0].player
    assert player is not None and player.media.mime == "video/webm"
    assert player.media.alt == "Lockout demonstration" and (player.media.width, player.media.height) == (64, 48)
    english, welsh = player.tracks
    assert (english.kind, english.srclang, english.label, english.default) == ("captions", "en", "English", True)
    assert (welsh.kind, welsh.srclang, welsh.label, welsh.default) == ("subtitles", "cy", "Cymraeg", False)
    assert {english.media.mime, welsh.media.mime} == {"text/vtt"}
    assert parsed.media[english.media.sha256][1] == ENGLISH                 # the bytes travel with the item
    assert {m.sha256 for m in parsed.item.media} >= {english.media.sha256, welsh.media.sha256}


def test_captions_round_trip_through_export(folder: Path, tmp_path: Path) -> None:
    first = imported(write_qti(folder, "i.xml", video_item(VIDEO)))
    out = tmp_path / "export"
    out.mkdir()
    again = export_and_reimport(first, out)
    assert again.item == first.item and again.key == first.key
    assert again.item.to_dict() == first.item.to_dict()


def test_a_recording_without_captions_keeps_its_stored_form() -> None:
    """Items stored before captions existed serialise exactly as before (no ``tracks`` key)."""
    track = CaptionTrack.from_dict({"media": {"sha256": "a" * 64, "mime": "text/vtt"}})
    assert track.kind == "captions"
    parsed = imported(Path(__file__).parents[2] / "data/qti-corpus/invigil/media-audio-plays.xml")
    assert "tracks" not in parsed.item.interactions[0].to_dict()["player"]


def test_qti22_html5_audio_with_captions(folder: Path) -> None:
    xml = (f'<assessmentItem xmlns="{QTI22}" xmlns:qh5="{QH5}" identifier="a22" title="Alarm" adaptive="false" '
           'timeDependent="false"><responseDeclaration identifier="PLAYS" cardinality="single" baseType="integer"/>'
           '<responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">'
           '<correctResponse><value>A</value></correctResponse></responseDeclaration>'
           '<itemBody><mediaInteraction responseIdentifier="PLAYS" autostart="false">'
           '<qh5:audio src="media/tone.wav">A steady alarm tone<qh5:track src="media/en.vtt" srclang="en"/>'
           '</qh5:audio></mediaInteraction><choiceInteraction responseIdentifier="RESPONSE" maxChoices="1">'
           '<simpleChoice identifier="A">Fire</simpleChoice><simpleChoice identifier="B">Gas</simpleChoice>'
           '</choiceInteraction></itemBody>'
           '<responseProcessing template="http://www.imsglobal.org/question/qti_v2p2/rptemplates/match_correct"/>'
           '</assessmentItem>')
    parsed = imported(write_qti(folder, "a.xml", xml))
    player = parsed.item.interactions[0].player
    assert player is not None and player.media.mime == "audio/wav" and player.media.alt == "A steady alarm tone"
    (track,) = player.tracks
    assert (track.kind, track.srclang) == ("subtitles", "en")               # HTML's default kind


def _track(src: str, kind: str = "captions", lang: str = "en") -> str:
    return (f'<video title="Clip"><source src="media/clip.webm" type="video/webm"/>'
            f'<track kind="{kind}" src="{src}" srclang="{lang}"/></video>')


@pytest.mark.parametrize("name, data, player, element, problem", [
    ("bad.vtt", b"1\n00:00:00,000 --> 00:00:01,000\nSRT, not WebVTT\n", None, "track[1]", "no WEBVTT header"),
    ("bad.vtt", b"WEBVTT\n\n00:00.000 --> 00:01.000\n\x00\x01binary", None, "track[1]", "control characters"),
    ("bad.vtt", b"WEBVTT\n\n00:00.000 --> 00:01.000\n\xff\xfe", None, "track[1]", "not UTF-8"),
    ("bad.vtt", b"WEBVTT\n\nSTYLE\n::cue { background: url(http://x/) }\n", None, "track[1]", "STYLE block"),
    ("bad.vtt", b"WEBVTT\n" + b"a" * MAX_VTT_BYTES, None, "track[1]", "more than"),
    ("bad.vtt", b"\x89PNG\r\n\x1a\n", None, "track[1]", "no WEBVTT header"),
    ("en.vtt", b"", _track("media/en.vtt", "descriptions"), "track[1]", "text descriptions are not delivered"),
    ("en.vtt", b"", _track("media/missing.vtt"), "track[1]", "not found"),
    ("en.vtt", b"", _track("media/en.vtt", lang="en us"), "track[1].srclang", "must match"),
    ("en.vtt", b"", '<video title="c"><source src="media/clip.webm"/><p>old browsers</p></video>', "video/p",
     "only source and track"),
    ("en.vtt", b"", '<video title="c" src="media/en.vtt"/>', "video", "is not WAV, Ogg"),
])
def test_captions_we_cannot_trust_are_refused(folder: Path, name: str, data: bytes, player: str | None,
                                               element: str, problem: str) -> None:
    if data:
        (folder / "media" / name).write_bytes(data)
    outcome = parse(write_qti(folder, "i.xml", video_item(player or _track(f"media/{name}"))))
    assert isinstance(outcome, ItemRejected), "expected a rejection"
    assert element in outcome.element and problem in outcome.problem, outcome.reason


def test_chapters_are_removed_with_a_warning_and_other_sources_named(folder: Path) -> None:
    player = ('<video title="Clip"><source src="media/clip.webm" type="video/webm"/>'
              '<source src="media/clip.mp4" type="video/mp4"/>'
              '<track kind="chapters" src="media/en.vtt" srclang="en"/></video>')
    parsed = imported(write_qti(folder, "i.xml", video_item(player)))
    assert parsed.item.interactions[0].player.tracks == ()
    assert any("kind 'chapters' removed" in w for w in parsed.warnings)
    assert any("other formats of the recording not delivered: media/clip.mp4" in w for w in parsed.warnings)
