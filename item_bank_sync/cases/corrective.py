"""The corrective-action register (ISO/IEC 17024 clause 10.2; issue 17, item 6).

An action is opened from a source (an incident, an appeal, a complaint, an audit finding, an
item-analysis flag) with a reference to it, and carries the root cause found, the action taken and
the check that it worked. It can only be closed once that effectiveness check is recorded: an
assessor asks not "did you act?" but "how do you know it worked?". Each step is audited (ids only).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from exam_core.errors import InvigilError, ValidationError
from exam_core.timestamps import format_time, utc_now
from item_bank_sync.cases.schema import SOURCES, corrective_actions
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import lock, write
from item_bank_sync.results.marking import person_key

MAX_TEXT = 5000


class CorrectiveRefused(InvigilError):
    """A corrective action that does not exist, is closed, or cannot be closed yet."""


def _text(value: str | None, field: str, required: bool = True) -> str:
    if value is None or (not required and not value.strip()):
        return ""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise ValidationError(field, f"must be given (1-{MAX_TEXT} characters)")
    return value.strip()


def open_action(ctx: CentralContext, by: str, source: str, description: str, *, source_ref: str = "",
                root_cause: str = "", action: str = "") -> int:
    """Open a corrective action; returns its id."""
    if source not in SOURCES:
        raise ValidationError("source", f"must be one of {', '.join(SOURCES)}")
    actor = person_key(by)
    with write(ctx.open_bank_db()) as conn:
        inserted = conn.execute(insert(corrective_actions).values(
            source=source, source_ref=_text(source_ref, "source_ref", False)[:200],
            description=_text(description, "description"), root_cause=_text(root_cause, "root_cause", False),
            action=_text(action, "action", False), opened_by=actor, opened_at=format_time(utc_now())))
        action_id = int(inserted.inserted_primary_key[0])  # type: ignore[index]  # one row inserted
    ctx.audit_log().append(actor, "corrective.open", {"id": action_id, "source": source, "source_ref": source_ref})
    return int(action_id)


def update_action(ctx: CentralContext, by: str, action_id: int, *, root_cause: str | None = None,
                  action: str | None = None, effectiveness_check: str | None = None) -> dict[str, Any]:
    """Record the root cause, the action or the effectiveness check of an open action."""
    changes = {k: _text(v, k) for k, v in (("root_cause", root_cause), ("action", action),
                                           ("effectiveness_check", effectiveness_check)) if v is not None}
    if not changes:
        raise ValidationError("update", "give a root cause, an action or an effectiveness check")
    return _change(ctx, by, action_id, "corrective.update", changes)


def close_action(ctx: CentralContext, by: str, action_id: int) -> dict[str, Any]:
    """Close an action whose root cause, action and effectiveness check are all recorded."""
    return _change(ctx, by, action_id, "corrective.close",
                   {"status": "closed", "closed_by": person_key(by), "closed_at": format_time(utc_now())})


def _change(ctx: CentralContext, by: str, action_id: int, what: str, changes: dict[str, Any]) -> dict[str, Any]:
    actor, c = person_key(by), corrective_actions.c
    with write(ctx.open_bank_db()) as conn:
        lock(conn, f"corrective:{action_id}")
        row = conn.execute(select(corrective_actions).where(c.id == action_id)).mappings().first()
        if row is None or row["status"] != "open":
            raise CorrectiveRefused(f"corrective action {action_id} is {row['status'] if row else 'unknown'}")
        merged = {**dict(row), **changes}
        if changes.get("status") == "closed":
            missing = [k for k in ("root_cause", "action", "effectiveness_check") if not merged[k]]
            if missing:
                raise CorrectiveRefused(f"corrective action {action_id} cannot be closed without its "
                                        f"{', '.join(m.replace('_', ' ') for m in missing)}")
        conn.execute(update(corrective_actions).where(c.id == action_id).values(**changes))
    ctx.audit_log().append(actor, what, {"id": action_id, "fields": sorted(changes)})
    return get(ctx, action_id)


def get(ctx: CentralContext, action_id: int) -> dict[str, Any]:
    with ctx.open_bank_db().connect() as conn:
        row = conn.execute(select(corrective_actions).where(corrective_actions.c.id == action_id)).mappings().first()
    if row is None:
        raise CorrectiveRefused(f"corrective action {action_id} does not exist")
    return dict(row)


def listing(ctx: CentralContext, status: str | None = None) -> list[dict[str, Any]]:
    query = select(corrective_actions).order_by(corrective_actions.c.id)
    if status:
        query = query.where(corrective_actions.c.status == status)
    with ctx.open_bank_db().connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
