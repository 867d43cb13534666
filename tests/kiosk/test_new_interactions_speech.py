"""Questions read aloud (text-to-speech accommodation) say what the newer interactions offer: the
slider's scale, the areas of a picture by their labels, picture choices by their names, how often a
recording may be played, and what a drawing is made on."""

from __future__ import annotations

from exam_core.presentation import item_view
from kiosk.tools.speech import question_text
from tests.kiosk import test_drawing, test_graphic_pairs, test_media_player, test_slider_graphic_order


def _read(content, index: int) -> str:
    form, _ = content()
    return question_text(item_view(form.items[index], 1), index + 1, len(form.items))


def test_new_interactions_are_read_aloud() -> None:
    assert "A scale from 0 to 400 in steps of 10." in _read(test_slider_graphic_order.content, 0)
    assert "A scale from 0 to 1 in steps of 0.25." in _read(test_slider_graphic_order.content, 1)
    order = _read(test_slider_graphic_order.content, 2)
    assert "Area 1: South gate. Area 2: Middle bridge. Area 3: North tower." in order
    pairs = _read(test_graphic_pairs.content, 0)
    assert "Area 1: Line terminal." in pairs and "Area 3: Lamp." in pairs
    placed = _read(test_graphic_pairs.content, 1)
    assert "Option 1: Lamp symbol. Option 2: Switch." in placed and "Area 2: Left circle." in placed
    assert "Option 2: Switch symbol." in _read(test_graphic_pairs.content, 2)
    assert "A recording: A steady tone. It may be played 2 times." in _read(test_media_player.content, 0)
    assert "Draw on the picture: Open circuit with a gap." in _read(test_drawing.content, 0)
