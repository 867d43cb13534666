"""What the item bank pages read: the listing, one version as staff see it, and two versions diffed.

Why here and not in :class:`~item_bank_sync.bank.store.ItemBank`: the bank's ``list`` returns every
matching row, which the CLI prints; a page over 100,000 items must filter, sort and page *in the
database* and count what matched, so it hands a SELECT on the same table to the staff table helper.

Who sees an answer key is decided here once (:data:`KEY_ROLES`), so the item page, the diff and
any later page ask the same question.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from item_bank_sync.bank.schema import items
from item_bank_sync.bank.store import ItemBank

#: Roles that may read an item's answer key and scorer rubric (a marker reads the rubric only on
#: a marking task; a registrar never needs either).
KEY_ROLES = frozenset({"item_writer", "reviewer", "approver", "psychometrician", "auditor"})

def listing_query() -> Select[Any]:
    """The latest version of every item, one row each, columns named by the page's table keys.

    Unsorted, unfiltered and unpaged: :func:`item_bank_sync.web.tables.table_page` adds the
    filters (status, area, interaction type, author, text), the order and the page in SQL. The
    "latest" test is a correlated ``max(version)`` on the primary key, cheap for 100,000 items.
    """
    i = items.c
    newer = items.alias("newer")
    latest = select(func.max(newer.c.version)).where(newer.c.item_id == i.item_id).scalar_subquery()
    return select(i.item_id.label("item"), i.version.label("version"), i.status.label("status"),
                  i.title.label("title"), i.competency_area.label("area"),
                  i.interaction_types.label("interaction"), i.created_by.label("author"),
                  i.created_at.label("created")).where(i.version == latest)


def may_see_key(roles: Iterable[str]) -> bool:
    return bool(KEY_ROLES & set(roles))


def staff_view(bank: ItemBank, item_id: str, version: int | None, roles: Iterable[str]) -> dict[str, Any]:
    """One version as this person may see it: without key and rubric unless a role allows them."""
    data = bank.show(item_id, version)
    if not may_see_key(roles):
        data["key"] = None
    return data


def reviewer_of(data: dict[str, Any]) -> str | None:
    """Who moved this version to ``reviewed`` last (the person who may not approve it)."""
    reviews = [h["by"] for h in data["history"] if h["version"] == data["version"] and h["to"] == "reviewed"]
    return reviews[-1] if reviews else None


def four_eyes_refusal(data: dict[str, Any], person: str) -> str:
    """Why ``person`` may not approve this version, or "" (the same rule the bank enforces on POST)."""
    reviewer = reviewer_of(data)
    if data["status"] == "reviewed" and reviewer == person:
        return (f"You reviewed version {data['version']}; approval needs a second person (four eyes). "
                "Another approver must approve it.")
    return ""


def version_text(data: dict[str, Any]) -> list[str]:
    """A version as lines a person can compare: content, then key and rubric when they are shown."""
    doc: dict[str, Any] = {"item": {k: v for k, v in data["item"].items() if k != "version"}}
    if data.get("key") is not None:
        doc["key"] = {k: v for k, v in data["key"].items() if k != "version"}
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False).splitlines()


@dataclass(frozen=True)
class DiffRow:
    """One row of a side-by-side diff: ``kind`` is equal, changed, removed or added."""

    kind: str
    left_no: int | None
    left: str
    right_no: int | None
    right: str


def side_by_side(left: list[str], right: list[str], context: int = 3) -> list[DiffRow]:
    """Two texts aligned line by line; long equal stretches keep ``context`` lines at each end."""
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag == "equal":
            span = list(range(a2 - a1))
            keep = span if len(span) <= 2 * context else [*span[:context], -1, *span[-context:]]
            for k in keep:
                rows.append(DiffRow("skipped", None, "", None, "") if k < 0 else
                            DiffRow("equal", a1 + k + 1, left[a1 + k], b1 + k + 1, right[b1 + k]))
            continue
        for k in range(max(a2 - a1, b2 - b1)):
            has_left, has_right = a1 + k < a2, b1 + k < b2
            kind = "changed" if has_left and has_right else "removed" if has_left else "added"
            rows.append(DiffRow(kind, a1 + k + 1 if has_left else None, left[a1 + k] if has_left else "",
                                b1 + k + 1 if has_right else None, right[b1 + k] if has_right else ""))
    return rows
