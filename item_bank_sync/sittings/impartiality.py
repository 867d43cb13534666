"""Conflicts of interest where staff act on an attempt: marking and certification decisions.

An attempt carries the candidate id its roster gave it; when that id was issued by a booking, the
attempt belongs to a registered person, and a marker or decider who declared a relationship with
that person is refused (:func:`item_bank_sync.registry.conflicts.check`). An attempt from a
centre's own CSV roster maps to no person and is not checked here (the console's own conflict
declarations still apply there).
"""

from __future__ import annotations

from sqlalchemy import select

from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import fetch_one
from item_bank_sync.registry.actors import Actor, staff
from item_bank_sync.results.schema import attempts, marking_tasks
from item_bank_sync.sittings.bookings import check_candidate

__all__ = ["check_attempt", "check_marking_task", "staff"]


def check_attempt(ctx: CentralContext, actor: Actor, attempt_id: str, action: str) -> None:
    """Refuse ``actor`` acting on ``attempt_id`` when they declared a relationship with its candidate."""
    row = fetch_one(ctx.open_results_db(), select(attempts.c.candidate_id).where(attempts.c.attempt_id == attempt_id))
    if row is not None:
        check_candidate(ctx, actor, str(row[0]), action)


def check_marking_task(ctx: CentralContext, actor: Actor, task_id: int, action: str) -> None:
    """:func:`check_attempt` for the attempt a marking task belongs to."""
    row = fetch_one(ctx.open_results_db(), select(marking_tasks.c.attempt_id).where(marking_tasks.c.task_id == task_id))
    if row is not None:
        check_attempt(ctx, actor, str(row[0]), action)
