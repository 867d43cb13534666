"""What waits for a person on the home page: counts by role, each with a link to its page.

Counted in the database (never by loading rows), so the home page stays quick at 100,000 items or
envelopes. A link appears when the page that lists those things is registered (pages land one by
one); until then the count stands alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, url_for
from sqlalchemy import Engine, and_, exists, func, select

from item_bank_sync.bank.schema import items
from item_bank_sync.db.sql import scalar
from item_bank_sync.results.marking import person_key
from item_bank_sync.results.schema import attempts, decisions, intake_releases, marking_tasks, marks, quarantine
from item_bank_sync.staff.accounts import StaffMember
from item_bank_sync.staff.roles import APPROVER, AUDITOR, DECISION_MAKER, MARKER, REGISTRAR, REVIEWER
from item_bank_sync.web.access import state


@dataclass(frozen=True)
class Waiting:
    label: str
    count: int
    url: str | None


def _link(endpoint: str, **args: Any) -> str | None:
    return url_for(endpoint, **args) if endpoint in current_app.view_functions else None


def _count(engine: Engine, query: object) -> int:
    return int(scalar(engine, select(func.count()).select_from(query.subquery())) or 0)  # type: ignore[attr-defined]


def waiting_for(member: StaffMember) -> list[Waiting]:
    """The queues ``member``'s roles make theirs (the auditor sees every queue)."""
    ctx = state().ctx
    bank, results = ctx.open_bank_db(), ctx.open_results_db()
    every = member.has(AUDITOR)
    found: list[Waiting] = []
    if every or member.has(REVIEWER):
        found.append(Waiting("Items to review", _count(bank, select(items.c.item_id).where(items.c.status == "draft")),
                             _link("staff_items.listing", f_status="draft")))
    if every or member.has(APPROVER):
        found.append(Waiting("Items to approve",
                             _count(bank, select(items.c.item_id).where(items.c.status == "reviewed")),
                             _link("staff_items.listing", f_status="reviewed")))
    if every or member.has(REGISTRAR):
        released = exists().where(intake_releases.c.envelope_sha256 == quarantine.c.sha256)
        found.append(Waiting("Quarantined envelopes", _count(results, select(quarantine.c.id).where(~released)),
                             _link("intake.queue_page", f_status="quarantined")))
    if every or member.has(MARKER):
        # marks name their marker by person_key (as the marking queue compares), not as the account spells it
        me = person_key(member.name)
        mine = exists().where(and_(marks.c.task_id == marking_tasks.c.task_id, marks.c.marker == me))
        open_tasks = select(marking_tasks.c.task_id).where(marking_tasks.c.status.in_(("open", "adjudication")))
        found.append(Waiting("Marking tasks", _count(results, open_tasks.where(~mine)), _link("staff_marking.tasks")))
    if every or member.has(DECISION_MAKER):
        decided = exists().where(decisions.c.attempt_id == attempts.c.attempt_id)
        query = select(attempts.c.attempt_id).where(attempts.c.scoring_status == "scored", ~decided)
        # the link opens the decisions list filtered to the same attempts the count counts
        found.append(Waiting("Attempts awaiting a decision", _count(results, query),
                             _link("review.decisions_page", f_scoring_status="scored", f_decision="none")))
    return found
