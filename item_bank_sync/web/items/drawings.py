"""A candidate's drawing (QTI ``drawingInteraction``) shown to markers over the item's picture.

The kiosk saves a drawing as a PNG of the lines alone, the picture's size, so the marker must see
it where the candidate drew it: here the picture is scaled to the drawing's size and the lines
are laid over it into one PNG (Pillow), shown as a ``data:`` image (the staff pages' policy allows
``img-src data:``). The response is candidate content from the wire: its header is checked before
any pixel is decoded (a small PNG can declare a huge canvas), and anything that does not read is
reported as such instead of shown.

A marker who cannot see the picture gets a text alternative: what the picture is (its own text
from the QTI) and where on it lines were drawn, in the picture's pixels.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from exam_core.model import FILE_VALUE_RE, Interaction

#: The largest canvas a drawing may declare (the kiosk's pictures are far smaller).
MAX_SIDE = 4096


@dataclass(frozen=True)
class DrawingView:
    """The composed picture (a PNG data URL, "" when it could not be made) and its text alternative."""

    src: str
    alt: str
    described: str


def _png(data_url: str) -> Image.Image | None:
    """The drawing's pixels, or None if it is not a PNG data URL of a sane size."""
    if not FILE_VALUE_RE.match(data_url):
        return None
    try:
        raw = base64.b64decode(data_url.split(",", 1)[1], validate=True)
        image = Image.open(io.BytesIO(raw), formats=["PNG"])
        if not (0 < image.width <= MAX_SIDE and 0 < image.height <= MAX_SIDE):
            return None
        return image.convert("RGBA")
    except (binascii.Error, UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def _where_drawn(strokes: Image.Image) -> str:
    box = strokes.getchannel("A").getbbox()
    if box is None:
        return "Nothing was drawn."
    left, top, right, bottom = box
    return (f"Lines were drawn from x {left} to {right - 1} and y {top} to {bottom - 1} of the "
            f"{strokes.width} by {strokes.height} pixel picture.")


def drawing_view(interaction: Interaction, answer: str, picture: bytes | None) -> DrawingView:
    """The drawing over its picture for the marking page (``picture``: the item's image bytes)."""
    strokes = _png(answer)
    name = (interaction.image.alt if interaction.image is not None else "") or "the item's picture"
    if strokes is None:
        return DrawingView("", "", "The drawing could not be read; tell the exams office (it is kept as received).")
    canvas = Image.new("RGBA", strokes.size, (255, 255, 255, 255))
    if picture is not None:
        try:
            with Image.open(io.BytesIO(picture)) as background:
                if background.width <= 20_000 and background.height <= 20_000:
                    canvas.alpha_composite(background.convert("RGBA").resize(strokes.size))
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
            pass  # the lines alone, on white: still what the candidate drew
    canvas.alpha_composite(strokes)
    out = io.BytesIO()
    canvas.convert("RGB").save(out, format="PNG", optimize=True)
    src = "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()
    return DrawingView(src, f"The candidate's drawing over {name}", _where_drawn(strokes))
