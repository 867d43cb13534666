"""Results release pages (issue 17, item 1): the review queue, standing holds, releasing, and the
staff view of an attempt's score report.

Each action calls the function its CLI command calls (``release hold|lift|results``) with the
signed-in person as ``by``, so the checks (releaser impartial, scored, decided, not held) and the
audit entries are the same; a release also issues the passes' certificates and mails the
candidates (:mod:`item_bank_sync.release.issuing`). Who may do what is the role table of
``staff/duties.py`` (``release.hold``: whoever finds a cause; ``release.lift`` and
``release.results``: decision makers). Results are personal data: the pages are for the roles that
handle them (and the auditor, read-only), never the public.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import and_, exists, or_, select

from exam_core.errors import InvigilError
from item_bank_sync.certificates.registry import CertificateRegistry
from item_bank_sync.release import holds as service
from item_bank_sync.release.holds import Released
from item_bank_sync.release.issuing import Settled
from item_bank_sync.release.notices import not_told
from item_bank_sync.release.report import report_pdf, score_report
from item_bank_sync.release.schema import SCOPES, release_holds, release_notices, result_releases
from item_bank_sync.results.schema import attempts, decisions
from item_bank_sync.web.access import ADMIN, DECISION_MAKER, PSYCHOMETRICIAN, REGISTRAR, may_do, require_role, state
from item_bank_sync.web.formfields import ID_RE, actor, optional_id, paged, refused, spec_select, text_field
from item_bank_sync.web.tables import Col, TableSpec

bp = Blueprint("staff_release", __name__, url_prefix="/release")
#: Who sees the queue and holds (``release.hold`` in staff/duties.py; the auditor reads too).
VIEW = (DECISION_MAKER, REGISTRAR, PSYCHOMETRICIAN, ADMIN)
#: Who releases and lifts holds (``release.results``, ``release.lift``).
DECIDE = (DECISION_MAKER,)
MAX_REASON = service.MAX_REASON
#: Refusals listed one by one after a release; the rest are counted.
SHOWN_REFUSALS = 20
_A, _D, _H = attempts.c, decisions.c, release_holds.c


def _unreleased() -> Any:
    """The attempts not yet released, in SQL (the queue and its select boxes)."""
    return _A.attempt_id.not_in(select(result_releases.c.attempt_id))


def _choices(column: Any) -> tuple[str, ...]:
    """The values a select box offers: those of the unreleased attempts (at most 500)."""
    query = select(column).distinct().where(_unreleased()).order_by(column).limit(500)
    with state().ctx.open_results_db().connect() as conn:
        return tuple(str(r[0]) for r in conn.execute(query) if r[0] is not None)


def _held_expr() -> Any:
    """"held" when a standing hold covers the attempt (centre, form or attempt), in SQL."""
    covers = or_(and_(_H.scope == "centre", _H.target == _A.centre_id),
                 and_(_H.scope == "form", _H.target == _A.form_id),
                 and_(_H.scope == "attempt", _H.target == _A.attempt_id))
    return exists().where(covers, _H.lifted_at.is_(None))


def _queue_spec(centres: tuple[str, ...], forms: tuple[str, ...]) -> TableSpec:
    latest = (select(_D.outcome).where(_D.attempt_id == _A.attempt_id).order_by(_D.id.desc()).limit(1)
              .scalar_subquery())
    return TableSpec("queue", (
        Col("attempt_id", "Attempt", _A.attempt_id, filter="text",
            link=lambda r: url_for("staff_release.attempt_page", attempt_id=r.attempt_id)),
        Col("centre_id", "Centre", _A.centre_id, filter="exact", choices=centres),
        Col("form_id", "Form", _A.form_id, filter="exact", choices=forms),
        Col("scoring_status", "Scoring", _A.scoring_status, show=lambda v: str(v or "").replace("_", " ")),
        Col("decision", "Decision", latest, show=lambda v: v or "none"),
        Col("held", "Held", _held_expr(), sortable=False, show=lambda v: "held" if v else "no")),
        key=(_A.attempt_id,), default_sort="attempt_id")


@bp.get("")
@require_role(*VIEW)
def queue_page() -> ResponseReturnValue:
    """The review queue: every unreleased attempt, filtered by centre and form, paged; the release form."""
    return _queue()


def _queue(error: str = "", reason: str = "") -> ResponseReturnValue:
    """The queue page; ``error`` is shown next to the release form's selection (422 then)."""
    centres, forms = _choices(_A.centre_id), _choices(_A.form_id)
    spec = _queue_spec(centres, forms)
    query = spec_select(spec).where(_unreleased())
    page = paged(state().ctx.open_results_db(), spec, "staff_release.queue_page", query)
    html = render_template("staff/release/queue.html", page=page, centres=centres, forms=forms, error=error,
                           reason=reason, may_release=may_do("release.results"), not_told=not_told(state().ctx))
    return (html, 422) if error else html


def _summary(done: Released) -> None:
    """What a release did, as flash messages: counts, each refusal with why, what was not done."""
    settled: Settled = done.settled
    sent = sum(s == "sent" for s in settled.told.values())
    flash(f"Released {len(done.released)}, refused {len(done.refused)}; certificates issued "
          f"{len(settled.certificates)}; candidates e-mailed {sent} of {len(settled.told)}.", "ok")
    for attempt_id, why in list(done.refused.items())[:SHOWN_REFUSALS]:
        flash(f"Not released: {attempt_id}: {why}.", "error")
    if len(done.refused) > SHOWN_REFUSALS:
        flash(f"... and {len(done.refused) - SHOWN_REFUSALS} more not released (see the queue).", "error")
    for attempt_id, why in settled.not_issued.items():
        flash(f"Certificate not issued for {attempt_id}: {why}", "error")


def _release(back: str, **target: str | None) -> ResponseReturnValue:
    """``release results --by --reason`` with ``target``; refusals of the whole call as a page."""
    reason = text_field("reason", MAX_REASON)
    try:
        done = service.release(state().ctx, actor(), reason, **target)
    except InvigilError as exc:
        return refused("Release refused", str(exc), back=back)
    _summary(done)
    return redirect(back)


@bp.post("")
@require_role(*DECIDE)
def release_many() -> ResponseReturnValue:
    """``release results --centre C --form F --by --reason``: every releasable attempt of the selection."""
    centre, form = optional_id("centre_id"), optional_id("form_id")
    if not (centre or form):
        return _queue("Choose a centre, a form or both (to release one attempt, open it from the list).",
                      request.form.get("reason", "")[:MAX_REASON])
    return _release(url_for("staff_release.queue_page"), centre=centre, form=form)


def _attempt(attempt_id: str) -> dict[str, Any]:
    """The attempt's row, or 404 (a malformed id is never looked up)."""
    if not ID_RE.match(attempt_id):
        abort(404)
    with state().ctx.open_results_db().connect() as conn:
        row = conn.execute(select(_A.attempt_id, _A.candidate_id, _A.centre_id, _A.form_id, _A.form_version,
                                  _A.scoring_status).where(_A.attempt_id == attempt_id)).mappings().first()
    if row is None:
        abort(404)
    return dict(row)


def _notice(attempt_id: str) -> dict[str, Any] | None:
    n = release_notices.c
    with state().ctx.open_results_db().connect() as conn:
        row = conn.execute(select(n.status, n.sent_at).where(n.attempt_id == attempt_id)).mappings().first()
    return dict(row) if row else None


@bp.get("/attempts/<attempt_id>")
@require_role(*VIEW)
def attempt_page(attempt_id: str) -> ResponseReturnValue:
    """One attempt: released (its score report, the PDF, who was told) or not (why not yet; release it)."""
    attempt = _attempt(attempt_id)
    released = service.release_of(state().ctx, attempt_id)
    queued = next(iter(service.review_queue(state().ctx, attempt=attempt_id)), None) if released is None else None
    return render_template("staff/release/attempt.html", attempt=attempt, released=released, queued=queued,
                           report=score_report(state().ctx, attempt_id) if released else None,
                           notice=_notice(attempt_id), may_release=may_do("release.results"),
                           certificate=CertificateRegistry(state().ctx).of_attempt(attempt_id))


@bp.post("/attempts/<attempt_id>/release")
@require_role(*DECIDE)
def release_one(attempt_id: str) -> ResponseReturnValue:
    """``release results --attempt ID --by --reason``."""
    attempt = _attempt(attempt_id)
    return _release(url_for("staff_release.attempt_page", attempt_id=attempt["attempt_id"]),
                    attempt_id=attempt["attempt_id"])


@bp.get("/attempts/<attempt_id>/report.pdf")
@require_role(*VIEW)
def report_file(attempt_id: str) -> ResponseReturnValue:
    """``release report ID --pdf FILE``: the candidate's score report as a download (released only)."""
    attempt = _attempt(attempt_id)
    try:
        report = score_report(state().ctx, attempt["attempt_id"])
    except InvigilError:
        abort(404)
    response = Response(report_pdf(report), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="score-report-{attempt["attempt_id"]}.pdf"'
    return response


@bp.get("/holds")
@require_role(*VIEW)
def holds_page() -> ResponseReturnValue:
    """Standing holds (every hold with ``?all=1``), the form to place one and a lift form per hold."""
    every = request.args.get("all") == "1"
    return render_template("staff/release/holds.html", rows=service.holds(state().ctx, standing_only=not every),
                           every=every, scopes=SCOPES, may_hold=may_do("release.hold"),
                           may_lift=may_do("release.lift"))


@bp.post("/holds")
@require_role(*VIEW)
def place_hold() -> ResponseReturnValue:
    """``release hold --centre|--form|--attempt TARGET --by --reason``."""
    back = url_for("staff_release.holds_page")
    scope = request.form.get("scope", "")
    if scope not in SCOPES:
        abort(400)
    target, reason = text_field("target", 200), text_field("reason", MAX_REASON)
    try:
        hold_id = service.hold(state().ctx, actor(), scope, target, reason)
    except InvigilError as exc:
        return refused("Hold refused", str(exc), back=back)
    flash(f"Hold {hold_id} placed on {scope} {target}.", "ok")
    return redirect(back)


@bp.post("/holds/<int:hold_id>/lift")
@require_role(*DECIDE)
def lift_hold(hold_id: int) -> ResponseReturnValue:
    """``release lift HOLD --by --reason``."""
    back = url_for("staff_release.holds_page")
    reason = text_field("reason", MAX_REASON)
    try:
        service.lift(state().ctx, actor(), hold_id, reason)
    except InvigilError as exc:
        return refused("Lift refused", str(exc), back=back)
    flash(f"Hold {hold_id} lifted.", "ok")
    return redirect(back)
