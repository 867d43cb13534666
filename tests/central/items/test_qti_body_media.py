"""Listening items (issue 18): an HTML5 ``audio``/``video`` in the body or a prompt, outside any
mediaInteraction (QTI 2.2's HTML5 namespace or QTI 3), is imported as one of the item's players:
placed by ``data-player``, its file sniffed by content, its captions kept, no play limit, and it
exports and re-imports equal. Items without one keep their stored bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from exam_core.errors import ValidationError
from exam_core.model import Item
from exam_core.presentation import item_view
from item_bank_sync.items.errors import ItemRejected
from tests.central.items.qti_corpus_table import CORPUS
from tests.support.central_items import choice_item, write_qti
from tests.support.qti_roundtrip import export_and_reimport, imported, parse

QH5 = "http://www.imsglobal.org/xsd/imsqtiv2p2_html5_v1p0"


@pytest.mark.parametrize("name", ["listen-then-choose-qh5", "listen-then-choose-qti3"])
def test_a_body_recording_exports_and_reimports_equal(name: str, tmp_path: Path) -> None:
    first = imported(CORPUS / "invigil" / f"{name}.xml")
    (player,) = first.item.players
    assert (player.min_plays, player.max_plays) == (0, 0)          # HTML5 media give no limit
    assert player.media.sha256 in {m.sha256 for m in first.item.media}
    again = export_and_reimport(first, tmp_path)
    assert again.item.to_dict() == first.item.to_dict() and again.key == first.key


def test_the_recording_is_typed_by_its_bytes_and_keeps_its_captions() -> None:
    audio = imported(CORPUS / "invigil" / "listen-then-choose-qh5.xml").item.players[0]
    assert audio.media.mime == "audio/wav" and audio.media.alt == "The alarm: a tone"   # declared audio/mpeg
    video = imported(CORPUS / "invigil" / "listen-then-choose-qti3.xml").item.players[0]
    assert video.media.mime == "video/webm" and [t.srclang for t in video.tracks] == ["en", "cy"]


def test_the_page_gets_the_player_and_its_placeholder() -> None:
    item = imported(CORPUS / "invigil" / "listen-then-choose-qti3.xml").item
    view = item_view(item, option_seed=1)
    (player,) = view["players"]
    assert player["video"] and player["max_plays"] == 0 and player["tracks"][0]["label"] == "English"
    assert player["src"] == f"/media/{item.players[0].media.sha256}"
    assert 'data-player="1"' in view["interactions"][0]["prompt_html"]


def test_items_without_body_recordings_keep_their_stored_form() -> None:
    item = imported(CORPUS / "invigil" / "media-audio-plays.xml").item
    assert "players" not in item.to_dict() and "players" not in item_view(item, 1)
    assert Item.from_dict(item.to_dict()) == item


def test_a_recording_inside_a_paragraph_is_an_inline_placeholder(tmp_path: Path) -> None:
    (tmp_path / "tone.wav").write_bytes((CORPUS / "invigil" / "media" / "tone.wav").read_bytes())
    xml = choice_item(body_extra=f'<p xmlns:qh5="{QH5}">Listen: <qh5:audio src="tone.wav" autoplay="autoplay" '
                                 'loop="">A tone</qh5:audio> then choose.</p>')
    parsed = imported(write_qti(tmp_path, "i.xml", xml))
    assert '<p>Listen: <span data-player="1"></span> then choose.</p>' in parsed.item.body_html
    assert parsed.item.players[0].autostart and parsed.item.players[0].loop   # kept; the kiosk never autostarts


def test_a_body_recording_that_is_not_audio_is_refused(tmp_path: Path) -> None:
    (tmp_path / "clip.wav").write_bytes((CORPUS / "invigil" / "images" / "lamp.png").read_bytes())
    xml = choice_item(body_extra=f'<qh5:audio xmlns:qh5="{QH5}" src="clip.wav" title="A tone"/>')
    outcome = parse(write_qti(tmp_path, "i.xml", xml))
    assert isinstance(outcome, ItemRejected) and "itemBody/audio" in str(outcome)


def test_a_player_must_be_placed_exactly_once() -> None:
    """A player the page would never show (or two places for one) is not a valid item."""
    data = imported(CORPUS / "invigil" / "listen-then-choose-qh5.xml").item.to_dict()
    for body in ('<div data-interaction="RESPONSE"></div>',
                 '<div data-player="1"></div><div data-player="1"></div><div data-interaction="RESPONSE"></div>',
                 '<div data-player="2"></div><div data-interaction="RESPONSE"></div>'):
        with pytest.raises(ValidationError, match="placed once"):
            Item.from_dict({**data, "body_html": body})
