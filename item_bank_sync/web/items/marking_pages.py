"""Marking pages: a marker's blind queue, one response with the rubric beside it, adjudication of
disagreements, and marker agreement figures.

A mark is recorded by :func:`~item_bank_sync.results.audited.mark_audited` and an adjudication by
:func:`~item_bank_sync.results.audited.adjudicate_audited`, the functions ``marking mark`` and
``marking adjudicate --by NAME`` call, with the signed-in person as the marker: the same rows, the
same impartiality record in ``attempt_roles`` and the same audit entry whichever face was used.
"""

from __future__ import annotations

import math

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from exam_core.errors import InvigilError
from exam_core.presentation import clean
from item_bank_sync.web.access import MARKER, PSYCHOMETRICIAN, current_staff, may_do, require_role, state
from item_bank_sync.web.formfields import actor, refused, text_field
from item_bank_sync.web.items.markwork import agreement, queue, task_page
from item_bank_sync.registry.actors import staff
from item_bank_sync.registry.errors import ConflictOfInterest
from item_bank_sync.results.audited import adjudicate_audited, mark_audited
from item_bank_sync.sittings.impartiality import check_marking_task

bp = Blueprint("staff_marking", __name__, url_prefix="/marking")
MAX_NOTE = 1000


def _score() -> float:
    """The score field: a finite number (the service checks its range against the task)."""
    text = request.form.get("score", "").strip()
    try:
        value = float(text[:32])
    except ValueError:
        abort(400)
    if not math.isfinite(value):
        abort(400)
    return value


def _me() -> str:
    """The signed-in person's name (the view's guard ran; this fails closed all the same)."""
    member = current_staff()
    if member is None:
        abort(403)
    return member.name


@bp.get("/")
@require_role(MARKER, PSYCHOMETRICIAN)
def tasks() -> ResponseReturnValue:
    """Responses waiting for this person: to mark (blind) and to adjudicate (marked by two others)."""
    return render_template("staff/marking/queue.html", queue=queue(state().ctx.open_results_db(), _me()),
                           may_mark=may_do("marking.mark"))


@bp.get("/tasks/<int:task_id>")
@require_role(MARKER)
def task(task_id: int) -> ResponseReturnValue:
    """The candidate's response with the item's question and rubric beside it; no other mark shown."""
    ctx = state().ctx
    try:
        page = task_page(ctx.open_results_db(), ctx.item_bank(), task_id, _me())
    except InvigilError:
        abort(404)
    return render_template("staff/marking/task.html", page=page, may_mark=may_do("marking.mark"),
                           prompt=Markup(clean(page.prompt_html)),  # noqa: S704 - sanitised: model tags only
                           rubric=Markup(clean(page.rubric_html)))  # noqa: S704


@bp.post("/tasks/<int:task_id>/<kind>")
@require_role(MARKER)
def give(task_id: int, kind: str) -> ResponseReturnValue:
    """``marking mark|adjudicate TASK --score S --note N --by <signed-in person>``."""
    if kind not in ("mark", "adjudicate"):
        abort(404)
    verdict = may_do(f"marking.{kind}")
    if not verdict:
        return refused("Not allowed", verdict.reason, 403)
    score, note = _score(), text_field("note", MAX_NOTE, required=False)
    action = mark_audited if kind == "mark" else adjudicate_audited
    try:
        # the CLI's check (ISO/IEC 17024 4.3): a declared relationship with the candidate refuses here too
        check_marking_task(state().ctx, staff(_me(), MARKER), task_id, f"{kind} this candidate's answers")
        outcome = action(state().ctx, task_id, actor(), score, note)
    except ConflictOfInterest as exc:
        return refused("Conflict of interest", str(exc), 403)
    except InvigilError as exc:
        return refused("Mark refused", str(exc))
    final = f", final score {outcome.final_score:g}" if outcome.final_score is not None else ""
    flash(f"Task {task_id}: your {'mark' if kind == 'mark' else 'adjudication'} is recorded "
          f"(task {outcome.status}{final}).", "ok")
    return redirect(url_for("staff_marking.tasks"))


@bp.get("/agreement")
@require_role(MARKER, PSYCHOMETRICIAN)
def figures() -> ResponseReturnValue:
    """How often two markers agree: exact, adjacent, within tolerance; adjudication rate; per marker."""
    return render_template("staff/marking/agreement.html", fig=agreement(state().ctx.open_results_db()))
