"""Conflicts of interest: a staff member's declared relationship with a person, and the one check.

Any staff member (any role: registrar, marker, decision maker, appeal handler...) declares a
relationship with a person (trainer, employer, relative, other) with the time and, optionally, a
note. :func:`check` refuses a staff member acting on a person they declared a relationship with;
every service that lets staff act on a person calls it (application and accommodation decisions,
bookings made by a registrar) and the CLI's marking and result decisions call
:func:`check_candidate`, which maps the attempt's candidate id to the person through bookings.
A withdrawal keeps the row (who, when, why): the history of declarations is itself evidence of
impartiality management (clause 4.3).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import insert, select, update

from exam_core.timestamps import utc_text
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import fetch_all, fetch_one, write
from item_bank_sync.registry import fields, persons
from item_bank_sync.registry.actors import ADMIN, AUDITOR, REGISTRAR, SYSTEM, Actor
from item_bank_sync.registry.errors import ConflictOfInterest, Forbidden, NotFound, Refused
from item_bank_sync.registry.schema import conflicts

RELATIONSHIPS = ("trainer", "employer", "relative", "other")


@dataclass(frozen=True)
class Declaration:
    conflict_id: int
    staff: str
    person_id: str
    relationship: str
    note: str
    declared_at: str
    declared_by: str
    withdrawn_at: str | None
    withdrawn_by: str | None
    withdrawn_reason: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def declare(ctx: CentralContext, actor: Actor, *, person_id: str, relationship: str, note: str = "",
            staff: str | None = None) -> Declaration:
    """Declare ``staff`` (default: the actor) related to ``person_id``; only an admin may declare for another."""
    who = staff_key(fields.text(staff or actor.name, "staff", 100))
    if who != staff_key(actor.name) and not actor.has(ADMIN):
        raise Forbidden(f"{actor.name} may declare only their own relationships (an admin may record others')")
    if relationship not in RELATIONSHIPS:
        raise Refused(f"relationship: one of {', '.join(RELATIONSHIPS)}")
    if not persons.exists(ctx, person_id):
        raise NotFound(f"no person {person_id}")
    row = {"staff": who, "person_id": person_id, "relationship": relationship,
           "note": fields.text(note, "note", 1000, required=False), "declared_at": utc_text(),
           "declared_by": actor.name}
    with write(ctx.open_bank_db()) as conn:
        conflict_id = conn.execute(insert(conflicts).values(row).returning(conflicts.c.conflict_id)).scalar_one()
    ctx.audit_log().append(actor.name, "conflict.declare", {"conflict_id": conflict_id, "staff": who,
                                                            "person_id": person_id, "relationship": relationship})
    return _get(ctx, conflict_id)


def withdraw(ctx: CentralContext, actor: Actor, conflict_id: int, reason: str) -> Declaration:
    """End a declaration (the staff member themselves or an admin), with the reason."""
    found = _get(ctx, conflict_id)
    if found.staff != staff_key(actor.name) and not actor.has(ADMIN):
        raise Forbidden(f"{actor.name} may withdraw only their own declarations")
    if found.withdrawn_at:
        raise Refused(f"declaration {conflict_id} was already withdrawn")
    why = fields.text(reason, "reason", 1000)
    with write(ctx.open_bank_db()) as conn:
        conn.execute(update(conflicts).where(conflicts.c.conflict_id == conflict_id)
                     .values(withdrawn_at=utc_text(), withdrawn_by=actor.name, withdrawn_reason=why))
    ctx.audit_log().append(actor.name, "conflict.withdraw", {"conflict_id": conflict_id, "reason": why})
    return _get(ctx, conflict_id)


def list_declarations(ctx: CentralContext, actor: Actor, *, staff: str | None = None, person_id: str | None = None,
                      active_only: bool = False) -> list[Declaration]:
    """Declarations: an actor sees their own; registrar, admin and auditor see all."""
    c = conflicts.c
    query = select(c.conflict_id).order_by(c.conflict_id)
    if not actor.has(REGISTRAR, ADMIN, AUDITOR):
        staff = actor.name
    if staff:
        query = query.where(c.staff == staff_key(staff))
    if person_id:
        query = query.where(c.person_id == person_id)
    if active_only:
        query = query.where(c.withdrawn_at.is_(None))
    return [_get(ctx, r[0]) for r in fetch_all(ctx.open_bank_db(), query)]


def check(ctx: CentralContext, actor: Actor, person_id: str, action: str) -> None:
    """Refuse (:class:`ConflictOfInterest`) when ``actor`` declared an active relationship with
    ``person_id``. The body's own processes and a candidate acting for themselves are not staff."""
    if actor.has(SYSTEM) or actor.person_id is not None:
        return
    c = conflicts.c
    row = fetch_one(ctx.open_bank_db(), select(c.conflict_id, c.relationship)
                    .where(c.staff == staff_key(actor.name), c.person_id == person_id, c.withdrawn_at.is_(None))
                    .limit(1))
    if row is not None:
        ctx.audit_log().append(actor.name, "conflict.refused", {"person_id": person_id, "action": action,
                                                                "conflict_id": row[0]})
        raise ConflictOfInterest(f"{actor.name} declared a {row[1]} relationship with person {person_id} "
                                 f"(declaration {row[0]}) and may not {action}; another staff member must act")


def staff_key(name: str) -> str:
    """A staff name as declarations store and compare it: case and spacing do not make another
    person (the marking rules treat "Mia Marker" and "mia  MARKER" as one marker too)."""
    return " ".join(name.split()).casefold()


def _get(ctx: CentralContext, conflict_id: int) -> Declaration:
    row = fetch_one(ctx.open_bank_db(), select(*conflicts.c).where(conflicts.c.conflict_id == conflict_id))
    if row is None:
        raise NotFound(f"no conflict declaration {conflict_id}")
    return Declaration(*row)
