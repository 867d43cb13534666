"""Staff pages of appeals (ISO/IEC 17024 9.8) and complaints (9.9): the ``cases`` commands on the web.

Every action calls the function its CLI command calls, with the signed-in person as ``--by``, so the
same checks run and the same audit entries are written: an involved handler or re-marker is refused
by :func:`item_bank_sync.cases.handling.check_handler` / ``involvement`` (the page asks the same
question first and shows the reason next to the field), a late appeal needs a recorded reason, a
changed outcome on a flagged attempt needs the handler's stated review. A re-score is always shown
before it is recorded: ``compute`` replays the attempt (nothing written) and the page puts the stored
and replayed scores side by side with their IEEE-754 bytes, so "identical" can be seen, not trusted.

The person's own words (``summary``) are personal data: shown to the staff who handle cases
(registrar, admin, decision maker, and the auditor read-only), never to a re-marker, whose page
names only the attempt and the item.
"""

from __future__ import annotations

import struct
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from sqlalchemy import select

from exam_core.errors import InvigilError, ValidationError
from exam_core.presentation import clean
from item_bank_sync.cases import handling, remark_requests
from item_bank_sync.cases.keys import corrections_of
from item_bank_sync.cases.remark import apply_remark
from item_bank_sync.cases.rescore import compute, rescore
from item_bank_sync.cases.schema import cases
from item_bank_sync.registry.errors import ConflictOfInterest
from item_bank_sync.release.schema import remarks
from item_bank_sync.results.decisions import integrity_flag_count
from item_bank_sync.results.marking import person_key
from item_bank_sync.results.schema import marking_tasks
from item_bank_sync.web.access import ADMIN, DECISION_MAKER, MARKER, REGISTRAR, may_do, require_role, state
from item_bank_sync.web.formfields import ID_RE, actor, int_field, paged, refused, shown_time, text_field
from item_bank_sync.web.items.markwork import task_page
from item_bank_sync.web.tables import Col, TableSpec

bp = Blueprint("staff_cases", __name__, url_prefix="/cases")
VIEW = (REGISTRAR, ADMIN, DECISION_MAKER)
HANDLER_ROLES = frozenset((DECISION_MAKER, ADMIN, REGISTRAR))
KINDS = ("appeal", "complaint")
STATUSES = ("lodged", "acknowledged", "assigned", "decided", "closed")
MAX_KEY_REFS = 10

_C = cases.c
SPEC = TableSpec("cases", (
    Col("case_id", "Case", _C.case_id, filter="text",
        link=lambda r: url_for("staff_cases.case_page", case_id=r.case_id)),
    Col("kind", "Kind", _C.kind, filter="exact", choices=KINDS),
    Col("category", "About", _C.category, show=lambda v: str(v).replace("_", " ")),
    Col("status", "Status", _C.status, filter="exact", choices=STATUSES),
    Col("attempt_id", "Attempt", _C.attempt_id, filter="text"),
    Col("lodged_at", "Lodged", _C.lodged_at, show=shown_time),
    Col("respond_by", "Respond by", _C.respond_by, show=lambda v: shown_time(v) if v else ""),
    Col("handler", "Handler", _C.handler, filter="text"),
), key=(_C.case_id,), default_sort="lodged_at", default_descending=True)


def _case(case_id: str) -> dict[str, Any]:
    """The case, or 404 (a malformed id never reaches the database)."""
    if not ID_RE.match(case_id):
        abort(404)
    try:
        return handling.get(state().ctx, case_id)
    except handling.CaseRefused:
        abort(404)


def _back(case_id: str) -> str:
    return url_for("staff_cases.case_page", case_id=case_id)


def _staff_with(roles: frozenset[str]) -> list[str]:
    """Enabled staff holding one of ``roles``, by name (the choices of a select)."""
    return sorted(m.name for m in state().book.all() if m.enabled and m.roles & roles)


def _human_items(attempt_id: str | None) -> list[str]:
    """The attempt's items marked by people (what a re-mark can be of)."""
    if not attempt_id:
        return []
    t = marking_tasks.c
    with state().ctx.open_results_db().connect() as conn:
        return [r[0] for r in conn.execute(select(t.item_id).where(t.attempt_id == attempt_id).order_by(t.item_id))]


def _remarks(attempt_id: str | None) -> list[dict[str, Any]]:
    if not attempt_id:
        return []
    r, t = remarks.c, marking_tasks.c
    with state().ctx.open_results_db().connect() as conn:
        rows = conn.execute(select(r.id, r.marker, r.score_before, r.score, r.applied, r.at, t.item_id)
                            .join_from(remarks, marking_tasks, t.task_id == r.task_id)
                            .where(r.attempt_id == attempt_id).order_by(r.id)).mappings()
        return [dict(x) for x in rows]


def _page(case: dict[str, Any], errors: dict[str, str] | None = None, status: int = 200,
          **extra: Any) -> ResponseReturnValue:
    """The case page: details, timeline, messages and the actions its status allows."""
    attempt_id = case.get("attempt_id")
    flags = integrity_flag_count(state().ctx.open_results_db(), attempt_id) if attempt_id else 0
    verdicts = {a: may_do(f"cases.{a}") for a in ("acknowledge", "assign", "progress", "decide", "close",
                                                  "open-corrective", "rescore", "apply-remark",
                                                  "remark-ask", "remark-withdraw")}
    return render_template("staff/cases/case.html", case=case, errors=errors or {}, form=request.form,
                           may=verdicts, me=person_key(actor()), handlers=_staff_with(HANDLER_ROLES),
                           markers=_staff_with(frozenset((MARKER,))), items=_human_items(attempt_id),
                           remarks=_remarks(attempt_id), flags=flags,
                           requests=remark_requests.of_case(state().ctx, case["case_id"]), outcomes=handling.OUTCOMES,
                           **extra), status


def _refusal(title: str, exc: InvigilError, case_id: str) -> ResponseReturnValue:
    return refused(title, str(exc), back=_back(case_id))


@bp.get("/")
@require_role(*VIEW)
def cases_page() -> ResponseReturnValue:
    """``cases list [--kind] [--status]``: paged, newest first, without the person's words."""
    page = paged(state().ctx.open_bank_db(), SPEC, "staff_cases.cases_page")
    return render_template("staff/cases/cases.html", page=page, may_lodge=may_do("cases.lodge"))


@bp.get("/new")
@require_role(*VIEW)
def lodge_page() -> ResponseReturnValue:
    """The form to lodge an appeal or a complaint on a person's behalf."""
    return _lodge_form({}, 200)


def _lodge_form(errors: dict[str, str], status: int) -> ResponseReturnValue:
    return render_template("staff/cases/lodge.html", errors=errors, form=request.form,
                           appeal=handling.APPEAL_CATEGORIES, complaint=handling.COMPLAINT_CATEGORIES,
                           may_lodge=may_do("cases.lodge")), status


def _optional(name: str) -> str | None:
    value = request.form.get(name, "").strip()
    if not value:
        return None
    if not ID_RE.match(value):
        abort(400)
    return value


@bp.post("/new")
@require_role(REGISTRAR, ADMIN)
def lodge() -> ResponseReturnValue:
    """``cases lodge --kind --category --person --summary-file [--attempt|--certificate|--centre]
    [--accept-late REASON] --by ME``; a refusal is shown next to the field it concerns."""
    kind, category = request.form.get("kind", ""), request.form.get("category", "")
    if kind not in KINDS:
        abort(400)
    late = text_field("late_reason", 2000, required=False) or None
    try:
        case_id = handling.lodge(state().ctx, actor(), kind, category, text_field("person", 200),
                                 text_field("summary", handling.MAX_TEXT), attempt_id=_optional("attempt_id"),
                                 certificate_id=_optional("certificate_id"), centre_id=_optional("centre_id"),
                                 via="staff", late_reason=late)
    except ValidationError as exc:
        return _lodge_form({exc.field: exc.reason}, 422)
    except InvigilError as exc:
        field = "late_reason" if "deadline" in str(exc) else "attempt_id"
        return _lodge_form({field: str(exc)}, 422)
    flash(f"Case {case_id} lodged.", "ok")
    return redirect(_back(case_id), code=303)


@bp.get("/<case_id>")
@require_role(*VIEW)
def case_page(case_id: str) -> ResponseReturnValue:
    """One case: what it is about, the person's words, its timeline, the messages, the actions."""
    return _page(_case(case_id))


@bp.post("/<case_id>/acknowledge")
@require_role(REGISTRAR, ADMIN)
def acknowledge(case_id: str) -> ResponseReturnValue:
    """``cases acknowledge CASE --days N --by ME`` (the person is told the deadline)."""
    case = _case(case_id)
    try:
        handling.acknowledge(state().ctx, actor(), case["case_id"], int_field("days", 1, 365))
    except InvigilError as exc:
        return _refusal("Acknowledgement refused", exc, case_id)
    flash(f"Case {case_id} acknowledged; the person is told when to expect the decision.", "ok")
    return redirect(_back(case_id), code=303)


@bp.post("/<case_id>/assign")
@require_role(ADMIN, DECISION_MAKER)
def assign(case_id: str) -> ResponseReturnValue:
    """``cases assign CASE --handler NAME --by ME``; an involved handler is refused, the reason
    shown next to the handler field."""
    case = _case(case_id)
    handler = text_field("handler", 200)
    if handler not in _staff_with(HANDLER_ROLES):
        return _page(case, {"handler": f"{handler} is not a member of staff who may handle cases"}, 422)
    try:
        handling.assign(state().ctx, actor(), case["case_id"], handler)
    except InvigilError as exc:
        return _page(case, {"handler": str(exc)}, 422)
    flash(f"Case {case_id} assigned to {handler}.", "ok")
    return redirect(_back(case_id), code=303)


@bp.post("/<case_id>/progress")
@require_role(*VIEW)
def progress(case_id: str) -> ResponseReturnValue:
    """``cases progress CASE --note --by ME`` (the handler only)."""
    case = _case(case_id)
    try:
        handling.progress(state().ctx, actor(), case["case_id"], text_field("note", handling.MAX_TEXT))
    except InvigilError as exc:
        return _refusal("Progress note refused", exc, case_id)
    flash("Progress noted.", "ok")
    return redirect(_back(case_id), code=303)


@bp.post("/<case_id>/decide")
@require_role(*VIEW)
def decide(case_id: str) -> ResponseReturnValue:
    """``cases decide CASE --outcome --text --by ME`` (the handler only; the text is told to the person)."""
    case = _case(case_id)
    outcome = request.form.get("outcome", "")
    if outcome not in handling.OUTCOMES:
        abort(400)
    try:
        handling.decide(state().ctx, actor(), case["case_id"], outcome, text_field("text", handling.MAX_TEXT))
    except InvigilError as exc:
        return _refusal("Decision refused", exc, case_id)
    flash(f"Case {case_id}: {outcome.replace('_', ' ')}; the person is told.", "ok")
    return redirect(_back(case_id), code=303)


@bp.post("/<case_id>/close")
@require_role(ADMIN, DECISION_MAKER)
def close(case_id: str) -> ResponseReturnValue:
    """``cases close CASE --by ME``."""
    case = _case(case_id)
    try:
        handling.close(state().ctx, actor(), case["case_id"])
    except InvigilError as exc:
        return _refusal("Closing refused", exc, case_id)
    flash(f"Case {case_id} closed.", "ok")
    return redirect(_back(case_id), code=303)


@bp.post("/<case_id>/corrective")
@require_role(*VIEW)
def open_corrective(case_id: str) -> ResponseReturnValue:
    """``cases open-corrective CASE --description --by ME``."""
    case = _case(case_id)
    try:
        action_id = handling.open_corrective(state().ctx, actor(), case["case_id"],
                                             text_field("description", 5000))
    except InvigilError as exc:
        return _refusal("Corrective action refused", exc, case_id)
    flash(f"Corrective action {action_id} opened.", "ok")
    return redirect(url_for("staff_corrective.action_page", action_id=action_id), code=303)


# --- re-score -------------------------------------------------------------------------------------

def _key_refs(source: Any) -> list[str]:
    refs = [r.strip() for r in source.get("key_from", "").split(",") if r.strip()]
    if len(refs) > MAX_KEY_REFS:
        abort(400)
    return refs


def _bits(value: float | None) -> str:
    """A score's IEEE-754 double as hex, most significant byte first (what "identical" compares)."""
    return "" if value is None else struct.pack(">d", float(value)).hex()


def _float(value: float | None) -> float | None:
    """A score as the double it is compared as (a replay may give an int: shown 2.0, never 2)."""
    return None if value is None else float(value)


@bp.get("/<case_id>/rescore")
@require_role(*VIEW)
def rescore_preview(case_id: str) -> ResponseReturnValue:
    """``compute``: the replay (with optional corrected keys) beside the stored scores; nothing written."""
    case = _case(case_id)
    if not case.get("attempt_id"):
        abort(404)
    refs = _key_refs(request.args)
    try:
        result, after, stored = compute(state().ctx, case["attempt_id"], corrections_of(state().ctx, refs))
    except ValidationError as exc:
        return _page(case, {"key_from": exc.reason}, 422)
    except InvigilError as exc:
        return _refusal("Re-score refused", exc, case_id)
    slots = [{"slot": f"{i}.{r}", "stored": _float(stored.get((i, r))), "stored_bits": _bits(stored.get((i, r))),
              "score": _float(after.get((i, r))), "bits": _bits(after.get((i, r))),
              "changed": f"{i}.{r}" in result.changed_slots}
             for (i, r) in sorted(set(after) | set(stored))]
    return _page(case, preview=result, slots=slots, key_from=",".join(refs),
                 bits={"before": _bits(result.before_total), "after": _bits(result.after_total)})


@bp.post("/<case_id>/rescore")
@require_role(DECISION_MAKER)
def rescore_record(case_id: str) -> ResponseReturnValue:
    """``cases rescore ATTEMPT [--key-from ..] [--apply] [--flags-reviewed] --case CASE --reason --by ME``."""
    case = _case(case_id)
    if not case.get("attempt_id"):
        abort(404)
    ctx, by = state().ctx, actor()
    try:
        handling.check_acting_handler(ctx, case["case_id"], by)
        done = rescore(ctx, case["attempt_id"], by, text_field("reason", 2000),
                       corrections=corrections_of(ctx, _key_refs(request.form)),
                       apply=request.form.get("apply") == "yes",
                       flags_reviewed=request.form.get("flags_reviewed") == "yes")
    except InvigilError as exc:
        return _refusal("Re-score refused", exc, case_id)
    handling.note_event(ctx, by, case["case_id"], "rescore",
                        f"{done.kind}: identical={done.identical} applied={done.applied} decision={done.decision}")
    flash(f"Re-score recorded: {'identical' if done.identical else 'changed'}"
          f"{', applied' if done.applied else ''}{f', new decision {done.decision}' if done.decision else ''}.", "ok")
    return redirect(_back(case_id), code=303)


# --- re-mark --------------------------------------------------------------------------------------

@bp.post("/<case_id>/remark/ask")
@require_role(*VIEW)
def ask_remark(case_id: str) -> ResponseReturnValue:
    """``cases remark-ask CASE --item --marker --by ME`` (the handler only); an involved marker is
    refused with the service's reason next to the marker field."""
    case = _case(case_id)
    marker, item_id = text_field("marker", 200), text_field("item_id", 128)
    if marker not in _staff_with(frozenset((MARKER,))) or item_id not in _human_items(case.get("attempt_id")):
        abort(400)
    try:
        remark_requests.ask(state().ctx, actor(), case["case_id"], item_id, marker)
    except ConflictOfInterest as exc:      # the marker declared a relationship with the candidate
        return _page(case, {"marker": str(exc)}, 422)
    except InvigilError as exc:
        if "took no part" in str(exc) or "cannot give it" in str(exc):
            return _page(case, {"marker": str(exc)}, 422)
        return _refusal("Re-mark request refused", exc, case_id)
    flash(f"{marker} is asked to re-mark {item_id}; only they can answer.", "ok")
    return redirect(_back(case_id), code=303)


@bp.post("/<case_id>/remark/<int:request_id>/withdraw")
@require_role(*VIEW)
def withdraw_remark(case_id: str, request_id: int) -> ResponseReturnValue:
    """``cases remark-withdraw REQUEST --reason --by ME`` (the handler only, an open request)."""
    case = _case(case_id)
    if request_id not in {r["id"] for r in remark_requests.of_case(state().ctx, case["case_id"])}:
        abort(404)
    try:
        remark_requests.withdraw(state().ctx, actor(), request_id, text_field("reason", remark_requests.MAX_REASON))
    except InvigilError as exc:
        return _refusal("Withdrawal refused", exc, case_id)
    flash(f"Re-mark request {request_id} withdrawn.", "ok")
    return redirect(_back(case_id), code=303)


@bp.get("/remarks")
@require_role(MARKER)
def remarks_asked() -> ResponseReturnValue:
    """``cases remarks --by ME``: the open re-mark requests asked of the signed-in marker, newest first."""
    return render_template("staff/cases/remarks.html", rows=remark_requests.open_for(state().ctx, actor()))


def _response(attempt_id: str, item_id: str) -> dict[str, Any]:
    """The response as the marking page shows it (question, answer or drawing over the item's
    picture, rubric), blind: no earlier mark, no candidate."""
    ctx, t = state().ctx, marking_tasks.c
    with ctx.open_results_db().connect() as conn:
        task_id = conn.execute(select(t.task_id).where(t.attempt_id == attempt_id, t.item_id == item_id)).scalar()
    if task_id is None:
        abort(404)
    page = task_page(ctx.open_results_db(), ctx.item_bank(), int(task_id), actor())
    return {"item_id": page.task["item_id"], "max_score": page.task["max_score"], "answer": page.answer,
            "drawing": page.drawing,
            "prompt": Markup(clean(page.prompt_html)),  # noqa: S704 - sanitised: model tags only
            "rubric": Markup(clean(page.rubric_html))}  # noqa: S704


def _asked(request_id: int) -> dict[str, Any]:
    """The request if it is the signed-in marker's; 404 when unknown, 403 for any other marker."""
    try:
        remark_requests.get_request(state().ctx, request_id)
    except handling.CaseRefused:
        abort(404)
    try:
        return remark_requests.for_marker(state().ctx, request_id, actor())
    except handling.CaseRefused:
        abort(403)


def _remark_form(asked: dict[str, Any], errors: dict[str, str], status: int) -> ResponseReturnValue:
    shown = _response(asked["attempt_id"], asked["item_id"]) if asked["status"] == "open" else None
    return render_template("staff/cases/remark.html", asked=asked, response=shown, errors=errors,
                           form=request.form), status


@bp.get("/remarks/<int:request_id>")
@require_role(MARKER)
def remark_page(request_id: int) -> ResponseReturnValue:
    """The named marker's page: the response with its question and rubric, and the score to enter
    (without the person's words or the earlier marks); any other marker gets 403."""
    return _remark_form(_asked(request_id), {}, 200)


@bp.post("/remarks/<int:request_id>")
@require_role(MARKER)
def remark_record(request_id: int) -> ResponseReturnValue:
    """``cases remark REQUEST --score --note --by ME`` (the named marker, once)."""
    asked = _asked(request_id)
    try:
        score = float(text_field("score", 20))
    except ValueError:
        return _remark_form(asked, {"score": "must be a number"}, 422)
    try:
        remark_id = remark_requests.answer(state().ctx, request_id, actor(), score,
                                           text_field("note", 1000, required=False))
    except InvigilError as exc:
        return _remark_form(asked, {"score": str(exc)}, 422)
    flash(f"Re-mark {remark_id} recorded; the case's handler decides whether it applies.", "ok")
    return redirect(url_for("staff_cases.remarks_asked"), code=303)


@bp.post("/<case_id>/remark/<int:remark_id>/apply")
@require_role(DECISION_MAKER)
def remark_apply(case_id: str, remark_id: int) -> ResponseReturnValue:
    """``cases apply-remark ID [--flags-reviewed] --case CASE --by ME``."""
    case = _case(case_id)
    if remark_id not in {r["id"] for r in _remarks(case.get("attempt_id"))}:
        abort(404)
    ctx, by = state().ctx, actor()
    try:
        handling.check_acting_handler(ctx, case["case_id"], by)
        done = apply_remark(ctx, remark_id, by, flags_reviewed=request.form.get("flags_reviewed") == "yes")
    except InvigilError as exc:
        return _refusal("Re-mark not applied", exc, case_id)
    handling.note_event(ctx, by, case["case_id"], "remark", f"re-mark {remark_id} applied: decision={done.decision}")
    flash(f"Re-mark {remark_id} applied{f', new decision {done.decision}' if done.decision else ''}.", "ok")
    return redirect(_back(case_id), code=303)
