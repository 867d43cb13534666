"""Accommodations as a workflow: request with evidence, then approval within the scheme or refusal.

The candidate (or a registrar for them) requests adjustments for one scheme version, with a reason
and evidence documents (:mod:`.evidence`, subject ``accommodation``). A registrar without a declared
relationship with the person approves a profile, by default the one requested, with an expiry
date, or refuses with reasons. Approved profiles apply to every booking of that scheme version
until they expire (:func:`active_profile`, read when a roster is built).

Nothing a scheme does not allow can be granted: the request, the approval and the roster each
check the profile with the scheme's own policy (``exam_core.model.AccommodationPolicy.refusals``,
the check the centres and the intake run since issue 13), so every door refuses it the same way.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, select, update

from exam_core.errors import ValidationError
from exam_core.model import Accommodations, AccommodationPolicy
from exam_core.timestamps import format_time, utc_now
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import fetch_all, fetch_one, write
from item_bank_sync.forms.schemes import SchemeError, SchemeStore
from item_bank_sync.registry import conflicts, fields, listing, persons
from item_bank_sync.registry.actors import ADMIN, READERS, REGISTRAR, Actor, require
from item_bank_sync.registry.errors import NotFound, Refused
from item_bank_sync.registry.schema import accommodation_requests

REQUESTED, APPROVED, REFUSED = "requested", "approved", "refused"
MAX_VALID_DAYS = 5 * 366


@dataclass(frozen=True)
class AccommodationRequest:
    request_id: str
    person_id: str
    scheme_id: str
    scheme_version: int
    requested: dict[str, Any]
    reason: str
    status: str
    profile: dict[str, Any] | None
    expires_on: str | None
    requested_at: str
    requested_by: str
    decided_at: str | None
    decided_by: str | None
    decision_reasons: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def policy_of(ctx: CentralContext, scheme_id: str, scheme_version: int) -> AccommodationPolicy:
    """What the scheme version allows."""
    try:
        return SchemeStore(ctx.open_bank_db()).get(fields.identifier(scheme_id, "scheme_id"),
                                                   int(scheme_version)).accommodation_policy
    except SchemeError as exc:
        raise NotFound(str(exc)) from None


def within_scheme(policy: AccommodationPolicy, raw: Any, field_name: str) -> Accommodations:
    """``raw`` read as an accommodation profile and checked against ``policy``; :class:`Refused` otherwise."""
    try:
        profile = Accommodations.from_dict(raw, field_name)
    except ValidationError as exc:
        raise Refused(str(exc)) from None
    if profile == Accommodations():
        raise Refused(f"{field_name}: asks for no adjustment")
    refusals = policy.refusals(profile)
    if refusals:
        raise Refused(f"{field_name}: beyond what the scheme allows: {'; '.join(refusals)}")
    return profile


def request(ctx: CentralContext, actor: Actor, *, person_id: str, scheme_id: str, scheme_version: int,
            requested: dict[str, Any], reason: str) -> AccommodationRequest:
    """Request adjustments (the person, or a registrar for them); beyond the scheme is refused here already."""
    require(actor, "request accommodations", REGISTRAR, ADMIN, person_id=person_id)
    if not persons.exists(ctx, person_id):
        raise NotFound(f"no person {person_id}")
    profile = within_scheme(policy_of(ctx, scheme_id, scheme_version), requested, "requested")
    request_id = fields.new_id("R")
    with write(ctx.open_bank_db()) as conn:
        conn.execute(insert(accommodation_requests).values(
            request_id=request_id, person_id=person_id, scheme_id=scheme_id, scheme_version=int(scheme_version),
            requested_json=json.dumps(profile.to_dict()), reason=fields.text(reason, "reason", 5000),
            status=REQUESTED, requested_at=format_time(utc_now()), requested_by=actor.name))
    ctx.audit_log().append(actor.name, "accommodation.request", {"request_id": request_id, "person_id": person_id,
                                                                 "scheme_id": scheme_id,
                                                                 "scheme_version": int(scheme_version)})
    return _get(ctx, request_id)


def approve(ctx: CentralContext, actor: Actor, request_id: str, *, expires_on: str, reasons: str,
            profile: dict[str, Any] | None = None) -> AccommodationRequest:
    """A registrar approves ``profile`` (default: as requested) until ``expires_on``, within the scheme."""
    found = _decidable(ctx, actor, request_id, "approve accommodations")
    granted = within_scheme(policy_of(ctx, found.scheme_id, found.scheme_version),
                            found.requested if profile is None else profile, "profile")
    until = fields.iso_date(expires_on, "expires_on")
    today = utc_now().date()
    if not today < date.fromisoformat(until) <= today + timedelta(days=MAX_VALID_DAYS):
        raise Refused(f"expires_on: a date after today and within {MAX_VALID_DAYS} days")
    return _decide(ctx, actor, found, APPROVED, fields.text(reasons, "reasons", 5000),
                   profile_json=json.dumps(granted.to_dict()), expires_on=until)


def refuse(ctx: CentralContext, actor: Actor, request_id: str, *, reasons: str) -> AccommodationRequest:
    """A registrar refuses the request, with reasons."""
    found = _decidable(ctx, actor, request_id, "refuse accommodations")
    return _decide(ctx, actor, found, REFUSED, fields.text(reasons, "reasons", 5000))


def show(ctx: CentralContext, actor: Actor, request_id: str) -> AccommodationRequest:
    found = _get(ctx, request_id)
    require(actor, "see accommodation requests", *READERS, person_id=found.person_id)
    return found


def list_requests(ctx: CentralContext, actor: Actor, *, status: str | None = None,
                  person_id: str | None = None) -> list[AccommodationRequest]:
    """Requests oldest first (the registrar's queue with ``status="requested"``); a candidate sees their own."""
    ids = listing.visible_ids(ctx, actor, "accommodation requests", accommodation_requests,
                              ("requested_at", "request_id"), status=status, person_id=person_id)
    return [_get(ctx, i) for i in ids]


def active_profile(ctx: CentralContext, person_id: str, scheme_id: str, scheme_version: int,
                   on: date) -> tuple[str, Accommodations] | None:
    """The most recently approved profile of the person for that scheme version still valid on ``on``."""
    r = accommodation_requests.c
    rows = fetch_all(ctx.open_bank_db(), select(r.request_id, r.profile_json, r.expires_on).where(
        r.person_id == person_id, r.scheme_id == scheme_id, r.scheme_version == scheme_version,
        r.status == APPROVED).order_by(r.decided_at.desc()))
    for request_id, profile_json, expires_on in rows:
        if expires_on and date.fromisoformat(expires_on) >= on:
            return request_id, Accommodations.from_dict(json.loads(profile_json), "profile")
    return None


def _decidable(ctx: CentralContext, actor: Actor, request_id: str, action: str) -> AccommodationRequest:
    require(actor, action, REGISTRAR)
    found = _get(ctx, request_id)
    conflicts.check(ctx, actor, found.person_id, "decide this accommodation request")
    if found.status != REQUESTED:
        raise Refused(f"accommodation request {request_id} is {found.status}, not {REQUESTED}")
    return found


def _decide(ctx: CentralContext, actor: Actor, found: AccommodationRequest, status: str, reasons: str,
            **values: Any) -> AccommodationRequest:
    r = accommodation_requests.c
    with write(ctx.open_bank_db()) as conn:
        done = conn.execute(update(accommodation_requests).where(r.request_id == found.request_id,
                                                                 r.status == REQUESTED)
                            .values(status=status, decided_at=format_time(utc_now()), decided_by=actor.name,
                                    decision_reasons=reasons, **values))
        if done.rowcount != 1:
            raise Refused(f"accommodation request {found.request_id} was decided meanwhile")
    ctx.audit_log().append(actor.name, f"accommodation.{status}", {
        "request_id": found.request_id, "person_id": found.person_id, "reasons": reasons,
        "expires_on": values.get("expires_on")})
    return _get(ctx, found.request_id)


def _get(ctx: CentralContext, request_id: str) -> AccommodationRequest:
    r = accommodation_requests.c
    row = fetch_one(ctx.open_bank_db(), select(*accommodation_requests.c).where(r.request_id == request_id))
    if row is None:
        raise NotFound(f"no accommodation request {request_id}")
    m = row._mapping
    return AccommodationRequest(
        request_id=m["request_id"], person_id=m["person_id"], scheme_id=m["scheme_id"],
        scheme_version=m["scheme_version"], requested=json.loads(m["requested_json"]), reason=m["reason"],
        status=m["status"], profile=json.loads(m["profile_json"]) if m["profile_json"] else None,
        expires_on=m["expires_on"], requested_at=m["requested_at"], requested_by=m["requested_by"],
        decided_at=m["decided_at"], decided_by=m["decided_by"], decision_reasons=m["decision_reasons"])
