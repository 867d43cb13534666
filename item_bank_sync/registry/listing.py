"""The one way the registry's lists are read: who may list, and the filters every queue offers.

Registry readers (registrar, admin, auditor) list every record; a candidate lists only their own
(``person_id`` must be theirs), so a portal page cannot forget the filter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, select

from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import fetch_all
from item_bank_sync.registry.actors import READERS, Actor, require


def visible_ids(ctx: CentralContext, actor: Actor, what: str, table: Table, order_by: Sequence[str], *,
                status: str | None = None, person_id: str | None = None, where: Sequence[Any] = ()) -> list[str]:
    """The primary keys of the rows of ``table`` that ``actor`` may list, ordered by ``order_by``."""
    if not actor.has(*READERS):
        require(actor, f"list {what}", *READERS, person_id=person_id or "")
    c = table.c
    key = next(iter(table.primary_key.columns))
    query = select(key).order_by(*(c[name] for name in order_by)).where(*where)
    if status:
        query = query.where(c.status == status)
    if person_id:
        query = query.where(c.person_id == person_id)
    return [str(r[0]) for r in fetch_all(ctx.open_bank_db(), query)]
