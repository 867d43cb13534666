"""Sessions the central body plans, and the body's booking rules.

A session is one sitting at one enrolled centre: start time and admission window, capacity,
the scheme version and the forms it delivers. The booking rules come from the body's settings
(``keys/body.json``, key ``bookings``, e.g. ``{"change_cutoff_hours": 48}``): no booking, move or
cancellation within that many hours of the start, when the roster is on its way to the centre.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from exam_core.errors import InvigilError
from exam_core.timestamps import format_time, parse_time, utc_now
from item_bank_sync.bank.schema import forms
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import fetch_all, fetch_one, write
from item_bank_sync.forms.schemes import SchemeError, SchemeStore
from item_bank_sync.registry import fields
from item_bank_sync.registry.actors import ADMIN, REGISTRAR, Actor, require
from item_bank_sync.registry.errors import NotFound, Refused
from item_bank_sync.sittings.schema import bookings, exam_sessions
from item_bank_sync.trust.schema import centres

PLANNED = "planned"
DEFAULT_CUTOFF_HOURS = 48
MAX_CAPACITY = 10_000


@dataclass(frozen=True)
class BookingRules:
    change_cutoff_hours: int = DEFAULT_CUTOFF_HOURS


@dataclass(frozen=True)
class Session:
    session_id: str
    centre_id: str
    scheme_id: str
    scheme_version: int
    forms: tuple[str, ...]
    starts_at: str
    window_minutes: int
    capacity: int
    status: str
    created_at: str
    created_by: str
    booked: int = 0
    waiting: int = 0

    @property
    def start(self) -> datetime:
        return parse_time(self.starts_at)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "forms": list(self.forms), "seats_free": max(0, self.capacity - self.booked)}


def rules_of(ctx: CentralContext) -> BookingRules:
    """The body's booking rules (defaults when ``body.json`` states none)."""
    try:
        raw = ctx.body().get("bookings", {})
    except InvigilError:
        raw = {}
    hours = raw.get("change_cutoff_hours", DEFAULT_CUTOFF_HOURS) if isinstance(raw, dict) else DEFAULT_CUTOFF_HOURS
    if isinstance(hours, bool) or not isinstance(hours, int) or not 0 <= hours <= 24 * 60:
        raise Refused("body.json: bookings.change_cutoff_hours must be whole hours from 0 to 1440")
    return BookingRules(hours)


def plan(ctx: CentralContext, actor: Actor, *, centre_id: str, scheme_id: str, scheme_version: int,
         form_ids: list[str], starts_at: str, window_minutes: int, capacity: int) -> Session:
    """Plan a session at an enrolled centre for a scheme version's forms (registrar or admin)."""
    require(actor, "plan sessions", REGISTRAR, ADMIN)
    start = _start(starts_at)
    if isinstance(capacity, bool) or not 1 <= capacity <= MAX_CAPACITY:
        raise Refused(f"capacity: from 1 to {MAX_CAPACITY}")
    if not 1 <= window_minutes <= 24 * 60:
        raise Refused("window_minutes: from 1 to 1440")
    _check_centre(ctx, fields.identifier(centre_id, "centre_id"))
    _check_forms(ctx, fields.identifier(scheme_id, "scheme_id"), int(scheme_version), form_ids)
    session_id = fields.new_id("S")
    with write(ctx.open_bank_db()) as conn:
        conn.execute(insert(exam_sessions).values(
            session_id=session_id, centre_id=centre_id, scheme_id=scheme_id, scheme_version=int(scheme_version),
            forms_json=json.dumps(list(form_ids)), starts_at=format_time(start), window_minutes=window_minutes,
            capacity=capacity, status=PLANNED, created_at=format_time(utc_now()), created_by=actor.name))
    ctx.audit_log().append(actor.name, "session.plan", {"session_id": session_id, "centre_id": centre_id,
                                                        "scheme_id": scheme_id, "capacity": capacity,
                                                        "starts_at": format_time(start)})
    return get(ctx, session_id)


def get(ctx: CentralContext, session_id: str) -> Session:
    """A session with its booked and waiting counts (sessions are not personal data: any actor)."""
    row = fetch_one(ctx.open_bank_db(), select(*exam_sessions.c).where(exam_sessions.c.session_id == session_id))
    if row is None:
        raise NotFound(f"no session {session_id}")
    b = bookings.c
    counts = dict(fetch_all(ctx.open_bank_db(), select(b.status, func.count()).where(b.session_id == session_id)
                            .group_by(b.status)))
    m = dict(row._mapping)
    m["forms"] = tuple(json.loads(m.pop("forms_json")))
    return Session(**m, booked=counts.get("booked", 0), waiting=counts.get("waiting", 0))


def list_sessions(ctx: CentralContext, *, scheme_id: str | None = None, centre_id: str | None = None,
                  upcoming_only: bool = True) -> list[Session]:
    """Sessions by start time, optionally of one scheme or centre, by default only those not started."""
    s = exam_sessions.c
    query = select(s.session_id).order_by(s.starts_at, s.session_id)
    if scheme_id:
        query = query.where(s.scheme_id == scheme_id)
    if centre_id:
        query = query.where(s.centre_id == centre_id)
    if upcoming_only:
        query = query.where(s.starts_at > format_time(utc_now()))
    return [get(ctx, r[0]) for r in fetch_all(ctx.open_bank_db(), query)]


def check_change_allowed(session: Session, rules: BookingRules, what: str, now: datetime | None = None) -> None:
    """Refuse ``what`` within the cut-off before the session's start (and after it started)."""
    cutoff = session.start - timedelta(hours=rules.change_cutoff_hours)
    if (now or utc_now()) >= cutoff:
        raise Refused(f"session {session.session_id} starts {session.starts_at}: no {what} within "
                      f"{rules.change_cutoff_hours} hours of the start")


def _start(starts_at: str) -> datetime:
    try:
        start = parse_time(starts_at, "starts_at")
    except InvigilError as exc:
        raise Refused(str(exc)) from None
    if start <= utc_now():
        raise Refused("starts_at: must be in the future")
    return start


def _check_centre(ctx: CentralContext, centre_id: str) -> None:
    row = fetch_one(ctx.open_bank_db(), select(centres.c.revoked_at).where(centres.c.centre_id == centre_id))
    if row is None:
        raise NotFound(f"no enrolled centre {centre_id}")
    if row[0]:
        raise Refused(f"centre {centre_id} is revoked")


def _check_forms(ctx: CentralContext, scheme_id: str, scheme_version: int, form_ids: list[str]) -> None:
    try:
        SchemeStore(ctx.open_bank_db()).get(scheme_id, scheme_version)
    except SchemeError as exc:
        raise NotFound(str(exc)) from None
    if not form_ids or len(form_ids) > 50:
        raise Refused("forms: name 1-50 forms of the scheme version")
    for form_id in form_ids:
        found = fetch_one(ctx.open_bank_db(), select(forms.c.form_id).where(
            forms.c.form_id == fields.identifier(form_id, "forms"), forms.c.scheme_id == scheme_id,
            forms.c.scheme_version == scheme_version).limit(1))
        if found is None:
            raise NotFound(f"form {form_id}: no form of scheme {scheme_id} version {scheme_version}")
