"""An item as a candidate will see it, for the staff preview frame.

Why this shape: the preview must be *exactly* the candidate's page, so it is built by the same
function the kiosk uses (:func:`exam_core.presentation.item_view`, which re-sanitises every
fragment) and drawn by the same scripts (``exam_core/static/candidate``). It runs in a frame with
an opaque origin (``sandbox="allow-scripts"`` and a CSP ``sandbox`` directive), so even a fragment
that slipped past both sanitisers could not reach the staff page, its cookies or its forms. An
opaque origin sends no cookies, so the item's media travel inside the view as ``data:`` URLs
instead of as links to the signed-in media route. Recordings and captions play as they do on the
kiosk: the candidate script fetches the ``data:`` URL and plays it from a ``blob:`` URL the frame
made itself, so the policy allows ``connect-src data:`` and ``media-src blob:`` and nothing that
leaves the frame. Each file is typed as the import recorded it (decided by its bytes there), else
by its bytes here.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from exam_core.model import Item, MediaRef
from exam_core.presentation import CANDIDATE_FILES, item_view
from item_bank_sync.bank.media import MediaStore
from item_bank_sync.items.media import sniff_any

#: The order a preview shows options in; the page says that candidates see their own order.
PREVIEW_SEED = 0
#: Scripts of the preview frame: the kiosk's renderers plus the small module that calls them.
PREVIEW_FILES = (*CANDIDATE_FILES, "preview.js")
#: The frame's own policy: its scripts only, media inline (recordings played from blob: URLs the
#: frame makes from them), nothing fetched from or sent to any server.
PREVIEW_CSP = ("sandbox allow-scripts; default-src 'none'; script-src 'self'; style-src 'self'; img-src data:; "
               "connect-src data:; media-src blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
_MEDIA_URL = re.compile(r"/media/([0-9a-f]{64})")
Types = dict[str, str]


def media_types(item: Item) -> Types:
    """The type the import recorded for each file the item uses (pictures, recordings, captions)."""
    refs: list[MediaRef] = list(item.media)
    for interaction in item.interactions:
        if interaction.image is not None:
            refs.append(interaction.image)
        if interaction.player is not None:
            refs += [interaction.player.media, *(t.media for t in interaction.player.tracks)]
    return {ref.sha256: ref.mime for ref in refs}


def _inline_media(text: str, media: MediaStore, types: Types) -> str:
    def data_url(match: re.Match[str]) -> str:
        try:
            data = media.get(match.group(1))
        except (OSError, ValueError):
            return "data:,"  # a missing file shows as a broken image, as it would on a kiosk
        mime = types.get(match.group(1)) or sniff_any(data) or "application/octet-stream"
        return f"data:{mime};base64,{base64.b64encode(data).decode()}"
    return _MEDIA_URL.sub(data_url, text)


def _inline(value: Any, media: MediaStore, types: Types) -> Any:
    if isinstance(value, str):
        return _inline_media(value, media, types)
    if isinstance(value, list):
        return [_inline(v, media, types) for v in value]
    if isinstance(value, dict):
        return {k: _inline(v, media, types) for k, v in value.items()}
    return value


def candidate_view(item: Item, media: MediaStore) -> dict[str, Any]:
    """What the kiosk's page would receive for this item, with no answer given yet."""
    view = _inline(item_view(item, PREVIEW_SEED), media, media_types(item))
    view["values"] = {}
    return view
