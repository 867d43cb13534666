"""Sittings pages (issue 16, item 6): sessions with their capacity, and each session's bookings.

A registrar or admin plans a session (``sessions plan``), books a seat for a person (``bookings
book``) and cancels a booking (``bookings cancel``), calling the functions the CLI calls with the
signed-in person as the actor: the same eligibility, capacity (under the session's lock), waiting
list, conflict-of-interest checks and audit entries. A booking's own page moves it (``bookings
move``) to another upcoming session of the same scheme version with a free seat, or cancels it.
Sessions are not personal data; bookings name persons and are shown to registry staff only (and the
auditor, read-only). Every list is paged in the database (``tables.TableSpec``): sessions and
bookings grow with every sitting, and only the names of the persons on the page shown are read.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from exam_core.timestamps import format_time, utc_now
from item_bank_sync.registry import persons
from item_bank_sync.registry.errors import RegistryError
from item_bank_sync.sittings import bookings, sessions
from item_bank_sync.sittings.schema import bookings as bookings_table, exam_sessions
from item_bank_sync.web.access import ADMIN, REGISTRAR, may_do, require_role, state
from item_bank_sync.web.formfields import int_field, paged, shown_time, spec_select, text_field
from item_bank_sync.web.registry import failed, paged_with_names, person_name, registry_actor
from item_bank_sync.web.tables import Col, TableSpec

bp = Blueprint("staff_sittings", __name__, url_prefix="/sittings")
VIEW = (REGISTRAR, ADMIN)

_s, _b = exam_sessions.c, bookings_table.c


def _count(status: str) -> Any:
    """Bookings of the row's session in ``status`` (a column of the sessions table, sortable)."""
    return (select(func.count()).select_from(bookings_table)
            .where(_b.session_id == _s.session_id, _b.status == status).scalar_subquery())


SESSIONS = TableSpec("sessions", (
    Col("session_id", "Session", _s.session_id,
        link=lambda r: url_for("staff_sittings.session_page", session_id=r.session_id)),
    Col("starts_at", "Starts", _s.starts_at, show=shown_time),
    Col("centre_id", "Centre", _s.centre_id),
    Col("scheme_id", "Scheme", _s.scheme_id),
    Col("scheme_version", "Version", _s.scheme_version),
    Col("capacity", "Capacity", _s.capacity),
    Col("booked", "Booked", _count(bookings.BOOKED)),
    Col("waiting", "Waiting", _count(bookings.WAITING)),
    Col("status", "Status", _s.status, filter="exact")), key=(_s.session_id,), default_sort="starts_at")
BOOKINGS = TableSpec("bookings", (
    Col("booking_id", "Booking", _b.booking_id, filter="exact",
        link=lambda r: url_for("staff_sittings.booking_page", booking_id=r.booking_id)),
    Col("person_id", "Person", _b.person_id, sortable=False, show=person_name),
    Col("status", "Status", _b.status, filter="exact"),
    Col("seat", "Seat", _b.seat),
    Col("queue_position", "Queue", _b.queue_position),
    Col("created_at", "Made", _b.created_at, show=shown_time),
    Col("created_by", "By", _b.created_by),
    Col("change_reason", "Change", _b.change_reason, sortable=False)),
    key=(_b.seat, _b.queue_position, _b.booking_id), default_sort="status")


@bp.get("/sessions")
@require_role(*VIEW)
def sessions_page() -> ResponseReturnValue:
    """Upcoming sessions, paged, with capacity, seats taken and the waiting list; the plan form.
    (``?all=1``, the former address of every session, goes to :func:`every_session_page`.)"""
    if request.args.get("all") == "1":
        return redirect(url_for("staff_sittings.every_session_page"))
    query = spec_select(SESSIONS).where(_s.starts_at > format_time(utc_now()))
    page = paged(state().ctx.open_bank_db(), SESSIONS, "staff_sittings.sessions_page", query)
    return render_template("staff/sittings/sessions.html", page=page, every=False,
                           may_plan=may_do("sessions.plan"))


@bp.get("/sessions/every")
@require_role(*VIEW)
def every_session_page() -> ResponseReturnValue:
    """Every session, past ones too, paged (its own address, so the page links keep the choice)."""
    page = paged(state().ctx.open_bank_db(), SESSIONS, "staff_sittings.every_session_page")
    return render_template("staff/sittings/sessions.html", page=page, every=True,
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
    """One session: its bookings paged (seats, then the waiting list in order, then former ones),
    each linked to its page (move, cancel); the book form."""
    try:
        found = sessions.get(state().ctx, session_id[:40])
        page = paged_with_names(bookings_table, BOOKINGS, url_for("staff_sittings.session_page",
                                                                  session_id=found.session_id),
                                "bookings", where=(_b.session_id == found.session_id,))
    except RegistryError as exc:
        return failed("Session", exc, url_for("staff_sittings.sessions_page"))
    return render_template("staff/sittings/session.html", session=found, page=page,
                           may_book=may_do("bookings.book"))


@bp.get("/bookings/<booking_id>")
@require_role(*VIEW)
def booking_page(booking_id: str) -> ResponseReturnValue:
    """One booking: who, where, its state; the move form (the sessions it may go to) and the cancel form."""
    ctx, who = state().ctx, registry_actor()
    try:
        found = bookings.show(ctx, who, booking_id[:40])
        person = persons.show(ctx, who, found.person_id)
        session = sessions.get(ctx, found.session_id)
    except RegistryError as exc:
        return failed("Booking", exc, url_for("staff_sittings.sessions_page"))
    return render_template("staff/sittings/booking.html", booking=found, person=person, session=session,
                           targets=_move_targets(session), active=found.status in bookings.ACTIVE,
                           may_move=may_do("bookings.move"), may_cancel=may_do("bookings.cancel"))


def _move_targets(session: sessions.Session) -> list[sessions.Session]:
    """Where a booking of ``session`` may move: other upcoming sessions of the same scheme version
    with a free seat (the service checks all of it again, under the sessions' locks)."""
    return [s for s in sessions.list_sessions(state().ctx, scheme_id=session.scheme_id)
            if s.scheme_version == session.scheme_version and s.session_id != session.session_id
            and s.booked < s.capacity]


@bp.post("/bookings/<booking_id>/move")
@require_role(*VIEW)
def move(booking_id: str) -> ResponseReturnValue:
    """``bookings move ID --to SESSION --reason --by``: a seat in the other session; the seat freed
    goes to the first one waiting here."""
    back = url_for("staff_sittings.booking_page", booking_id=booking_id[:40])
    try:
        made = bookings.move(state().ctx, registry_actor(), booking_id[:40], text_field("to_session", 40),
                             reason=text_field("reason", 1000))
    except RegistryError as exc:
        return failed("Move refused", exc, back)
    flash(f"Booking {booking_id[:40]} moved: booking {made.booking_id} in session {made.session_id}, "
          f"{made.status}{f', seat {made.seat}' if made.seat else ''}.", "ok")
    return redirect(url_for("staff_sittings.session_page", session_id=made.session_id))


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
