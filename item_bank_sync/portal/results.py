"""The portal's pages after the exam (issue 17, items 1, 4 and 5): released results with their
score reports, appeals against a result, certificates, CPD records and the renewal standing.

Why a module of its own beside web.py: these pages read the release, cases, certificates and
recertification services, none of which the pages before the exam need. Each view calls the same
service function the CLI calls, with the candidate actor where the service takes one. A result is
the person's when one of their bookings carries the attempt's candidate id; a result not yet
released, a case or a certificate of another person is answered 404, exactly as one that does not
exist: the portal never says what exists for someone else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from sqlalchemy import select

from exam_core.errors import InvigilError
from exam_core.timestamps import format_time, utc_now
from item_bank_sync.cases import handling
from item_bank_sync.cases.schema import cases
from item_bank_sync.certificates.registry import Certificate, CertificateRegistry
from item_bank_sync.certificates.schema import certificates
from item_bank_sync.context import CentralContext
from item_bank_sync.mail import load_settings
from item_bank_sync.recertification import cpd, renewal
from item_bank_sync.recertification.common import held
from item_bank_sync.registry.actors import Actor
from item_bank_sync.release.report import ScoreReport, report_pdf, score_report
from item_bank_sync.release.schema import result_releases
from item_bank_sync.results.schema import attempts
from item_bank_sync.sittings import bookings

#: The endpoint that takes an evidence document (the gate allows it an upload's body).
UPLOAD_ENDPOINT = "portal.cpd_add"
MAX_ID = 40
EXTENSION = "invigil_portal_results"
View = Callable[..., Any]


@dataclass(frozen=True)
class Hooks:
    """What these pages take from the portal's core (web.py passes them in: this module never
    imports web.py, which registers these pages, so the two stay out of an import circle)."""

    signed_in: Callable[[View], View]
    ctx: Callable[[], CentralContext]
    actor: Callable[[], Actor]
    person: Callable[[], str]


def add_views(bp: Blueprint, hooks: Hooks) -> None:
    """Register the result, appeal, certificate and CPD pages on the portal's blueprint."""
    bp.record_once(lambda state: state.app.extensions.__setitem__(EXTENSION, hooks))
    signed_in = hooks.signed_in

    @bp.get("/results")
    @signed_in
    def results() -> Any:
        return render_template("portal/results.html", reports=[score_report(_ctx(), a) for a in _released()])

    @bp.get("/results/<attempt_id>")
    @signed_in
    def result(attempt_id: str) -> Any:
        return _report_page(_own_report(attempt_id), None)

    @bp.get("/results/<attempt_id>/report.pdf")
    @signed_in
    def result_pdf(attempt_id: str) -> Any:
        report = _own_report(attempt_id)
        return Response(report_pdf(report), mimetype="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="score-report-{report.attempt_id}.pdf"'})

    @bp.post("/results/<attempt_id>/appeal")
    @signed_in
    def appeal_result(attempt_id: str) -> Any:
        return _appeal(_own_report(attempt_id))

    @bp.get("/cases/<case_id>")
    @signed_in
    def case(case_id: str) -> Any:
        return render_template("portal/case.html", case=_own_case(case_id))

    @bp.get("/certificates")
    @signed_in
    def certificates() -> Any:
        registry = CertificateRegistry(_ctx())
        return render_template("portal/certificates.html", certificates=_certificates(),
                               verify=registry.verify_url)

    @bp.get("/cpd/<record_id>/evidence")
    @signed_in
    def cpd_evidence(record_id: str) -> Any:
        return _cpd_document(record_id)

    @bp.route("/certificates/<certificate_id>/cpd", methods=["GET", "POST"])
    @signed_in
    def cpd_add(certificate_id: str) -> Any:
        return _cpd(_own_certificate(certificate_id))


def _hooks() -> Hooks:
    found: Hooks = current_app.extensions[EXTENSION]
    return found


def _ctx() -> CentralContext:
    return _hooks().ctx()


def _actor() -> Actor:
    return _hooks().actor()


def _person() -> str:
    """The signed-in person's id (what their bookings, cases and certificates name)."""
    return _hooks().person()


def _candidate_ids() -> list[str]:
    """The candidate ids of the person's bookings (what their attempts carry)."""
    return [b.candidate_id for b in bookings.list_bookings(_ctx(), _actor(), person_id=_person())
            if b.candidate_id]


def _released() -> list[str]:
    """The person's attempts whose results are released, in the order they were received."""
    ids = _candidate_ids()
    if not ids:
        return []
    a = attempts.c
    with _ctx().open_results_db().connect() as conn:
        return [r[0] for r in conn.execute(
            select(a.attempt_id).join(result_releases, result_releases.c.attempt_id == a.attempt_id)
            .where(a.candidate_id.in_(ids)).order_by(a.attempt_id))]


def _own_report(attempt_id: str) -> ScoreReport:
    """The score report of one of the person's released results; 404 for anything else."""
    attempt_id = attempt_id[:MAX_ID]
    if attempt_id not in _released():
        abort(404)
    return score_report(_ctx(), attempt_id)


def _report_page(report: ScoreReport, error: str | None, status: int = 200) -> Any:
    """The score report; after its appeal deadline, instead of the form (which the case service
    would refuse), the date it passed and how to reach the body about a late appeal."""
    closed = format_time(utc_now()) > report.appeal_by
    return render_template("portal/result.html", report=report, error=error, form=request.form,
                           cases=[c for c in _cases() if c["attempt_id"] == report.attempt_id],
                           appeal_closed=closed, contact=_contact() if closed else None), status


def _contact() -> dict[str, str | None]:
    """How a person reaches the body: its name, and the address its mail comes from when a relay
    is set up (the portal then mails from it), else None (the page says to use the body's usual
    contact details)."""
    ctx = _ctx()
    settings = load_settings(ctx.data_dir)
    return {"name": str(ctx.body().get("name") or "the certification body"),
            "email": settings.sender if settings is not None else None}


def _appeal(report: ScoreReport) -> Any:
    """``cases lodge --kind appeal --category result``: the person's words, via the portal."""
    actor = _actor()
    try:
        case_id = handling.lodge(_ctx(), actor.name, "appeal", "result", _person(),
                                 request.form.get("summary", "")[:handling.MAX_TEXT + 1],
                                 attempt_id=report.attempt_id, via="portal")
    except InvigilError as exc:
        return _report_page(report, str(exc), 422)
    return redirect(url_for("portal.case", case_id=case_id), code=303)


def _cases() -> list[dict[str, Any]]:
    """The person's cases with their history and messages, oldest first."""
    c = cases.c
    with _ctx().open_bank_db().connect() as conn:
        ids = [r[0] for r in conn.execute(select(c.case_id).where(c.person == _person())
                                          .order_by(c.lodged_at))]
    return [handling.get(_ctx(), i) for i in ids]


def _own_case(case_id: str) -> dict[str, Any]:
    try:
        found = handling.get(_ctx(), case_id[:MAX_ID])
    except handling.CaseRefused:
        abort(404)
    if found["person"] != _person():
        abort(404)
    return found


def _certificates() -> list[Certificate]:
    """The person's certificates in the order they were issued (picked in SQL: the registry's
    listing reads every holder's certificate)."""
    c = certificates.c
    with _ctx().open_bank_db().connect() as conn:
        ids = [r[0] for r in conn.execute(select(c.certificate_id).where(c.person_id == _person())
                                          .order_by(c.issued_at))]
    registry = CertificateRegistry(_ctx())
    return [registry.get(i) for i in ids]


def _own_certificate(certificate_id: str) -> Certificate:
    cert = CertificateRegistry(_ctx()).find(certificate_id[:MAX_ID])
    if cert is None or cert.person_id != _person():
        abort(404)
    return cert


def _standing(cert: Certificate) -> renewal.Standing | None:
    try:
        return renewal.standing_for(_ctx(), _actor(), cert.certificate_id)
    except InvigilError:
        return None     # the scheme has no recertification rules: nothing to stand against


def _cpd(cert: Certificate) -> Any:
    """``cpd add``: one CPD activity with optional evidence (the same limits as other evidence)."""
    error = None
    if request.method == "POST":
        error = _cpd_post(cert)
        if error is None:
            return redirect(url_for("portal.cpd_add", certificate_id=cert.certificate_id), code=303)
    found = held(_ctx(), cert.certificate_id)
    categories = sorted(found.rules.categories) if found.rules is not None else []
    page = render_template("portal/cpd.html", cert=cert, records=cpd.list_for(_ctx(), _actor(), cert.certificate_id),
                           standing=_standing(cert), categories=categories, error=error,
                           form=request.form if error else {}, today=date.today().isoformat())
    return page, (422 if error else 200)


def _cpd_post(cert: Certificate) -> str | None:
    upload = request.files.get("document")
    evidence = None
    if upload is not None and upload.filename:
        evidence = (upload.filename[:200], upload.read(cpd.MAX_BYTES + 1))
    try:
        cpd.add(_ctx(), _actor(), cert.certificate_id, category=request.form.get("category", "")[:100],
                credits=float(request.form.get("credits", "")[:20] or "nan"),
                activity_date=request.form.get("activity_date", "")[:20],
                description=request.form.get("description", "")[:cpd.MAX_DESCRIPTION + 1], evidence=evidence)
    except (InvigilError, ValueError) as exc:
        return str(exc) if isinstance(exc, InvigilError) else "credits must be a number"
    return None


def _cpd_document(record_id: str) -> Response:
    """``cpd evidence``: the holder's own document (its read audited by the service); anything else,
    a malformed id included, is 404."""
    try:
        record, data = cpd.evidence(_ctx(), _actor(), record_id[:MAX_ID])
    except InvigilError:
        abort(404)
    return Response(data, mimetype=record.evidence_media_type or "application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="cpd-evidence-{record.record_id}"',
        "X-Content-Type-Options": "nosniff"})
