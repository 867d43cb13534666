"""Review pages: integrity review, item analysis, decisions, results export.

* Integrity: the flags stored for each attempt, and a button that runs ``integrity --form`` (the
  same :func:`integrity_of_form`, which stores the flags it finds).
* Item analysis: the psychometrician's existing HTML report (``analyze --form --html``) shown inside
  the application in a sandboxed frame. The report is one self-contained document with its own
  style block and PNG plots as data URIs, so it is served from this server with a CSP of its own:
  no script at all, its one style block allowed by hash, images only from data URIs, framed only
  by this application.
* Decisions: the attempts and their decision; on an attempt's page the separation-of-duties check
  (:func:`roles_on_attempt`) is shown before the button, so a decision maker who proctored or marked
  the attempt sees why they may not decide; :func:`decide` refuses them on POST anyway. An attempt
  with integrity flags shows how many, linked to them, and a check box stating they were reviewed
  (``decide --flags-reviewed``), without which only ``withheld`` is taken.
* Results export: ``results export`` as a CSV download (spreadsheet formulas neutralised).
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import case, exists, func, or_, select

from exam_core.errors import InvigilError
from item_bank_sync.analysis.integrity_of_form import integrity_of_form
from item_bank_sync.analysis.of_form import analyze_form
from item_bank_sync.analysis.report import render_html
from item_bank_sync.analysis.stats import FlagThresholds
from item_bank_sync.registry.conflicts import Declaration, list_declarations
from item_bank_sync.release.issuing import decide
from item_bank_sync.results.decisions import (OUTCOMES, integrity_flag_count, results_csv, results_rows,
                                              roles_on_attempt)
from item_bank_sync.results.review import PROCTOR_END
from item_bank_sync.results.schema import attempts, decisions, integrity_flags
from item_bank_sync.sittings.bookings import person_of_candidate
from item_bank_sync.sittings.impartiality import staff
from item_bank_sync.web.access import (ADMIN, DECISION_MAKER, PSYCHOMETRICIAN, REGISTRAR, current_staff, may_do,
                                       require_role, state)
from item_bank_sync.web.formfields import ID_RE, actor, refused, shown_time, paged, spec_select, text_field
from item_bank_sync.web.tables import Col, TableSpec

bp = Blueprint("review", __name__, url_prefix="/review")

ANALYSIS_VIEW = (PSYCHOMETRICIAN, ADMIN)
DECISION_VIEW = (DECISION_MAKER, REGISTRAR, ADMIN)
RESULTS_VIEW = (REGISTRAR, DECISION_MAKER, ADMIN)
FORM_REF_MAX = 140
STYLE_RE = re.compile(r"<style>(.*?)</style>", re.S)

_A, _F = attempts.c, integrity_flags.c
_newer = decisions.alias("newer")
_LATEST = select(func.max(_newer.c.id)).where(_newer.c.attempt_id == _A.attempt_id).scalar_subquery()
_D = decisions.c
ATTEMPTS = TableSpec("attempts", (
    Col("attempt_id", "Attempt", _A.attempt_id, filter="text",
        link=lambda r: url_for("review.decision_page", attempt_id=r.attempt_id)),
    Col("form_id", "Form", _A.form_id, filter="exact"), Col("centre_id", "Centre", _A.centre_id, filter="exact"),
    Col("submitted_at", "Submitted", _A.submitted_at, show=shown_time),
    Col("scoring_status", "Scoring", _A.scoring_status, filter="exact"),
    Col("total", "Score", _A.total), Col("passed", "At or above cut", _A.passed, show=lambda v: _yes_no(v)),
    Col("decision", "Decision", func.coalesce(_D.outcome, "none"), filter="exact"),
    Col("review", "Why it needs a look", _A.review, sortable=False)),
    key=(_A.attempt_id,), default_sort="submitted_at", default_descending=True)
FLAGS = TableSpec("flags", (
    Col("created_at", "Found", _F.created_at, show=shown_time), Col("kind", "Kind", _F.kind, filter="exact"),
    Col("attempt_id", "Attempt", _F.attempt_id, filter="text",
        link=lambda r: url_for("review.decision_page", attempt_id=r.attempt_id)),
    Col("other_attempt_id", "Other attempt", _F.other_attempt_id, filter="text"),
    Col("score", "z", _F.score, show=lambda v: f"{v:.2f}"),
    Col("ended", "Ended by a proctor", case((exists().where(
        or_(_A.attempt_id == _F.attempt_id, _A.attempt_id == _F.other_attempt_id), _A.ended_by == PROCTOR_END),
        "yes"), else_="no"), sortable=False)),
    key=(_F.id,), default_sort="score", default_descending=True)


def _yes_no(value: Any) -> str:
    return "" if value is None else ("yes" if value else "no")


# --- integrity --------------------------------------------------------------------------------------

@bp.get("/integrity")
@require_role(*ANALYSIS_VIEW)
def integrity_page() -> ResponseReturnValue:
    """Stored integrity flags (leads for a person, never a decision) and the form to run the analysis."""
    page = paged(state().ctx.open_results_db(), FLAGS, "review.integrity_page")
    return render_template("staff/review/integrity.html", page=page, may_run=_may_run_integrity())


def _may_run_integrity() -> bool:
    """The integrity command names no actor (it only stores leads); the page lets psychometricians run it."""
    member = current_staff()
    return member is not None and member.enabled and member.has(PSYCHOMETRICIAN)


@bp.post("/integrity")
@require_role(PSYCHOMETRICIAN)
def integrity_action() -> ResponseReturnValue:
    """``integrity --form FORM[@VERSION]``: run the three analyses and store the flags."""
    form_ref = text_field("form", FORM_REF_MAX)
    try:
        form_id, version, flags = integrity_of_form(state().ctx, form_ref)
    except InvigilError as exc:
        return refused("Integrity analysis not run", str(exc), back=url_for("review.integrity_page"))
    return render_template("staff/review/integrity_run.html", form_id=form_id, version=version, flags=flags)


# --- item analysis ----------------------------------------------------------------------------------

@bp.get("/analysis")
@require_role(*ANALYSIS_VIEW)
def analysis_page() -> ResponseReturnValue:
    """The item-analysis report of a form inside the application (a sandboxed frame)."""
    form_ref = request.args.get("form", "").strip()[:FORM_REF_MAX]
    forms = _forms_with_results()
    # Only a form with results is framed: a refusal page could not be shown inside the frame (its
    # answer carries the application's frame-ancestors 'none').
    report_url = url_for("review.analysis_report", form=form_ref) if form_ref in forms else None
    return render_template("staff/review/analysis.html", form_ref=form_ref, forms=forms, report_url=report_url)


@bp.get("/analysis/report")
@require_role(*ANALYSIS_VIEW)
def analysis_report() -> ResponseReturnValue:
    """``analyze --form FORM --html``'s report, served with a CSP of its own (module doc)."""
    form_ref = request.args.get("form", "").strip()[:FORM_REF_MAX]
    try:
        analysis, title = analyze_form(state().ctx, form_ref, FlagThresholds())
    except InvigilError as exc:
        return refused("No item analysis", str(exc), back=url_for("review.analysis_page"))
    html = render_html(analysis, title)
    styles = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
                      for s in STYLE_RE.findall(html))
    response = Response(html, mimetype="text/html")
    style_src = styles or "'none'"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src {style_src}; img-src data:; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'self'")
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _forms_with_results() -> list[str]:
    with state().ctx.open_results_db().connect() as conn:
        rows = conn.execute(select(_A.form_id, _A.form_version).distinct().order_by(_A.form_id, _A.form_version))
        return [f"{form_id}@{version}" for form_id, version in rows]


# --- decisions --------------------------------------------------------------------------------------

@bp.get("/decisions")
@require_role(*DECISION_VIEW)
def decisions_page() -> ResponseReturnValue:
    """Every attempt with the decision that stands (filter "none" for those still awaiting one)."""
    query = spec_select(ATTEMPTS).outerjoin_from(attempts, decisions, _D.id == _LATEST)
    page = paged(state().ctx.open_results_db(), ATTEMPTS, "review.decisions_page", query)
    return render_template("staff/review/decisions.html", page=page)


@bp.get("/decisions/<attempt_id>")
@require_role(*DECISION_VIEW)
def decision_page(attempt_id: str) -> ResponseReturnValue:
    """One attempt: its result, its decisions so far, and whether the signed-in person may decide."""
    attempt = _attempt(attempt_id)
    results = state().ctx.open_results_db()
    conflicts = roles_on_attempt(results, attempt_id, actor())
    return render_template("staff/review/decision.html", attempt=attempt, history=_history(attempt_id),
                           conflicts=conflicts, declared=_declared(attempt["candidate_id"]),
                           may_decide=may_do("decide"), outcomes=OUTCOMES,
                           flags=integrity_flag_count(results, attempt_id))


def _declared(candidate_id: str) -> list[Declaration]:
    """The signed-in person's active conflict-of-interest declarations about the candidate (when a
    booking made the candidate id a person's): shown before the button; ``decide`` refuses."""
    ctx = state().ctx
    person_id = person_of_candidate(ctx, candidate_id)
    if person_id is None:
        return []
    return list_declarations(ctx, staff(actor(), DECISION_MAKER), person_id=person_id, active_only=True)


@bp.post("/decisions/<attempt_id>")
@require_role(DECISION_MAKER)
def decide_action(attempt_id: str) -> ResponseReturnValue:
    """``decide ATTEMPT --by --outcome --reason``."""
    _attempt(attempt_id)
    outcome = request.form.get("outcome", "")
    if outcome not in OUTCOMES:
        abort(400)
    reason = text_field("reason", 2000)
    flags_reviewed = request.form.get("flags_reviewed") == "yes"      # the CLI's --flags-reviewed
    try:
        recorded = decide(state().ctx, attempt_id, actor(), outcome, reason, flags_reviewed=flags_reviewed)
    except InvigilError as exc:
        return refused("Decision refused", str(exc), back=url_for("review.decision_page", attempt_id=attempt_id))
    return render_template("staff/review/decided.html", decision=recorded.decision,
                           certificate_id=recorded.certificate_id)


def _attempt(attempt_id: str) -> dict[str, Any]:
    if not ID_RE.match(attempt_id):
        abort(404)
    with state().ctx.open_results_db().connect() as conn:
        row = conn.execute(select(_A.attempt_id, _A.candidate_id, _A.form_id, _A.form_version, _A.centre_id,
                                  _A.submitted_at, _A.scoring_status, _A.total, _A.max_total, _A.cut_score,
                                  _A.passed, _A.ended_by, _A.end_reason, _A.review)
                           .where(_A.attempt_id == attempt_id)).mappings().first()
    if row is None:
        abort(404)
    return dict(row)


def _history(attempt_id: str) -> list[dict[str, Any]]:
    with state().ctx.open_results_db().connect() as conn:
        rows = conn.execute(select(_D.decided_by, _D.outcome, _D.reason, _D.at)
                            .where(_D.attempt_id == attempt_id).order_by(_D.id)).mappings()
        return [dict(r) for r in rows]


# --- results export ---------------------------------------------------------------------------------

@bp.get("/results")
@require_role(*RESULTS_VIEW)
def results_page() -> ResponseReturnValue:
    """The export form: every attempt, or one form's."""
    return render_template("staff/review/results.html", forms=sorted({f.split("@")[0] for f in
                                                                     _forms_with_results()}))


@bp.get("/results.csv")
@require_role(*RESULTS_VIEW)
def results_export() -> ResponseReturnValue:
    """``results export [--form]``: the CSV, as a download."""
    form_id = request.args.get("form", "").strip() or None
    if form_id is not None and not ID_RE.match(form_id):
        abort(400)
    text = results_csv(results_rows(state().ctx.open_results_db(), form_id))
    name = f"results-{form_id or 'all'}.csv"
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})

