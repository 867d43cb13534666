"""An item as a candidate will see it, for the staff preview frame.

Why this shape: the preview must be *exactly* the candidate's page, so it is built by the same
function the kiosk uses (:func:`exam_core.presentation.item_view`, which re-sanitises every
fragment) and drawn by the same scripts (``exam_core/static/candidate``). It runs in a frame with
an opaque origin (``sandbox="allow-scripts"`` and a CSP ``sandbox`` directive), so even a fragment
that slipped past both sanitisers could not reach the staff page, its cookies or its forms. An
opaque origin sends no cookies, so the item's images travel inside the view as ``data:`` URLs
instead of as links to the signed-in media route.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from exam_core.model import Item
from exam_core.presentation import CANDIDATE_FILES, item_view
from item_bank_sync.bank.media import MediaStore

#: The order a preview shows options in; the page says that candidates see their own order.
PREVIEW_SEED = 0
#: Scripts of the preview frame: the kiosk's renderers plus the small module that calls them.
PREVIEW_FILES = (*CANDIDATE_FILES, "preview.js")
#: The frame's own policy: its scripts only, images inline, nothing sent anywhere.
PREVIEW_CSP = ("sandbox allow-scripts; default-src 'none'; script-src 'self'; style-src 'self'; img-src data:; "
               "base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
_MEDIA_URL = re.compile(r"/media/([0-9a-f]{64})")
_MIME = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF8": "image/gif", b"<svg": "image/svg+xml"}


def _sniff(data: bytes) -> str:
    return next((mime for magic, mime in _MIME.items() if data.startswith(magic)), "application/octet-stream")


def _inline_media(text: str, media: MediaStore) -> str:
    def data_url(match: re.Match[str]) -> str:
        try:
            data = media.get(match.group(1))
        except (OSError, ValueError):
            return "data:,"  # a missing file shows as a broken image, as it would on a kiosk
        return f"data:{_sniff(data)};base64,{base64.b64encode(data).decode()}"
    return _MEDIA_URL.sub(data_url, text)


def _inline(value: Any, media: MediaStore) -> Any:
    if isinstance(value, str):
        return _inline_media(value, media)
    if isinstance(value, list):
        return [_inline(v, media) for v in value]
    if isinstance(value, dict):
        return {k: _inline(v, media) for k, v in value.items()}
    return value


def candidate_view(item: Item, media: MediaStore) -> dict[str, Any]:
    """What the kiosk's page would receive for this item, with no answer given yet."""
    view = _inline(item_view(item, PREVIEW_SEED), media)
    view["values"] = {}
    return view
