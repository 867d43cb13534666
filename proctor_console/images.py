"""Webcam images from kiosks (tile thumbnails, evidence snapshots), checked before one is stored.

Why: the console keeps these files and serves them to proctors' browsers (``/media/...``, as
``image/jpeg`` with ``nosniff``), to the session report, and under the retention policy. What
arrived was only base64 of at most ``protocol.MAX_IMAGE_BYTES``: any bytes a kiosk (or whoever
holds a kiosk's key) sent were written to disk as ``.jpg``, whether an HTML or SVG polyglot, a
truncated file, or a small file announcing a huge image for every browser that shows the tile to
decode (issue 13, item 15).

Here a JPEG is accepted only when it is one, whole: the JPEG start and end markers, dimensions
within ``MAX_SIDE`` and ``MAX_PIXELS`` read from its header *before* decoding, and then decoded
in full by Pillow (libjpeg), which refuses a truncated or corrupt stream. Decoding a 640x480 frame
takes a few milliseconds; thumbnails are 160x120.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image

from exam_core import protocol
from exam_core.errors import ValidationError

#: Largest width or height, and pixel count, of a webcam image (a 1080p frame fits).
MAX_SIDE = 4096
MAX_PIXELS = 1920 * 1080
JPEG_START = b"\xff\xd8\xff"
JPEG_END = b"\xff\xd9"


def checked_jpeg(data: bytes, field: str) -> bytes:
    """``data`` when it is a whole JPEG of bounded size; ``ValidationError(field, why)`` otherwise."""
    if len(data) > protocol.MAX_IMAGE_BYTES:
        raise ValidationError(field, f"larger than {protocol.MAX_IMAGE_BYTES} bytes")
    if not data.startswith(JPEG_START) or not data.endswith(JPEG_END):
        raise ValidationError(field, "is not a JPEG (start or end marker missing)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
                width, height = image.size
                if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
                    raise ValidationError(field, f"{width}x{height} pixels is larger than a webcam frame")
                image.load()  # the whole stream decoded: a truncated or corrupt JPEG raises here
    except ValidationError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValidationError(field, f"is not a JPEG that decodes ({type(exc).__name__})") from None
    return data
