"""Media an item references, checked at import: real raster images (and, for a media interaction,
real sound or video) of a bounded size.

Items refer to media as ``media:SHA256`` (see ``exam_core.model``); :func:`media_ref` describes one
file for that reference, and :class:`item_bank_sync.bank.media.MediaStore` keeps the bytes.
Only raster images are accepted, and their type is decided by their bytes (magic numbers), never
by the file name: SVG can carry script and is refused whatever it is called, and a PNG saved as
``photo.jpg`` or ``image.bin`` (common in exports) is stored as the PNG it is, with a warning.
"""

from __future__ import annotations

import hashlib
import re
import struct
from pathlib import Path

from exam_core.model import MediaRef
from item_bank_sync.items.errors import ItemRejected

MAX_MEDIA_BYTES = 20 * 1024 * 1024

#: mime -> (file extensions, magic prefix check)
MEDIA_TYPES = {
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
}


def sniff_mime(data: bytes) -> str | None:
    """The image type the bytes really are, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def image_size(data: bytes, mime: str) -> tuple[int, int] | None:
    """Width and height from the image header (PNG, GIF, JPEG); None when not found."""
    try:
        if mime == "image/png" and len(data) >= 24:
            return struct.unpack(">II", data[16:24])
        if mime == "image/gif" and len(data) >= 10:
            return struct.unpack("<HH", data[6:10])
        if mime == "image/jpeg":
            return _jpeg_size(data)
    except struct.error:
        return None
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 9 < len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[pos + 5:pos + 9])
            return width, height
        pos += 2 + length
    return None


def media_ref(data: bytes, name: str, source: str, element: str,
              warnings: list[str] | None = None) -> MediaRef:
    """Check one media file and describe it; raises ItemRejected naming the element.

    The type comes from the bytes; a name whose extension says otherwise is reported in
    ``warnings`` (when given), since the author may have meant another file.
    """
    if len(data) > MAX_MEDIA_BYTES:
        raise ItemRejected(source, element, f"media {name!r} is {len(data)} bytes, more than {MAX_MEDIA_BYTES}")
    mime = sniff_mime(data)
    if mime is None:
        raise ItemRejected(source, element, f"media {name!r} is not a PNG, JPEG, GIF or WebP image "
                                            "(SVG and other types are refused)")
    suffix = Path(name).suffix.lower()
    if suffix not in MEDIA_TYPES[mime] and warnings is not None:
        warnings.append(f"{element}: media {name!r} is named {suffix or 'without an extension'} but its bytes "
                        f"are {mime}; stored as {mime}")
    size = image_size(data, mime)
    width, height = size if size and all(0 < v <= 20_000 for v in size) else (None, None)
    return MediaRef(sha256=hashlib.sha256(data).hexdigest(), mime=mime, name=Path(name).name[:255],
                    width=width, height=height)


#: Sound and video a mediaInteraction may play, by their bytes: (magic test, audio type, video type).
_AV_FORMATS = (
    (lambda d: d[:4] == b"RIFF" and d[8:12] == b"WAVE", "audio/wav", None),
    (lambda d: d.startswith(b"OggS"), "audio/ogg", "video/ogg"),
    (lambda d: d.startswith(b"fLaC"), "audio/flac", None),
    (lambda d: d.startswith(b"ID3") or d[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"), "audio/mpeg", None),
    (lambda d: d.startswith(b"\x1aE\xdf\xa3"), "audio/webm", "video/webm"),
    (lambda d: d[4:8] == b"ftyp", "audio/mp4", "video/mp4"),
)


def sniff_av(data: bytes, declared: str) -> str | None:
    """The audio or video type the bytes really are, or None. Containers that hold either (Ogg,
    WebM, MP4) are audio or video as the item declares (``type="video/..."``)."""
    for test, audio, video in _AV_FORMATS:
        if test(data):
            return video if declared.startswith("video/") and video else audio
    return None


def av_ref(data: bytes, name: str, declared: str, source: str, element: str) -> MediaRef:
    """Check one sound or video file of a media interaction and describe it (type by its bytes)."""
    if len(data) > MAX_MEDIA_BYTES:
        raise ItemRejected(source, element, f"media {name!r} is {len(data)} bytes, more than {MAX_MEDIA_BYTES}")
    mime = sniff_av(data, declared)
    if mime is None:
        raise ItemRejected(source, element, f"media {name!r} is not WAV, Ogg, FLAC, MP3, WebM or MP4 audio/video")
    return MediaRef(sha256=hashlib.sha256(data).hexdigest(), mime=mime, name=Path(name).name[:255])


#: Captions are small: a feature film's WebVTT is under 200 KB.
MAX_VTT_BYTES = 512 * 1024
#: The WebVTT signature: optional BOM, ``WEBVTT``, then the end, a space, a tab or a line break.
_VTT_HEADER = re.compile(rb"^(\xef\xbb\xbf)?WEBVTT([ \t\r\n]|$)")
#: Control characters other than tab and line breaks: a text file has none.
_VTT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: A STYLE block holds CSS, which can fetch (``url()``); captions are text only.
_VTT_STYLE = re.compile(r"(^|\n\n)STYLE[ \t]*\n")


def vtt_ref(data: bytes, name: str, source: str, element: str) -> MediaRef:
    """Check one captions file (a ``<track>``'s src) and describe it as ``text/vtt``.

    Decided by content, never by the name: it must be UTF-8 text beginning with the ``WEBVTT``
    signature, without control characters or CSS ``STYLE`` blocks, and at most ``MAX_VTT_BYTES``.
    """
    if len(data) > MAX_VTT_BYTES:
        raise ItemRejected(source, element, f"captions {name!r} are {len(data)} bytes, more than {MAX_VTT_BYTES}")
    if not _VTT_HEADER.match(data):
        raise ItemRejected(source, element, f"captions {name!r} are not WebVTT (no WEBVTT header)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ItemRejected(source, element, f"captions {name!r} are not UTF-8 text") from None
    if _VTT_CONTROL.search(text):
        raise ItemRejected(source, element, f"captions {name!r} hold control characters (not text)")
    if _VTT_STYLE.search(text.replace("\r\n", "\n")):
        raise ItemRejected(source, element, f"captions {name!r} hold a STYLE block (captions are text only)")
    return MediaRef(sha256=hashlib.sha256(data).hexdigest(), mime="text/vtt", name=Path(name).name[:255])


def sniff_any(data: bytes, declared: str = "") -> str | None:
    """The type of any media file an item may carry, from its bytes: image, sound, video or captions."""
    if _VTT_HEADER.match(data):
        return "text/vtt"
    return sniff_mime(data) or sniff_av(data, declared)
