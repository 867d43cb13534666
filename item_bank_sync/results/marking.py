"""Human marking of extended responses: double marking, and adjudication of disagreements.

Why two markers: one marker's leniency or a lapse decides a certification otherwise. Each task
(one response slot of one attempt) needs marks from two *different* markers. When the two agree
within the task's tolerance, the final score is their mean; when they differ by more, the task
goes to adjudication, where a third person (neither of the two markers) sets the final score.
Everyone who marks or adjudicates an attempt is recorded in ``attempt_roles``, so that none of
them can later decide that attempt's certification (impartiality, ISO/IEC 17024 9.4).

When the last task of an attempt is done, the attempt's total and pass/fail are recomputed.

The tolerance is a share of the task's maximum score: 10 % unless set (``marking tolerance``),
globally or for one form (a form's own setting wins). A task takes the tolerance in force when it
is created; changing the setting also re-applies it to tasks still ``open`` (not yet settled by
two marks), never to tasks already in adjudication or done.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Engine, case, func, insert, select, update

from exam_core.errors import InvigilError, ValidationError
from exam_core.timestamps import format_time, utc_now
from item_bank_sync.db.sql import insert_ignore, insert_ignore_many, upsert, write
from item_bank_sync.results.schema import (attempt_roles, attempts, marking_tasks, marking_tolerance, marks,
                                           response_scores, responses)
from item_bank_sync.results.scoring import passed

#: Default agreement tolerance, as a share of the task's maximum score.
DEFAULT_TOLERANCE_SHARE = 0.1


class MarkingError(InvigilError):
    """A mark was refused (wrong state, same marker twice, score out of range)."""


@dataclass(frozen=True)
class MarkOutcome:
    task_id: int
    status: str
    final_score: float | None
    attempt_completed: bool
    attempt_id: str = ""  # the task's attempt (named in the audit entry of the mark)


def create_tasks(conn: Connection, attempt_id: str, pending: list[tuple[str, str, float]], now: str,
                 form_id: str | None = None) -> None:
    """Queue ``(item_id, response_id, max_score)`` slots of one attempt (inside the caller's transaction)."""
    share = tolerance_share(conn, form_id) if pending else DEFAULT_TOLERANCE_SHARE
    insert_ignore_many(conn, marking_tasks, [
        {"attempt_id": attempt_id, "item_id": item_id, "response_id": response_id, "max_score": max_score,
         "tolerance": share * max_score, "created_at": now} for item_id, response_id, max_score in pending])


def tolerance_share(conn: Connection, form_id: str | None) -> float:
    """The tolerance share in force for a form: its own setting, else the global one, else 10 %."""
    t = marking_tolerance.c
    row = conn.execute(select(t.share).where(t.form_id.in_([form_id or "", ""]))
                       .order_by(t.form_id == "").limit(1)).first()
    return DEFAULT_TOLERANCE_SHARE if row is None else float(row[0])


def set_tolerance(db: Engine, percent: float, by: str, form_id: str | None = None) -> dict[str, Any]:
    """Set the tolerance (percent of a task's maximum) globally or for one form; re-apply it to
    the open tasks it governs. Returns the setting and how many open tasks changed."""
    if not 0 <= percent <= 100:
        raise ValidationError("percent", "must be between 0 and 100")
    if not by.strip():
        raise ValidationError("by", "name the person changing the marking rule")
    share, scope, now = percent / 100, form_id or "", format_time(utc_now())
    # open tasks governed by this setting: of this form, or (global) of forms without their own
    own = select(marking_tolerance.c.form_id).where(marking_tolerance.c.form_id != "")
    forms_governed = attempts.c.form_id == scope if scope else attempts.c.form_id.not_in(own)
    governed = marking_tasks.c.attempt_id.in_(select(attempts.c.attempt_id).where(forms_governed))
    with write(db) as conn:
        upsert(conn, marking_tolerance, {"form_id": scope, "share": share, "set_by": by.strip(), "set_at": now},
               key=["form_id"])
        changed = conn.execute(update(marking_tasks).where(marking_tasks.c.status == "open", governed)
                               .values(tolerance=share * marking_tasks.c.max_score)).rowcount
    return {"form_id": form_id, "percent": percent, "set_by": by.strip(), "set_at": now, "open_tasks_updated": changed}


def list_tolerances(db: Engine) -> list[dict[str, Any]]:
    """Every tolerance setting (``form_id`` None = global), with the default when none is global."""
    with db.connect() as conn:
        settings = conn.execute(select(marking_tolerance).order_by(marking_tolerance.c.form_id)).mappings().all()
    rows = [{"form_id": r["form_id"] or None, "percent": r["share"] * 100, "set_by": r["set_by"], "set_at": r["set_at"]}
            for r in settings]
    if not any(r["form_id"] is None for r in rows):
        rows.insert(0, {"form_id": None, "percent": DEFAULT_TOLERANCE_SHARE * 100, "set_by": "(default)",
                        "set_at": None})
    return rows


def list_tasks(db: Engine, status: str | None = None) -> list[dict[str, Any]]:
    """Tasks with their marks (scores only; the response text is shown by ``show_task``)."""
    query = select(marking_tasks).order_by(marking_tasks.c.task_id)
    if status:
        query = query.where(marking_tasks.c.status == status)
    m = marks.c
    with db.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
        for row in rows:
            row["marks"] = [dict(r) for r in conn.execute(
                select(m.marker, m.kind, m.score, m.at).where(m.task_id == row["task_id"])
                .order_by(m.at, m.marker)).mappings()]
    return rows


def task_response(db: Engine, task_id: int) -> dict[str, Any]:
    """The task and the candidate's final answer for it (what a marker reads)."""
    r = responses.c
    with db.connect() as conn:
        task = _task(conn, task_id)
        row = conn.execute(select(r.value_json).where(r.attempt_id == task["attempt_id"],
                                                      r.item_id == task["item_id"],
                                                      r.response_id == task["response_id"])
                           .order_by(r.seq.desc()).limit(1)).first()
    task["response_json"] = row[0] if row else "null"
    return task


def _task(conn: Connection, task_id: int) -> dict[str, Any]:
    row = conn.execute(select(marking_tasks).where(marking_tasks.c.task_id == task_id)).mappings().first()
    if row is None:
        raise MarkingError(f"marking task {task_id} does not exist")
    return dict(row)


def _check_score(score: float, task: dict[str, Any]) -> None:
    if not 0 <= score <= task["max_score"]:
        raise ValidationError("score", f"must be between 0 and {task['max_score']} for task {task['task_id']}")


@contextlib.contextmanager
def _task_in_state(db: Engine, task_id: int, score: float, state: str) -> Iterator[tuple[Connection, dict]]:
    """One write transaction on a task that must be in ``state`` and take ``score``; the task row is
    locked (``FOR UPDATE`` on PostgreSQL), so two marks on one task are taken one after the other."""
    with write(db) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(select(marking_tasks.c.task_id).where(marking_tasks.c.task_id == task_id).with_for_update())
        task = _task(conn, task_id)
        _check_score(score, task)
        if task["status"] != state:
            raise MarkingError(f"task {task_id} is {task['status']}, not {state}: it takes no such mark")
        yield conn, task


def _insert_mark(conn: Connection, task: dict[str, Any], person: str, kind: str, score: float, note: str,
                 now: str) -> None:
    conn.execute(insert(marks).values(task_id=task["task_id"], marker=person, kind=kind, score=score, note=note,
                                      at=now))
    _add_role(conn, task["attempt_id"], person, "marker" if kind == "mark" else "adjudicator")


def record_mark(db: Engine, task_id: int, marker: str, score: float, note: str = "") -> MarkOutcome:
    """Record one marker's mark; the second distinct mark settles or escalates the task."""
    marker = person_key(marker)
    now = format_time(utc_now())
    with _task_in_state(db, task_id, score, "open") as (conn, task):
        given = conn.execute(select(marks.c.marker, marks.c.score)
                             .where(marks.c.task_id == task_id, marks.c.kind == "mark")).all()
        if any(m[0] == marker for m in given):
            raise MarkingError(f"{marker} has already marked task {task_id}; a second marker is needed")
        _insert_mark(conn, task, marker, "mark", score, note, now)
        if not given:
            return MarkOutcome(task_id, "open", None, False, task["attempt_id"])
        first = given[0][1]
        if abs(first - score) <= task["tolerance"] + 1e-9:
            return _finish(conn, task, (first + score) / 2, now)
        conn.execute(update(marking_tasks).where(marking_tasks.c.task_id == task_id).values(status="adjudication"))
        return MarkOutcome(task_id, "adjudication", None, False, task["attempt_id"])


def adjudicate(db: Engine, task_id: int, adjudicator: str, score: float, note: str = "") -> MarkOutcome:
    """Set the final score of a disputed task; the adjudicator must not be one of its markers."""
    adjudicator = person_key(adjudicator)
    now = format_time(utc_now())
    with _task_in_state(db, task_id, score, "adjudication") as (conn, task):
        markers = {r[0] for r in conn.execute(select(marks.c.marker).where(marks.c.task_id == task_id))}
        if adjudicator in markers:
            raise MarkingError(f"{adjudicator} marked task {task_id} and cannot adjudicate it")
        _insert_mark(conn, task, adjudicator, "adjudication", score, note, now)
        return _finish(conn, task, score, now)


def _finish(conn: Connection, task: dict[str, Any], final: float, now: str) -> MarkOutcome:
    conn.execute(update(marking_tasks).where(marking_tasks.c.task_id == task["task_id"])
                 .values(status="done", final_score=final))
    s = response_scores.c
    conn.execute(update(response_scores).where(s.attempt_id == task["attempt_id"], s.item_id == task["item_id"],
                                               s.response_id == task["response_id"]).values(score=final))
    completed = refresh_attempt_total(conn, task["attempt_id"], now)
    return MarkOutcome(task["task_id"], "done", final, completed, task["attempt_id"])


def refresh_attempt_total(conn: Connection, attempt_id: str, now: str) -> bool:
    """Recompute an attempt's total; when no slot awaits a marker, settle pass/fail. True if scored."""
    s = response_scores.c
    open_slots, total, max_total = conn.execute(
        select(func.sum(case((s.score.is_(None), 1), else_=0)), func.coalesce(func.sum(s.score), 0),
               func.coalesce(func.sum(s.max_score), 0)).where(s.attempt_id == attempt_id)).one()
    cut = conn.execute(select(attempts.c.cut_score).where(attempts.c.attempt_id == attempt_id)).scalar_one()
    this = attempts.c.attempt_id == attempt_id
    if open_slots:
        conn.execute(update(attempts).where(this).values(total=total, max_total=max_total,
                                                         scoring_status="awaiting_marking", passed=None))
        return False
    outcome = None if cut is None else int(passed(total, cut))
    conn.execute(update(attempts).where(this).values(total=total, max_total=max_total, scoring_status="scored",
                                                     passed=outcome, scored_at=now))
    return True


def _add_role(conn: Connection, attempt_id: str, person: str, role: str) -> None:
    insert_ignore(conn, attempt_roles, {"attempt_id": attempt_id, "person": person, "role": role})


def person_key(name: str) -> str:
    """A person's name as recorded and compared: whitespace collapsed, case folded, so that
    ``Alice  Smith`` and ``alice smith`` are one person to the impartiality checks."""
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise ValidationError("by", "must name a person (1-200 characters)")
    return " ".join(name.split()).casefold()
