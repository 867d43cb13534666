"""What the marking pages read: a person's queue, one task with its rubric, and agreement figures.

Marks themselves are recorded by :mod:`item_bank_sync.results.marking` (the CLI's ``marking mark``
and ``marking adjudicate`` call the same two functions), so the rules (two different markers, an
adjudicator who marked neither, scores within range, tolerance) hold on the page as on the CLI.

Why *blind*: a second marker who sees the first mark anchors on it, and agreement figures then
measure nothing. A marker's queue and task page never show another marker's score; only an
adjudicator, who must weigh the two, sees both (with their notes).

The rubric a marker reads is the one kept with the answer key at import (the QTI scorer
``rubricBlock``), of the exact item version on the attempt's form.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, exists, select

from item_bank_sync.bank.schema import versioned_json
from exam_core.errors import InvigilError
from exam_core.model import Item
from item_bank_sync.bank.store import ItemBank
from item_bank_sync.db.sql import read
from item_bank_sync.forms.store import form_instances
from item_bank_sync.results.marking import person_key, task_response
from item_bank_sync.results.schema import attempts, marking_tasks, marks
from item_bank_sync.web.items.drawings import DrawingView, drawing_view

#: Queues shown per page (a marker works task by task; the figures cover every task).
QUEUE_LIMIT = 200


def queue(db: Engine, person: str) -> dict[str, list[dict[str, Any]]]:
    """Open tasks this person has not marked, and disputed tasks they may adjudicate (marked neither)."""
    me = person_key(person)
    t, m = marking_tasks.c, marks.c
    mine = exists().where(and_(m.task_id == t.task_id, m.marker == me))
    columns = (t.task_id, t.item_id, t.response_id, t.max_score, t.created_at)
    with read(db) as conn:
        to_mark = conn.execute(select(*columns).where(t.status == "open", ~mine)
                               .order_by(t.task_id).limit(QUEUE_LIMIT)).mappings().all()
        to_settle = conn.execute(select(*columns).where(t.status == "adjudication", ~mine)
                                 .order_by(t.task_id).limit(QUEUE_LIMIT)).mappings().all()
    return {"mark": [dict(r) for r in to_mark], "adjudicate": [dict(r) for r in to_settle]}


def _attempt_form(results: Engine, attempt_id: str) -> tuple[str, int] | None:
    """(form id, form version) the attempt took, or None for an unknown attempt."""
    with read(results) as conn:
        row = conn.execute(select(attempts.c.form_id, attempts.c.form_version)
                           .where(attempts.c.attempt_id == attempt_id)).first()
    return (row[0], int(row[1])) if row else None


def item_version(results: Engine, bank: Engine, attempt_id: str, item_id: str) -> int | None:
    """The version of ``item_id`` on the form this attempt took."""
    taken = _attempt_form(results, attempt_id)
    form = versioned_json(bank, "forms", *taken) if taken else None
    for ref in (form or {}).get("items", []):
        if ref.get("item_id") == item_id:
            return int(ref["version"])
    return None


@dataclass(frozen=True)
class TaskPage:
    """Everything a marker reads for one task; ``marks`` only for an adjudicator."""

    task: dict[str, Any]
    answer: str
    prompt_html: str
    rubric_html: str
    marks: list[dict[str, Any]]
    may_mark: bool
    may_adjudicate: bool
    refusal: str
    #: A drawing answer laid over the item's picture (instead of its data string), else None.
    drawing: DrawingView | None = None


def _answer_text(response_json: str) -> str:
    value = json.loads(response_json)
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def task_page(results: Engine, bank: ItemBank, task_id: int, person: str) -> TaskPage:
    """The response, the item's question and rubric, and what this person may do with the task."""
    me = person_key(person)
    task = task_response(results, task_id)
    with read(results) as conn:
        given = [dict(r) for r in conn.execute(select(marks.c.marker, marks.c.kind, marks.c.score, marks.c.note,
                                                      marks.c.at).where(marks.c.task_id == task_id)
                                               .order_by(marks.c.at, marks.c.marker)).mappings()]
    markers = {g["marker"] for g in given}
    refusal = ""
    if me in markers:
        refusal = "You have marked this task; it needs another marker or an adjudicator who marked neither."
    elif task["status"] == "done":
        refusal = "This task is settled."
    item, rubric = _question(results, bank, task)
    prompts = [i.prompt_html for i in item.interactions if i.response_id == task["response_id"]] if item else []
    answer = _answer_text(task["response_json"])
    drawing = _drawing(bank, item, task["response_id"], answer) if item and answer else None
    return TaskPage(task=task, answer="" if drawing else answer,
                    prompt_html=(item.body_html + "".join(prompts)) if item else "", rubric_html=rubric,
                    marks=given if task["status"] == "adjudication" and me not in markers else [],
                    may_mark=task["status"] == "open" and me not in markers,
                    may_adjudicate=task["status"] == "adjudication" and me not in markers, refusal=refusal,
                    drawing=drawing)


def _question(results: Engine, bank: ItemBank, task: dict[str, Any]) -> tuple[Item | None, str]:
    """The item version on the attempt's form and its scorer rubric (sanitised at import); None, ""
    when unknown."""
    version = item_version(results, bank.db, task["attempt_id"], task["item_id"])
    if version is None:
        return None, ""
    try:
        item, key = bank.item(task["item_id"], version), bank.answer_key(task["item_id"], version)
    except InvigilError:  # no such version, or a stored document that no longer reads: show no text
        return None, ""
    taken = _attempt_form(results, task["attempt_id"]) if key.family else None
    drawn = form_instances(bank.db, *taken).get(task["item_id"]) if taken else None
    if drawn:  # an item family: the instance this form's candidates answered, with its rubric
        item, key = drawn[0], drawn[1]
    return item, key.rubric_html


def _drawing(bank: ItemBank, item: Item, response_id: str, answer: str) -> DrawingView | None:
    """The answer of a drawing interaction over the item's picture; None for any other interaction."""
    found = [i for i in item.interactions if i.response_id == response_id and i.type == "drawing"]
    if not found:
        return None
    picture = None
    if found[0].image is not None:
        try:
            picture = bank.media.get(found[0].image.sha256)
        except (OSError, ValueError):  # missing or changed on disk: the lines alone
            picture = None
    return drawing_view(found[0], answer, picture)


def agreement(db: Engine) -> dict[str, Any]:
    """Marker agreement over every task with two marks: exact, adjacent (within one score point),
    within the task's tolerance, adjudication rate, mean absolute difference; and per marker."""
    t, m = marking_tasks.c, marks.c
    with read(db) as conn:
        rows = conn.execute(select(t.task_id, t.tolerance, m.marker, m.score).join_from(
            marking_tasks, marks, m.task_id == t.task_id).where(m.kind == "mark")
            .order_by(t.task_id, m.at, m.marker)).all()
    pairs: dict[int, list[tuple[str, float]]] = {}
    tolerance: dict[int, float] = {}
    for task_id, tol, marker, score in rows:
        pairs.setdefault(task_id, []).append((marker, score))
        tolerance[task_id] = tol
    two = {k: v[:2] for k, v in pairs.items() if len(v) >= 2}
    diffs = {k: abs(v[0][1] - v[1][1]) for k, v in two.items()}
    n = len(diffs)

    def share(count: int) -> float | None:
        return None if n == 0 else count / n
    per_marker: dict[str, dict[str, Any]] = {}
    for task_id, given in pairs.items():
        for marker, score in given:
            row = per_marker.setdefault(marker, {"marker": marker, "marks": 0, "total": 0.0, "paired": 0, "exact": 0})
            row["marks"] += 1
            row["total"] += score
            if task_id in diffs:
                row["paired"] += 1
                row["exact"] += diffs[task_id] < 1e-9
    markers = [{"marker": r["marker"], "marks": r["marks"], "mean_score": r["total"] / r["marks"],
                "paired": r["paired"], "exact": None if not r["paired"] else r["exact"] / r["paired"]}
               for r in sorted(per_marker.values(), key=lambda r: r["marker"])]
    return {"double_marked": n, "exact": share(sum(d < 1e-9 for d in diffs.values())),
            "adjacent": share(sum(d <= 1 + 1e-9 for d in diffs.values())),
            "within_tolerance": share(sum(d <= tolerance[k] + 1e-9 for k, d in diffs.items())),
            "adjudicated": share(sum(d > tolerance[k] + 1e-9 for k, d in diffs.items())),
            "mean_abs_difference": None if n == 0 else sum(diffs.values()) / n, "markers": markers}
