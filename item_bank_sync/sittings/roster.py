"""What a session's signed roster carries: the booked candidates, seats, photo digests, approved accommodations.

:func:`roster_for` is the one reader the roster signer (and the staff pages) call: it returns plain
data, already checked, for the next step to sign and ship with the session's packages. The
accommodation profile of each candidate is the one approved for the session's scheme version and
valid on the session's date (:func:`item_bank_sync.registry.accommodations.active_profile`), checked
once more against the scheme's policy here: a profile beyond the scheme never reaches a roster.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select

from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import fetch_all
from item_bank_sync.registry import accommodations
from item_bank_sync.registry.actors import ADMIN, AUDITOR, REGISTRAR, SYSTEM, Actor, body, require
from item_bank_sync.registry.errors import Refused
from item_bank_sync.registry.schema import persons
import item_bank_sync.sittings.sessions as sessions
from item_bank_sync.sittings.schema import bookings


@dataclass(frozen=True)
class RosterEntry:
    candidate_id: str
    person_id: str
    booking_id: str
    name: str
    seat: int
    photo_sha256: str | None
    accommodations: dict[str, Any] = field(default_factory=dict)   # exam_core Accommodations; {} none
    accommodation_request_id: str | None = None


@dataclass(frozen=True)
class Roster:
    session: sessions.Session
    entries: tuple[RosterEntry, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"session": self.session.to_dict(), "entries": [asdict(e) for e in self.entries]}


def roster_for(ctx: CentralContext, session_id: str, actor: Actor | None = None) -> Roster:
    """The booked candidates of ``session_id`` by seat (the body's own process unless ``actor`` is given)."""
    who = actor or body()
    require(who, "build rosters", SYSTEM, REGISTRAR, ADMIN, AUDITOR)
    session = sessions.get(ctx, session_id)
    policy = accommodations.policy_of(ctx, session.scheme_id, session.scheme_version)
    b, p = bookings.c, persons.c
    rows = fetch_all(ctx.open_bank_db(), select(b.candidate_id, b.person_id, b.booking_id, b.seat, p.given_name,
                                                p.family_name, p.photo_sha256)
                     .join_from(bookings, persons, b.person_id == p.person_id)
                     .where(b.session_id == session_id, b.status == "booked").order_by(b.seat))
    entries = []
    for candidate_id, person_id, booking_id, seat, given, family, photo in rows:
        active = accommodations.active_profile(ctx, person_id, session.scheme_id, session.scheme_version,
                                               session.start.date())
        granted, request_id = ({}, None) if active is None else (active[1].to_dict(), active[0])
        if active is not None and policy.refusals(active[1]):
            raise Refused(f"accommodation request {request_id}: beyond what scheme {session.scheme_id} allows: "
                          + "; ".join(policy.refusals(active[1])))
        entries.append(RosterEntry(candidate_id, person_id, booking_id, f"{given} {family}", seat, photo,
                                   granted, request_id))
    ctx.audit_log().append(who.name, "roster.build", {"session_id": session_id, "candidates": len(entries)})
    return Roster(session, tuple(entries))
