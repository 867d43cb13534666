"""A re-mark on appeal: a human-marked response marked again by a marker who took no part in the
attempt (ISO/IEC 17024 9.8; issue 17, item 5).

Why one independent marker and not the double marking of first marking: the appeal's handler
weighs the re-mark against the two original marks and decides whether it stands (``apply``); the
re-marker must not be one of the task's markers or its adjudicator, nor the proctor or decision
maker of the attempt, nor have declared a conflict with the candidate. A re-mark records the
re-marker as a marker of the attempt (so they cannot decide it later), is kept in ``remarks`` and
audited; applied, it replaces the slot's score and a changed pass/fail becomes a new decision (and
the certificate is issued or withdrawn) exactly as after a re-score. Staff reach :func:`remark`
only through a request the handler addressed to them (:mod:`item_bank_sync.cases.remark_requests`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import insert, select, update

from exam_core.errors import ValidationError
from exam_core.timestamps import format_time, utc_now
from item_bank_sync.cases.handling import CaseRefused, involvement
from item_bank_sync.cases.rescore import Rescore, act_on_change, check_applier, check_flags
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import insert_ignore, lock, write
from item_bank_sync.release.schema import remarks
from item_bank_sync.results.marking import person_key, refresh_attempt_total
from item_bank_sync.results.schema import attempt_roles, attempts, marking_tasks, response_scores
from item_bank_sync.results.scoring import passed
from item_bank_sync.sittings.impartiality import check_attempt, staff


@dataclass(frozen=True)
class Remark:
    """One re-mark: the slot, the score before and given, and what applying it did."""

    attempt_id: str
    task_id: int
    marker: str
    score_before: float | None
    score: float
    applied: bool
    decision: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def task_of(ctx: CentralContext, attempt_id: str, item_id: str) -> dict[str, Any]:
    """The finished marking task of ``item_id`` on the attempt (refused when there is none to re-mark)."""
    t = marking_tasks.c
    with ctx.open_results_db().connect() as conn:
        row = conn.execute(select(marking_tasks).where(t.attempt_id == attempt_id, t.item_id == item_id)
                           ).mappings().first()
    if row is None:
        raise CaseRefused(f"item {item_id} of attempt {attempt_id} was not marked by people; nothing to re-mark")
    if row["status"] != "done":
        raise CaseRefused(f"the marking of item {item_id} of attempt {attempt_id} is not finished")
    return dict(row)


def remark(ctx: CentralContext, attempt_id: str, item_id: str, marker: str, score: float, note: str = "") -> int:
    """Record ``marker``'s re-mark of ``item_id`` (refused for anyone involved); returns its id."""
    task = task_of(ctx, attempt_id, item_id)
    if not 0 <= score <= task["max_score"]:
        raise ValidationError("score", f"must be between 0 and {task['max_score']}")
    who = person_key(marker)
    involved = involvement(ctx, attempt_id, who)
    if involved:
        raise CaseRefused(f"{marker} acted as {' and '.join(involved)} on attempt {attempt_id}; a re-mark needs a "
                          "marker who took no part in it")
    check_attempt(ctx, staff(marker, "marker"), attempt_id, "re-mark this candidate's response")
    with write(ctx.open_results_db()) as conn:
        lock(conn, f"attempt:{attempt_id}")
        inserted = conn.execute(insert(remarks).values(
            attempt_id=attempt_id, task_id=task["task_id"], marker=who, score_before=task["final_score"],
            score=float(score), note=note.strip()[:1000], applied=0, at=format_time(utc_now())))
        insert_ignore(conn, attempt_roles, {"attempt_id": attempt_id, "person": who, "role": "marker"})
    remark_id = int(inserted.inserted_primary_key[0])  # type: ignore[index]  # one row inserted
    ctx.audit_log().append(who, "results.remark", {"remark_id": remark_id, "attempt_id": attempt_id,
                                                   "task_id": task["task_id"]})
    return remark_id


def apply_remark(ctx: CentralContext, remark_id: int, by: str, *, flags_reviewed: bool = False) -> Remark:
    """The handler ``by`` makes a re-mark the slot's score; a changed pass/fail becomes a new decision
    (on a flagged attempt only when ``by`` states they reviewed its flags: ``flags_reviewed``)."""
    r, t = remarks.c, marking_tasks.c
    with ctx.open_results_db().connect() as conn:
        row = conn.execute(select(remarks).where(r.id == remark_id)).mappings().first()
        task = None if row is None else conn.execute(select(marking_tasks)
                                                     .where(t.task_id == row["task_id"])).mappings().first()
    if row is None or task is None:
        raise CaseRefused(f"re-mark {remark_id} does not exist")
    if row["applied"]:
        raise CaseRefused(f"re-mark {remark_id} was applied already")
    attempt_id, before, now = row["attempt_id"], _result(ctx, row["attempt_id"]), format_time(utc_now())
    check_applier(ctx, attempt_id, by, "apply a re-mark")
    check_flags(ctx, _foreseen(ctx, attempt_id, before, float(task["final_score"] or 0), row["score"]),
                flags_reviewed)
    with write(ctx.open_results_db()) as conn:
        lock(conn, f"attempt:{attempt_id}")
        s = response_scores.c
        conn.execute(update(response_scores).where(s.attempt_id == attempt_id, s.item_id == task["item_id"],
                                                   s.response_id == task["response_id"]).values(score=row["score"]))
        conn.execute(update(marking_tasks).where(t.task_id == task["task_id"]).values(final_score=row["score"]))
        conn.execute(update(remarks).where(r.id == remark_id).values(applied=1))
        refresh_attempt_total(conn, attempt_id, now)
    ctx.audit_log().append(person_key(by), "results.remark-apply", {"remark_id": remark_id, "attempt_id": attempt_id})
    after = _result(ctx, attempt_id)
    change = Rescore(attempt_id, "remark", {}, before[0], after[0], before[1], after[1], False)
    decision = act_on_change(ctx, change, by, f"re-mark {remark_id} of {task['item_id']}",
                             flags_reviewed=flags_reviewed)
    return Remark(attempt_id, int(task["task_id"]), row["marker"], row["score_before"], row["score"], True, decision)


def _result(ctx: CentralContext, attempt_id: str) -> tuple[float, bool | None]:
    a = attempts.c
    with ctx.open_results_db().connect() as conn:
        total, passed = conn.execute(select(a.total, a.passed).where(a.attempt_id == attempt_id)).one()
    return float(total), None if passed is None else bool(passed)


def _foreseen(ctx: CentralContext, attempt_id: str, before: tuple[float, bool | None], old: float,
              new: float) -> Rescore:
    """The result the re-mark will give, known before it is written (to refuse it unwritten)."""
    with ctx.open_results_db().connect() as conn:
        cut = conn.execute(select(attempts.c.cut_score).where(attempts.c.attempt_id == attempt_id)).scalar()
    total = before[0] - old + float(new)
    after = None if cut is None or before[1] is None else passed(total, float(cut))
    return Rescore(attempt_id, "remark", {}, before[0], total, before[1], after, False)
