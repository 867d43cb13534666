"""The corrective-action register on the web (ISO/IEC 17024 10.2): the ``corrective`` commands.

An action is opened from its source (incident, appeal, complaint, audit finding, item-analysis flag)
with a reference, then carries its root cause, the action taken and the effectiveness check, and is
closed by an administrator only once all three are recorded (the service refuses otherwise, and
the page shows its words). Each step calls the CLI's function with the signed-in person as
``--by``: the same audit entries (ids and field names only, never the texts).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from exam_core.errors import InvigilError, ValidationError
from item_bank_sync.cases import corrective
from item_bank_sync.cases.schema import SOURCES, corrective_actions
from item_bank_sync.web.access import (ADMIN, DECISION_MAKER, PSYCHOMETRICIAN, REGISTRAR, may_do, require_role,
                                       state)
from item_bank_sync.web.formfields import actor, paged, refused, shown_time, text_field
from item_bank_sync.web.tables import Col, TableSpec

bp = Blueprint("staff_corrective", __name__, url_prefix="/corrective")
VIEW = (ADMIN, REGISTRAR, DECISION_MAKER, PSYCHOMETRICIAN)
FIELDS = ("root_cause", "action", "effectiveness_check")
MAX_TEXT = corrective.MAX_TEXT

_A = corrective_actions.c
SPEC = TableSpec("corrective", (
    Col("id", "Action", _A.id, link=lambda r: url_for("staff_corrective.action_page", action_id=r.id)),
    Col("source", "Source", _A.source, filter="exact", choices=SOURCES, show=lambda v: str(v).replace("_", " ")),
    Col("source_ref", "Reference", _A.source_ref, filter="text"),
    Col("description", "What", _A.description, sortable=False),
    Col("status", "Status", _A.status, filter="exact", choices=("open", "closed")),
    Col("opened_at", "Opened", _A.opened_at, show=shown_time),
    Col("closed_by", "Closed by", _A.closed_by),
), key=(_A.id,), default_sort="id", default_descending=True)


def _action(action_id: int) -> dict[str, Any]:
    try:
        return corrective.get(state().ctx, action_id)
    except corrective.CorrectiveRefused:
        abort(404)


def _back(action_id: int) -> str:
    return url_for("staff_corrective.action_page", action_id=action_id)


def _open_form(errors: dict[str, str], status: int) -> ResponseReturnValue:
    page = paged(state().ctx.open_bank_db(), SPEC, "staff_corrective.actions_page")
    return render_template("staff/corrective/actions.html", page=page, sources=SOURCES, errors=errors,
                           form=request.form, may_open=may_do("corrective.open")), status


@bp.get("/")
@require_role(*VIEW)
def actions_page() -> ResponseReturnValue:
    """``corrective list [--status]``: the register, paged, newest first; the form to open one."""
    return _open_form({}, 200)


@bp.post("/")
@require_role(*VIEW)
def open_action() -> ResponseReturnValue:
    """``corrective open --source --ref --description [--root-cause] [--action] --by ME``."""
    source = request.form.get("source", "")
    if source not in SOURCES:
        return _open_form({"source": f"choose one of {', '.join(SOURCES)}"}, 422)
    try:
        action_id = corrective.open_action(
            state().ctx, actor(), source, text_field("description", MAX_TEXT, required=False),
            source_ref=text_field("source_ref", 200, required=False),
            root_cause=text_field("root_cause", MAX_TEXT, required=False),
            action=text_field("action", MAX_TEXT, required=False))
    except ValidationError as exc:
        return _open_form({exc.field: exc.reason}, 422)
    flash(f"Corrective action {action_id} opened.", "ok")
    return redirect(_back(action_id), code=303)


@bp.get("/<int:action_id>")
@require_role(*VIEW)
def action_page(action_id: int) -> ResponseReturnValue:
    """One action with what is recorded and the forms for what is missing."""
    return render_template("staff/corrective/action.html", a=_action(action_id), fields=FIELDS,
                           may_update=may_do("corrective.update"), may_close=may_do("corrective.close"))


@bp.post("/<int:action_id>")
@require_role(*VIEW)
def update(action_id: int) -> ResponseReturnValue:
    """``corrective update ID [--root-cause] [--action] [--effectiveness-check] --by ME`` (fields left
    empty are not changed)."""
    _action(action_id)
    given = {f: text_field(f, MAX_TEXT, required=False) for f in FIELDS}
    try:
        corrective.update_action(state().ctx, actor(), action_id, **{k: v for k, v in given.items() if v})
    except InvigilError as exc:
        return refused("Not recorded", str(exc), back=_back(action_id))
    flash(f"Corrective action {action_id} updated.", "ok")
    return redirect(_back(action_id), code=303)


@bp.post("/<int:action_id>/close")
@require_role(ADMIN)
def close(action_id: int) -> ResponseReturnValue:
    """``corrective close ID --by ME`` (refused until root cause, action and effectiveness check are in)."""
    _action(action_id)
    try:
        corrective.close_action(state().ctx, actor(), action_id)
    except InvigilError as exc:
        return refused("Not closed", str(exc), back=_back(action_id))
    flash(f"Corrective action {action_id} closed.", "ok")
    return redirect(_back(action_id), code=303)
