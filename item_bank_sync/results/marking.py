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
from typing import Any, Iterator

import sqlite_utils

from exam_core.errors import InvigilError, ValidationError
from exam_core.timestamps import format_time, utc_now
from exam_core.store import immediate_transaction
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


def create_tasks(conn: Any, attempt_id: str, pending: list[tuple[str, str, float]], now: str,
                 form_id: str | None = None) -> None:
    """Queue ``(item_id, response_id, max_score)`` slots of one attempt (inside the caller's transaction)."""
    share = tolerance_share(conn, form_id) if pending else DEFAULT_TOLERANCE_SHARE
    for item_id, response_id, max_score in pending:
        conn.execute(
            "INSERT OR IGNORE INTO marking_tasks (attempt_id, item_id, response_id, max_score, tolerance, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (attempt_id, item_id, response_id, max_score, share * max_score, now))


def tolerance_share(conn: Any, form_id: str | None) -> float:
    """The tolerance share in force for a form: its own setting, else the global one, else 10 %."""
    row = conn.execute("SELECT share FROM marking_tolerance WHERE form_id IN (?, '') "
                       "ORDER BY form_id = '' LIMIT 1", (form_id or "",)).fetchone()
    return DEFAULT_TOLERANCE_SHARE if row is None else float(row[0])


def set_tolerance(db: sqlite_utils.Database, percent: float, by: str, form_id: str | None = None) -> dict[str, Any]:
    """Set the tolerance (percent of a task's maximum) globally or for one form; re-apply it to
    the open tasks it governs. Returns the setting and how many open tasks changed."""
    if not 0 <= percent <= 100:
        raise ValidationError("percent", "must be between 0 and 100")
    if not by.strip():
        raise ValidationError("by", "name the person changing the marking rule")
    share, scope, now = percent / 100, form_id or "", format_time(utc_now())
    # open tasks governed by this setting: of this form, or (global) of forms without their own
    governed = ("attempt_id IN (SELECT attempt_id FROM attempts WHERE form_id = ?)", (scope,)) if scope else (
        "attempt_id IN (SELECT attempt_id FROM attempts WHERE form_id NOT IN "
        "(SELECT form_id FROM marking_tolerance WHERE form_id != ''))", ())
    with immediate_transaction(db) as conn:
        conn.execute("INSERT OR REPLACE INTO marking_tolerance (form_id, share, set_by, set_at) VALUES (?, ?, ?, ?)",
                     (scope, share, by.strip(), now))
        changed = conn.execute(f"UPDATE marking_tasks SET tolerance = ? * max_score WHERE status = 'open' "
                               f"AND {governed[0]}", (share, *governed[1])).rowcount
    return {"form_id": form_id, "percent": percent, "set_by": by.strip(), "set_at": now, "open_tasks_updated": changed}


def list_tolerances(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every tolerance setting (``form_id`` None = global), with the default when none is global."""
    rows = [{"form_id": r["form_id"] or None, "percent": r["share"] * 100, "set_by": r["set_by"], "set_at": r["set_at"]}
            for r in db.query("SELECT * FROM marking_tolerance ORDER BY form_id")]
    if not any(r["form_id"] is None for r in rows):
        rows.insert(0, {"form_id": None, "percent": DEFAULT_TOLERANCE_SHARE * 100, "set_by": "(default)",
                        "set_at": None})
    return rows


def list_tasks(db: sqlite_utils.Database, status: str | None = None) -> list[dict[str, Any]]:
    """Tasks with their marks (scores only; the response text is shown by ``show_task``)."""
    where, params = ("WHERE status = ?", [status]) if status else ("", [])
    rows = list(db.query(f"SELECT * FROM marking_tasks {where} ORDER BY task_id", params))
    for row in rows:
        row["marks"] = list(db.query("SELECT marker, kind, score, at FROM marks WHERE task_id = ? ORDER BY at",
                                     [row["task_id"]]))
    return rows


def task_response(db: sqlite_utils.Database, task_id: int) -> dict[str, Any]:
    """The task and the candidate's final answer for it (what a marker reads)."""
    task = _task(db.conn, task_id)
    row = db.conn.execute(
        "SELECT value_json FROM responses WHERE attempt_id = ? AND item_id = ? AND response_id = ? "
        "ORDER BY seq DESC LIMIT 1", (task["attempt_id"], task["item_id"], task["response_id"])).fetchone()
    task["response_json"] = row[0] if row else "null"
    return task


def _task(conn: Any, task_id: int) -> dict[str, Any]:
    cur = conn.execute("SELECT * FROM marking_tasks WHERE task_id = ?", (task_id,))
    row = cur.fetchone()
    if row is None:
        raise MarkingError(f"marking task {task_id} does not exist")
    return dict(zip([c[0] for c in cur.description], row))


def _check_score(score: float, task: dict[str, Any]) -> None:
    if not 0 <= score <= task["max_score"]:
        raise ValidationError("score", f"must be between 0 and {task['max_score']} for task {task['task_id']}")


@contextlib.contextmanager
def _task_in_state(db: sqlite_utils.Database, task_id: int, score: float, state: str) -> Iterator[tuple[Any, dict]]:
    """One write transaction on a task that must be in ``state`` and take ``score``."""
    with immediate_transaction(db) as conn:
        task = _task(conn, task_id)
        _check_score(score, task)
        if task["status"] != state:
            raise MarkingError(f"task {task_id} is {task['status']}, not {state}: it takes no such mark")
        yield conn, task


def _insert_mark(conn: Any, task: dict[str, Any], person: str, kind: str, score: float, note: str, now: str) -> None:
    conn.execute("INSERT INTO marks (task_id, marker, kind, score, note, at) VALUES (?, ?, ?, ?, ?, ?)",
                 (task["task_id"], person, kind, score, note, now))
    _add_role(conn, task["attempt_id"], person, "marker" if kind == "mark" else "adjudicator")


def record_mark(db: sqlite_utils.Database, task_id: int, marker: str, score: float, note: str = "") -> MarkOutcome:
    """Record one marker's mark; the second distinct mark settles or escalates the task."""
    marker = person_key(marker)
    now = format_time(utc_now())
    with _task_in_state(db, task_id, score, "open") as (conn, task):
        marks = conn.execute("SELECT marker, score FROM marks WHERE task_id = ? AND kind = 'mark'",
                             (task_id,)).fetchall()
        if any(m[0] == marker for m in marks):
            raise MarkingError(f"{marker} has already marked task {task_id}; a second marker is needed")
        _insert_mark(conn, task, marker, "mark", score, note, now)
        if not marks:
            return MarkOutcome(task_id, "open", None, False)
        first = marks[0][1]
        if abs(first - score) <= task["tolerance"] + 1e-9:
            return _finish(conn, task, (first + score) / 2, now)
        conn.execute("UPDATE marking_tasks SET status = 'adjudication' WHERE task_id = ?", (task_id,))
        return MarkOutcome(task_id, "adjudication", None, False)


def adjudicate(db: sqlite_utils.Database, task_id: int, adjudicator: str, score: float, note: str = "") -> MarkOutcome:
    """Set the final score of a disputed task; the adjudicator must not be one of its markers."""
    adjudicator = person_key(adjudicator)
    now = format_time(utc_now())
    with _task_in_state(db, task_id, score, "adjudication") as (conn, task):
        markers = {r[0] for r in conn.execute("SELECT marker FROM marks WHERE task_id = ?", (task_id,))}
        if adjudicator in markers:
            raise MarkingError(f"{adjudicator} marked task {task_id} and cannot adjudicate it")
        _insert_mark(conn, task, adjudicator, "adjudication", score, note, now)
        return _finish(conn, task, score, now)


def _finish(conn: Any, task: dict[str, Any], final: float, now: str) -> MarkOutcome:
    conn.execute("UPDATE marking_tasks SET status = 'done', final_score = ? WHERE task_id = ?",
                 (final, task["task_id"]))
    conn.execute("UPDATE response_scores SET score = ? WHERE attempt_id = ? AND item_id = ? AND response_id = ?",
                 (final, task["attempt_id"], task["item_id"], task["response_id"]))
    completed = refresh_attempt_total(conn, task["attempt_id"], now)
    return MarkOutcome(task["task_id"], "done", final, completed)


def refresh_attempt_total(conn: Any, attempt_id: str, now: str) -> bool:
    """Recompute an attempt's total; when no slot awaits a marker, settle pass/fail. True if scored."""
    open_slots, total, max_total = conn.execute(
        "SELECT SUM(score IS NULL), COALESCE(SUM(score), 0), COALESCE(SUM(max_score), 0) "
        "FROM response_scores WHERE attempt_id = ?", (attempt_id,)).fetchone()
    cut = conn.execute("SELECT cut_score FROM attempts WHERE attempt_id = ?", (attempt_id,)).fetchone()[0]
    if open_slots:
        conn.execute("UPDATE attempts SET total = ?, max_total = ?, scoring_status = 'awaiting_marking', "
                     "passed = NULL WHERE attempt_id = ?", (total, max_total, attempt_id))
        return False
    outcome = None if cut is None else int(passed(total, cut))
    conn.execute("UPDATE attempts SET total = ?, max_total = ?, scoring_status = 'scored', passed = ?, "
                 "scored_at = ? WHERE attempt_id = ?", (total, max_total, outcome, now, attempt_id))
    return True


def _add_role(conn: Any, attempt_id: str, person: str, role: str) -> None:
    conn.execute("INSERT OR IGNORE INTO attempt_roles (attempt_id, person, role) VALUES (?, ?, ?)",
                 (attempt_id, person, role))


def person_key(name: str) -> str:
    """A person's name as recorded and compared: whitespace collapsed, case folded, so that
    ``Alice  Smith`` and ``alice smith`` are one person to the impartiality checks."""
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise ValidationError("by", "must name a person (1-200 characters)")
    return " ".join(name.split()).casefold()
