"""The corrected answer key a re-score uses: one item version of the bank, named ``ITEM@VERSION``.

Why a module of its own: ``cases rescore --key-from`` and the case page's re-score form take the
same reference and must refuse the same malformed or unknown ones before a replay runs.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from exam_core.errors import ValidationError
from exam_core.model import AnswerKey
from item_bank_sync.bank.schema import items
from item_bank_sync.context import CentralContext

MAX_REF = 200


def corrected_key(ctx: CentralContext, ref: str) -> AnswerKey:
    """The answer key of item version ``ref`` (``ITEM@VERSION``) in the bank."""
    item_id, _, version = ref.strip().partition("@")
    if not item_id or not version.isdigit() or len(ref) > MAX_REF:
        raise ValidationError("key_from", f"{ref!r} is not ITEM@VERSION")
    with ctx.open_bank_db().connect() as conn:
        raw = conn.execute(select(items.c.key_json).where(items.c.item_id == item_id,
                                                          items.c.version == int(version))).scalar()
    if raw is None:
        raise ValidationError("key_from", f"item {ref} is not in the bank")
    key = AnswerKey.from_dict(json.loads(raw))
    if key.family is not None:  # its key is its preview's: each form scores its own draw
        raise ValidationError("key_from", f"item {ref} is an item family (QTI template): its key differs per form, "
                                          "so it cannot replace a form's key (not supported)")
    return key


def corrections_of(ctx: CentralContext, refs: list[str]) -> dict[str, AnswerKey]:
    """Item id -> corrected key for each ``ITEM@VERSION`` in ``refs``."""
    return {k.item_id: k for k in (corrected_key(ctx, r) for r in refs)}
