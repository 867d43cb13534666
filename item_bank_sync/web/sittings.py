"""Sittings pages (issue 16, item 6): sessions with their capacity, and each session's bookings.

A registrar or admin plans a session (``sessions plan``), books a seat for a person (``bookings
book``) and cancels a booking (``bookings cancel``), calling the functions the CLI calls with the
signed-in person as the actor: the same eligibility, capacity (under the session's lock), waiting
list, conflict-of-interest checks and audit entries. Sessions are not personal data; bookings name
persons and are shown to registry staff only (and the auditor, read-only).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from item_bank_sync.registry import persons
from item_bank_sync.registry.errors import RegistryError
from item_bank_sync.sittings import bookings, sessions
from item_bank_sync.web.access import ADMIN, REGISTRAR, may_do, require_role, state
from item_bank_sync.web.formfields import int_field, text_field
from item_bank_sync.web.registry import failed, registry_actor

bp = Blueprint("staff_sittings", __name__, url_prefix="/sittings")
VIEW = (REGISTRAR, ADMIN)


@bp.get("/sessions")
@require_role(*VIEW)
def sessions_page() -> ResponseReturnValue:
    """Upcoming sessions (all with ``?all=1``) with capacity, seats taken and the waiting list; the plan form."""
    every = request.args.get("all") == "1"
    rows = sessions.list_sessions(state().ctx, upcoming_only=not every)
    return render_template("staff/sittings/sessions.html", rows=rows, every=every,
                           may_plan=may_do("sessions.plan"))


@bp.post("/sessions")
@require_role(*VIEW)
def plan() -> ResponseReturnValue:
    """``sessions plan --centre --scheme --version --form --starts --window --capacity --by``."""
    back = url_for("staff_sittings.sessions_page")
    forms = [f.strip() for f in text_field("forms", 2000).split(",") if f.strip()]
    try:
        found = sessions.plan(state().ctx, registry_actor(), centre_id=text_field("centre_id", 100),
                              scheme_id=text_field("scheme_id", 100),
                              scheme_version=int_field("scheme_version", 1, 10**6),
                              form_ids=forms, starts_at=text_field("starts_at", 40),
                              window_minutes=int_field("window_minutes", 1, 1440),
                              capacity=int_field("capacity", 1, sessions.MAX_CAPACITY))
    except RegistryError as exc:
        return failed("Session refused", exc, back)
    flash(f"Session {found.session_id} planned.", "ok")
    return redirect(url_for("staff_sittings.session_page", session_id=found.session_id))


@bp.get("/sessions/<session_id>")
@require_role(*VIEW)
def session_page(session_id: str) -> ResponseReturnValue:
    """One session: its seats, its waiting list in order, former bookings; book and cancel forms."""
    ctx, who = state().ctx, registry_actor()
    try:
        found = sessions.get(ctx, session_id[:40])
        rows = bookings.list_bookings(ctx, who, session_id=found.session_id)
        names = {p: persons.show(ctx, who, p).full_name for p in sorted({b.person_id for b in rows})}
    except RegistryError as exc:
        return failed("Session", exc, url_for("staff_sittings.sessions_page"))
    return render_template("staff/sittings/session.html", session=found, rows=rows, names=names,
                           may_book=may_do("bookings.book"), may_cancel=may_do("bookings.cancel"))


@bp.post("/sessions/<session_id>/book")
@require_role(*VIEW)
def book(session_id: str) -> ResponseReturnValue:
    """``bookings book --session --person --by``: a seat, or the waiting list when full."""
    back = url_for("staff_sittings.session_page", session_id=session_id[:40])
    try:
        made = bookings.book(state().ctx, registry_actor(), session_id[:40], text_field("person_id", 40))
    except RegistryError as exc:
        return failed("Booking refused", exc, back)
    flash(f"Booking {made.booking_id}: {made.status}{f', seat {made.seat}' if made.seat else ''}.", "ok")
    return redirect(back)


@bp.post("/bookings/<booking_id>/cancel")
@require_role(*VIEW)
def cancel(booking_id: str) -> ResponseReturnValue:
    """``bookings cancel ID --reason --by``: the freed seat goes to the first one waiting."""
    try:
        found = bookings.get(state().ctx, booking_id[:40])
    except RegistryError:
        abort(404)
    back = url_for("staff_sittings.session_page", session_id=found.session_id)
    try:
        bookings.cancel(state().ctx, registry_actor(), found.booking_id, reason=text_field("reason", 1000))
    except RegistryError as exc:
        return failed("Cancellation refused", exc, back)
    flash(f"Booking {found.booking_id} cancelled.", "ok")
    return redirect(back)
