"""``sessions`` and ``bookings``: sittings the body plans, seats, waiting lists and the roster a
session's centre will receive (item_bank_sync/sittings)."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from item_bank_sync.cli.common import central, emit, json_option, refusals_exit
from item_bank_sync.cli.registry_common import acting
from item_bank_sync.registry.actors import REGISTRAR, Actor
from item_bank_sync.sittings import bookings, roster_for, sessions
from item_bank_sync.sittings.publish import publish


@click.group("sessions")
def sessions_group() -> None:
    """Exam sessions: centre, start and window, capacity, scheme version, forms; their rosters."""


def _sessions(c: Console, found: list[sessions.Session]) -> None:
    table = Table("session", "centre", "scheme", "starts", "capacity", "booked", "waiting")
    for s in found:
        table.add_row(s.session_id, s.centre_id, f"{s.scheme_id} v{s.scheme_version}", s.starts_at,
                      str(s.capacity), str(s.booked), str(s.waiting))
    c.print(table)


@sessions_group.command("plan")
@click.option("--centre", "centre_id", required=True)
@click.option("--scheme", "scheme_id", required=True)
@click.option("--version", "scheme_version", type=int, required=True)
@click.option("--form", "form_ids", multiple=True, required=True, help="A form of the scheme version (repeatable).")
@click.option("--starts", "starts_at", required=True, metavar="TIME", help="Start, ISO 8601 with offset.")
@click.option("--window-minutes", type=int, default=60, show_default=True, help="Admission window after the start.")
@click.option("--capacity", type=int, required=True)
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def sessions_plan(ctx: click.Context, centre_id: str, scheme_id: str, scheme_version: int, form_ids: tuple[str, ...],
                  starts_at: str, window_minutes: int, capacity: int, actor: Actor) -> None:
    """Plan a session at an enrolled centre."""
    found = sessions.plan(central(ctx), actor, centre_id=centre_id, scheme_id=scheme_id, scheme_version=scheme_version,
                          form_ids=list(form_ids), starts_at=starts_at, window_minutes=window_minutes,
                          capacity=capacity)
    emit(ctx, found.to_dict(), lambda c: _sessions(c, [found]))


@sessions_group.command("show")
@click.argument("session_id")
@json_option
@click.pass_context
@refusals_exit
def sessions_show(ctx: click.Context, session_id: str) -> None:
    """A session with its seats taken and waiting list."""
    found = sessions.get(central(ctx), session_id)
    emit(ctx, found.to_dict(), lambda c: _sessions(c, [found]))


@sessions_group.command("list")
@click.option("--scheme", "scheme_id")
@click.option("--centre", "centre_id")
@click.option("--all", "everything", is_flag=True, help="Include sessions that already started.")
@json_option
@click.pass_context
@refusals_exit
def sessions_list(ctx: click.Context, scheme_id: str | None, centre_id: str | None, everything: bool) -> None:
    """Sessions by start time (upcoming ones unless --all)."""
    found = sessions.list_sessions(central(ctx), scheme_id=scheme_id, centre_id=centre_id,
                                   upcoming_only=not everything)
    emit(ctx, {"sessions": [s.to_dict() for s in found]}, lambda c: _sessions(c, found))


@sessions_group.command("roster")
@click.argument("session_id")
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def sessions_roster(ctx: click.Context, session_id: str, actor: Actor) -> None:
    """What the session's signed roster will carry: candidates, seats, photo digests, accommodations."""
    roster = roster_for(central(ctx), session_id, actor)

    def human(c: Console) -> None:
        table = Table("seat", "candidate", "name", "photo", "accommodations")
        for e in roster.entries:
            granted = ", ".join(f"{k}={v}" for k, v in e.accommodations.items() if v not in (0, 100, False, ""))
            table.add_row(str(e.seat), e.candidate_id, e.name, (e.photo_sha256 or "-")[:16], granted or "-")
        c.print(table)
    emit(ctx, roster.to_dict(), human)


@sessions_group.command("publish")
@click.argument("session_id")
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def sessions_publish(ctx: click.Context, session_id: str, actor: Actor) -> None:
    """Sign the session's roster (next version) for its centre: it travels with the centre's packages
    on the next sync and in the next bundle to the centre."""
    summary = publish(central(ctx), actor, session_id)
    emit(ctx, summary, lambda c: c.print(f"Session {session_id}: roster version {summary['version']} signed for "
                                         f"{summary['centre_id']} ({summary['candidates']} candidates)."))


@click.group("bookings")
def bookings_group() -> None:
    """Seats in sessions: book, move, cancel (not within the body's cut-off before the start); waiting lists."""


def _bookings(c: Console, found: list[bookings.Booking]) -> None:
    table = Table("booking", "session", "person", "candidate", "status", "seat")
    for b in found:
        table.add_row(b.booking_id, b.session_id, b.person_id, b.candidate_id, b.status,
                      str(b.seat) if b.seat else f"#{b.queue_position}" if b.status == "waiting" else "-")
    c.print(table)


@bookings_group.command("book")
@click.argument("session_id")
@click.option("--person", "person_id", required=True)
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def bookings_book(ctx: click.Context, session_id: str, person_id: str, actor: Actor) -> None:
    """Book a seat (or a waiting-list place when full) for an eligible person."""
    found = bookings.book(central(ctx), actor, session_id, person_id)
    emit(ctx, found.to_dict(), lambda c: _bookings(c, [found]))


@bookings_group.command("cancel")
@click.argument("booking_id")
@click.option("--reason", required=True)
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def bookings_cancel(ctx: click.Context, booking_id: str, reason: str, actor: Actor) -> None:
    """Cancel a booking; the first on the waiting list gets the seat."""
    found = bookings.cancel(central(ctx), actor, booking_id, reason=reason)
    emit(ctx, found.to_dict(), lambda c: _bookings(c, [found]))


@bookings_group.command("move")
@click.argument("booking_id")
@click.option("--to", "to_session_id", required=True, help="Another session of the same scheme version.")
@click.option("--reason", required=True)
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def bookings_move(ctx: click.Context, booking_id: str, to_session_id: str, reason: str, actor: Actor) -> None:
    """Move a booking to a session with a free seat."""
    found = bookings.move(central(ctx), actor, booking_id, to_session_id, reason=reason)
    emit(ctx, found.to_dict(), lambda c: _bookings(c, [found]))


@bookings_group.command("list")
@click.option("--session", "session_id")
@click.option("--person", "person_id")
@click.option("--active", is_flag=True, help="Only seats and waiting-list places.")
@acting(REGISTRAR)
@json_option
@click.pass_context
@refusals_exit
def bookings_list(ctx: click.Context, session_id: str | None, person_id: str | None, active: bool,
                  actor: Actor) -> None:
    """Bookings of a session or a person."""
    found = bookings.list_bookings(central(ctx), actor, session_id=session_id, person_id=person_id,
                                   active_only=active)
    emit(ctx, {"bookings": [b.to_dict() for b in found]}, lambda c: _bookings(c, found))
