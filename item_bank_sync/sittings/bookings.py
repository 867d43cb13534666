"""Bookings: a seat in a session, moved or cancelled within the body's rules, with a waiting list.

Who: the candidate for themselves, or a registrar for them (never one with a declared relationship
with the person: :func:`item_bank_sync.registry.conflicts.check`). What: the person needs an
accepted application for the session's scheme version that is still valid at the session's start.

Capacity under concurrency. Each change runs in one write transaction that first takes the
session's named lock (:func:`item_bank_sync.db.sql.lock`: a PostgreSQL advisory transaction lock;
on SQLite the ``BEGIN IMMEDIATE`` transaction already holds the file), then counts seats and
inserts; the unique ``(session_id, seat)`` constraint is the backstop should a writer ever bypass
the lock. When the session is full the booking joins the waiting list (``waiting``, in order of
``queue_position``); a cancellation frees its seat and promotes the first waiting booking into it in
the same transaction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from exam_core.timestamps import format_time, utc_now
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import fetch_one, lock, write
from item_bank_sync.registry import applications, conflicts, fields, listing, persons
from item_bank_sync.registry.actors import ADMIN, READERS, REGISTRAR, Actor, require
from item_bank_sync.registry.errors import NotFound, Refused
import item_bank_sync.sittings.sessions as sessions
from item_bank_sync.sittings.schema import bookings

BOOKED, WAITING, CANCELLED, MOVED = "booked", "waiting", "cancelled", "moved"
ACTIVE = (BOOKED, WAITING)


@dataclass(frozen=True)
class Booking:
    booking_id: str
    session_id: str
    person_id: str
    application_id: str
    candidate_id: str
    status: str
    seat: int | None
    queue_position: int
    created_at: str
    created_by: str
    changed_at: str | None
    changed_by: str | None
    change_reason: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def book(ctx: CentralContext, actor: Actor, session_id: str, person_id: str) -> Booking:
    """A seat for ``person_id`` in the session, or a place on its waiting list when it is full."""
    _may_act(ctx, actor, person_id, "book a seat for this person")
    session = sessions.get(ctx, session_id)
    application = _eligible(ctx, session, person_id)
    sessions.check_change_allowed(session, sessions.rules_of(ctx), "booking")
    booking_id = fields.new_id("B")
    with write(ctx.open_bank_db()) as conn:
        lock(conn, f"session:{session_id}")
        _refuse_second(conn, session_id, person_id)
        _insert(conn, session, booking_id, person_id, application.application_id, actor.name)
    found = get(ctx, booking_id)
    ctx.audit_log().append(actor.name, "booking.book", {"booking_id": booking_id, "session_id": session_id,
                                                        "person_id": person_id, "status": found.status,
                                                        "seat": found.seat})
    return found


def cancel(ctx: CentralContext, actor: Actor, booking_id: str, *, reason: str) -> Booking:
    """Cancel a booking (or leave the waiting list); a freed seat goes to the first one waiting."""
    found = get(ctx, booking_id)
    _may_act(ctx, actor, found.person_id, "cancel this person's booking")
    why = fields.text(reason, "reason", 1000)
    session = sessions.get(ctx, found.session_id)
    sessions.check_change_allowed(session, sessions.rules_of(ctx), "cancellation")
    with write(ctx.open_bank_db()) as conn:
        lock(conn, f"session:{found.session_id}")
        seat = _release(conn, booking_id, CANCELLED, actor.name, why)
        promoted = _promote(conn, found.session_id, seat, actor.name) if seat is not None else None
    ctx.audit_log().append(actor.name, "booking.cancel", {"booking_id": booking_id, "reason": why,
                                                          "promoted": promoted})
    return get(ctx, booking_id)


def move(ctx: CentralContext, actor: Actor, booking_id: str, to_session_id: str, *, reason: str) -> Booking:
    """Move a booking to another session of the same scheme version with a free seat; returns the new booking."""
    found = get(ctx, booking_id)
    _may_act(ctx, actor, found.person_id, "move this person's booking")
    why = fields.text(reason, "reason", 1000)
    old, new = sessions.get(ctx, found.session_id), sessions.get(ctx, to_session_id)
    if (old.scheme_id, old.scheme_version) != (new.scheme_id, new.scheme_version) or old.session_id == new.session_id:
        raise Refused("move: the other session must be another sitting of the same scheme version")
    application = _eligible(ctx, new, found.person_id)
    rules = sessions.rules_of(ctx)
    sessions.check_change_allowed(old, rules, "move")
    sessions.check_change_allowed(new, rules, "booking")
    new_id = fields.new_id("B")
    with write(ctx.open_bank_db()) as conn:
        for sid in sorted((old.session_id, new.session_id)):   # one order: no deadlock between two movers
            lock(conn, f"session:{sid}")
        _refuse_second(conn, new.session_id, found.person_id)
        if _seats_taken(conn, new.session_id) >= new.capacity:
            raise Refused(f"session {new.session_id} is full; the booking stays where it is")
        seat = _release(conn, booking_id, MOVED, actor.name, f"moved to {new_id}: {why}")
        _insert(conn, new, new_id, found.person_id, application.application_id, actor.name)
        promoted = _promote(conn, old.session_id, seat, actor.name) if seat is not None else None
    ctx.audit_log().append(actor.name, "booking.move", {"booking_id": booking_id, "to": new_id,
                                                        "session_id": new.session_id, "reason": why,
                                                        "promoted": promoted})
    return get(ctx, new_id)


def get(ctx: CentralContext, booking_id: str) -> Booking:
    row = fetch_one(ctx.open_bank_db(), select(*bookings.c).where(bookings.c.booking_id == booking_id))
    if row is None:
        raise NotFound(f"no booking {booking_id}")
    return Booking(**row._mapping)


def show(ctx: CentralContext, actor: Actor, booking_id: str) -> Booking:
    found = get(ctx, booking_id)
    require(actor, "see bookings", *READERS, person_id=found.person_id)
    return found


def list_bookings(ctx: CentralContext, actor: Actor, *, session_id: str | None = None,
                  person_id: str | None = None, active_only: bool = False) -> list[Booking]:
    """Bookings of a session (seats first, then the waiting list in order) or of a person."""
    b = bookings.c
    where = ([b.session_id == session_id] if session_id else []) + ([b.status.in_(ACTIVE)] if active_only else [])
    ids = listing.visible_ids(ctx, actor, "bookings", bookings, ("session_id", "status", "seat", "queue_position"),
                              person_id=person_id, where=where)
    return [get(ctx, i) for i in ids]


def person_of_candidate(ctx: CentralContext, candidate_id: str) -> str | None:
    """The person a roster candidate id (as an attempt carries it) was issued to, or None (CSV rosters)."""
    row = fetch_one(ctx.open_bank_db(), select(bookings.c.person_id).where(bookings.c.candidate_id == candidate_id))
    return str(row[0]) if row else None


def check_candidate(ctx: CentralContext, actor: Actor, candidate_id: str, action: str) -> None:
    """:func:`conflicts.check` for an attempt's candidate (marking, result decisions); a candidate id
    that no booking issued (a centre's CSV roster) maps to no person and is not checked."""
    person_id = person_of_candidate(ctx, candidate_id)
    if person_id is not None:
        conflicts.check(ctx, actor, person_id, action)


def _may_act(ctx: CentralContext, actor: Actor, person_id: str, action: str) -> None:
    require(actor, action, REGISTRAR, ADMIN, person_id=person_id)
    if not persons.exists(ctx, person_id):
        raise NotFound(f"no person {person_id}")
    conflicts.check(ctx, actor, person_id, action)


def _eligible(ctx: CentralContext, session: sessions.Session, person_id: str) -> applications.Application:
    found = applications.valid_application(ctx, person_id, session.scheme_id, session.scheme_version, at=session.start)
    if found is None:
        raise Refused(f"person {person_id} has no accepted application for {session.scheme_id} version "
                      f"{session.scheme_version} valid at the session's start")
    return found


def _refuse_second(conn: Connection, session_id: str, person_id: str) -> None:
    b = bookings.c
    taken = conn.execute(select(b.booking_id).where(b.session_id == session_id, b.person_id == person_id,
                                                    b.status.in_(ACTIVE))).first()
    if taken:
        raise Refused(f"person {person_id} already holds booking {taken[0]} in session {session_id}")


def _seats_taken(conn: Connection, session_id: str) -> int:
    b = bookings.c
    return int(conn.execute(select(func.count()).select_from(bookings)
                            .where(b.session_id == session_id, b.status == BOOKED)).scalar_one())


def _insert(conn: Connection, session: sessions.Session, booking_id: str, person_id: str, application_id: str,
            by: str) -> None:
    """Take the lowest free seat, or the next place on the waiting list (caller holds the session lock)."""
    b = bookings.c
    taken = {r[0] for r in conn.execute(select(b.seat).where(b.session_id == session.session_id, b.status == BOOKED))}
    free = next((s for s in range(1, session.capacity + 1) if s not in taken), None)
    last = conn.execute(select(func.max(b.queue_position)).where(b.session_id == session.session_id)).scalar()
    conn.execute(insert(bookings).values(
        booking_id=booking_id, session_id=session.session_id, person_id=person_id, application_id=application_id,
        candidate_id=fields.new_id("C"), status=BOOKED if free else WAITING, seat=free,
        queue_position=(last or 0) + 1, created_at=format_time(utc_now()), created_by=by))


def _release(conn: Connection, booking_id: str, status: str, by: str, why: str) -> int | None:
    """End an active booking; returns the seat it freed (None for a waiting one)."""
    b = bookings.c
    row = conn.execute(select(b.status, b.seat).where(b.booking_id == booking_id)).first()
    if row is None or row[0] not in ACTIVE:
        raise Refused(f"booking {booking_id} is {row[0] if row else 'unknown'}, not active")
    conn.execute(update(bookings).where(b.booking_id == booking_id).values(
        status=status, seat=None, changed_at=format_time(utc_now()), changed_by=by, change_reason=why))
    return row[1]


def _promote(conn: Connection, session_id: str, seat: int, by: str) -> str | None:
    """Give ``seat`` to the first booking on the waiting list; its id, or None when nobody waits."""
    b = bookings.c
    first = conn.execute(select(b.booking_id).where(b.session_id == session_id, b.status == WAITING)
                         .order_by(b.queue_position).limit(1)).first()
    if first is None:
        return None
    conn.execute(update(bookings).where(b.booking_id == first[0]).values(
        status=BOOKED, seat=seat, changed_at=format_time(utc_now()), changed_by=by,
        change_reason=f"promoted from the waiting list to seat {seat}"))
    return str(first[0])
