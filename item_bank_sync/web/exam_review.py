"""The exam performance review (ISO/IEC 17024 9.3.5) inside the staff application: the page of
``review-exam --form FORM``.

The report is :func:`item_bank_sync.psychometrics.review_report.render_review`'s self-contained
document (its own style block, plots as data URIs), framed like the item-analysis report and served
under a CSP of its own: no script, its style allowed by hash, images only from data URIs, framed
only by the application. A psychometrician opens one corrective action per flag from here as
``review-exam --open-actions --by NAME`` does (same function, same audit entries, none twice while
open).
"""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Blueprint, Response, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from exam_core.errors import InvigilError
from item_bank_sync.psychometrics.review import load_thresholds, review_exam
from item_bank_sync.psychometrics.review_report import render_review
from item_bank_sync.results.schema import attempts
from item_bank_sync.web.access import ADMIN, PSYCHOMETRICIAN, may_do, require_role, state
from item_bank_sync.web.formfields import actor, refused, text_field

bp = Blueprint("exam_review", __name__, url_prefix="/review/exam")

VIEW = (PSYCHOMETRICIAN, ADMIN)
FORM_REF_MAX = 140
STYLE_RE = re.compile(r"<style>(.*?)</style>", re.S)


def _forms_with_results() -> list[str]:
    a = attempts.c
    with state().ctx.open_results_db().connect() as conn:
        rows = conn.execute(select(a.form_id, a.form_version).distinct().order_by(a.form_id, a.form_version))
        return [f"{form_id}@{version}" for form_id, version in rows]


@bp.get("/")
@require_role(*VIEW)
def exam_review_page() -> ResponseReturnValue:
    """Choose a form; its review in a sandboxed frame, and the button that opens corrective actions."""
    form_ref = request.args.get("form", "").strip()[:FORM_REF_MAX]
    forms = _forms_with_results()
    report_url = url_for("exam_review.exam_review_report", form=form_ref) if form_ref in forms else None
    return render_template("staff/review/exam_review.html", form_ref=form_ref, forms=forms, report_url=report_url,
                           may_open=may_do("review-exam"))


@bp.get("/report")
@require_role(*VIEW)
def exam_review_report() -> ResponseReturnValue:
    """The review's HTML with a CSP of its own (module docstring)."""
    form_ref = request.args.get("form", "").strip()[:FORM_REF_MAX]
    try:
        html = render_review(review_exam(state().ctx, form_ref, load_thresholds(None)))
    except InvigilError as exc:
        return refused("No exam review", str(exc), back=url_for("exam_review.exam_review_page"))
    styles = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
                      for s in STYLE_RE.findall(html))
    style_src = styles or "'none'"
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src {style_src}; img-src data:; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'self'")
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.post("/actions")
@require_role(PSYCHOMETRICIAN)
def open_actions() -> ResponseReturnValue:
    """``review-exam --form FORM --open-actions --by ME``: a corrective action per flag."""
    form_ref = text_field("form", FORM_REF_MAX)
    back = url_for("exam_review.exam_review_page", form=form_ref)
    verdict = may_do("review-exam")
    if not verdict.allowed:
        return refused("Corrective actions not opened", verdict.reason, 403, back=back)
    try:
        review = review_exam(state().ctx, form_ref, load_thresholds(None), open_actions_by=actor())
    except InvigilError as exc:
        return refused("Corrective actions not opened", str(exc), back=back)
    return render_template("staff/review/exam_review_actions.html", form_ref=form_ref, back=back,
                           actions=review["corrective_actions"], flags=len(review["flags"]))
