"""The decrypted form as the kiosk holds it: in memory only, never written to disk in plaintext.

The encrypted package is cached in ``DIR/packages/`` (it is useless without the content key, which
the console releases into memory at ``start`` and again at ``resume_approved``). Media are kept as
bytes keyed by their SHA-256 and served to the page from memory.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field

from PIL import Image, UnidentifiedImageError

from exam_core.errors import TamperedError
from exam_core.model import FormContent, Item, MediaRef


@dataclass
class FormBundle:
    """A form's content and its media, decrypted, in memory."""

    content: FormContent
    media: dict[str, bytes] = field(default_factory=dict)
    _mime: dict[str, str] = field(default_factory=dict, repr=False)
    _sizes: dict[str, tuple[int, int] | None] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        order = {(ref.item_id, ref.version): n for n, ref in enumerate(self.content.form.items)}
        self.items: tuple[Item, ...] = tuple(sorted(self.content.items, key=lambda i: order[(i.item_id, i.version)]))
        self.index: dict[str, int] = {item.item_id: n for n, item in enumerate(self.items)}
        for item in self.items:
            refs: list[MediaRef] = list(item.media)
            refs += [i.image for i in item.interactions if i.image is not None]
            for ref in refs:
                self._mime.setdefault(ref.sha256, ref.mime)
        for sha, data in self.media.items():
            if hashlib.sha256(data).hexdigest() != sha:
                raise TamperedError(f"media {sha} does not match its hash")

    def media_file(self, sha256: str) -> tuple[bytes, str] | None:
        """Bytes and MIME type of one media file the form declares, or None."""
        data = self.media.get(sha256)
        mime = self._mime.get(sha256)
        if data is None or mime is None:
            return None
        return data, mime

    def item(self, item_id: str) -> Item:
        return self.items[self.index[item_id]]

    def image_size(self, ref: MediaRef | None) -> tuple[int, int] | None:
        """The pixel space an interaction's points live in: ``(width, height)``, or None if unknown.

        The size the item declares (QTI ``object@width/height``, or the image's own size measured
        at import) when it has both; otherwise the image's own size, read from its header. The page
        draws the image at this size and the server checks points against it, so both agree.
        """
        if ref is None:
            return None
        if ref.width and ref.height:
            return ref.width, ref.height
        if ref.sha256 not in self._sizes:
            self._sizes[ref.sha256] = _natural_size(self.media.get(ref.sha256))
        return self._sizes[ref.sha256]


def _natural_size(data: bytes | None) -> tuple[int, int] | None:
    """Width and height from an image header (no pixels decoded), or None for no or unknown image."""
    if not data:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    return (width, height) if width > 0 and height > 0 else None
