"""Recertification pages (issue 17, item 4; ISO/IEC 17024 9.6): who falls due, reminders, the CPD
audit, and renewals.

* Due: the certificates in force whose period ends within N days (or has ended), paged in the
  database, each with where its holder stands; "send reminders" runs ``recert remind --within N``
  (:func:`~item_bank_sync.recertification.due.remind_report`) and says how many went out, how many
  were kept for the portal or failed, and which were not sent and why. A reminder goes once per
  certificate, end date and threshold (the service's unique key), so a second click sends nothing.
* CPD audit: draw a sample (``recert sample --share --seed``; the seed is shown, so anyone can draw
  again from the same records and check), the sampled records, each record with its evidence (a
  download under the sandbox CSP of the registry's evidence viewer, the read audited) and the
  auditor's verdict with a reason (``recert audit``).
* Standing and renewal: a certificate's credits by category against the scheme's rule, the
  re-examination, credits awaiting audit; "renew" (``recert renew``) when the rules are met.

Every action calls the function its CLI command calls with the signed-in person as the actor, so
the role checks, conflict-of-interest checks, impartiality and audit entries are the CLI's.
"""

from __future__ import annotations

import json
from datetime import timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from exam_core.errors import InvigilError
from exam_core.timestamps import format_time, utc_now
from item_bank_sync.certificates.registry import CertificateRegistry
from item_bank_sync.certificates.schema import certificates
from item_bank_sync.recertification import cpd, due, renewal
from item_bank_sync.recertification.common import held
from item_bank_sync.recertification.rules import NoRules
from item_bank_sync.recertification.schema import cpd_records, cpd_samples
from item_bank_sync.registry.errors import Forbidden, NotFound
from item_bank_sync.web.access import ADMIN, AUDITOR, DECISION_MAKER, REGISTRAR, may_do, require_role, state
from item_bank_sync.web.formfields import ID_RE, actor, paged, refused, shown_time, spec_select, text_field
from item_bank_sync.web.registry import registry_actor
from item_bank_sync.web.tables import Col, TableSpec, table_page

bp = Blueprint("staff_recert", __name__, url_prefix="/recertification")
#: Who sees who falls due and sends reminders (``staff/duties.py``: recert.remind).
DUE_VIEW = (REGISTRAR, ADMIN)
#: Who reads the CPD audit (the auditor decides; an admin may draw a sample).
AUDIT_VIEW = (AUDITOR, ADMIN, REGISTRAR)
#: Who sees a holder's standing, and who renews (``recert.renew``).
STANDING_VIEW = (DECISION_MAKER, REGISTRAR, ADMIN)
RENEW = (DECISION_MAKER, ADMIN)
DEFAULT_WITHIN = 90
_C, _R, _S = certificates.c, cpd_records.c, cpd_samples.c


def _standing_words(certificate_id: str) -> str:
    """Where the holder of a row stands, in words (computed for the rows shown only)."""
    rules, ready, shortfalls = due.readiness(state().ctx, certificate_id)
    if ready:
        return "meets the rules: may be renewed"
    return "; ".join(shortfalls) if rules else shortfalls[0]


DUE = TableSpec("due", (
    Col("certificate_id", "Certificate", _C.certificate_id, filter="text",
        link=lambda r: url_for("staff_recert.standing_page", certificate_id=r.certificate_id)),
    Col("holder_name", "Holder", _C.holder_name, filter="text"),
    Col("scheme_id", "Scheme", _C.scheme_id, filter="exact"),
    Col("status", "Status", _C.status, filter="exact"),
    Col("valid_until", "Valid until", _C.valid_until, show=shown_time),
    Col("standing", "Where the holder stands", _C.certificate_id, sortable=False, show=_standing_words)),
    key=(_C.certificate_id,), default_sort="valid_until")
QUEUE = TableSpec("cpd_audit", (
    Col("record_id", "CPD record", _R.record_id, filter="text",
        link=lambda r: url_for("staff_recert.record_page", record_id=r.record_id)),
    Col("certificate_id", "Certificate", _R.certificate_id, filter="text"),
    Col("category", "Category", _R.category, filter="exact"),
    Col("credits", "Credits", _R.credits, show=lambda v: f"{v:g}"),
    Col("activity_date", "Activity date", _R.activity_date),
    Col("audit_status", "Audit status", _R.audit_status, filter="exact"),
    Col("sample_id", "Sample", _R.sample_id, filter="exact")),
    key=(_R.record_id,), default_sort="record_id")
SAMPLES = TableSpec("cpd_samples", (
    Col("sample_id", "Sample", _S.sample_id, filter="exact"),
    Col("drawn_at", "Drawn", _S.drawn_at, show=shown_time),
    Col("share", "Share", _S.share, show=lambda v: f"{v:.0%}"),
    Col("seed", "Seed (draw again with it to check)", _S.seed, sortable=False),
    Col("population", "Records not yet sampled", _S.population),
    Col("drawn_json", "Drawn", _S.drawn_json, sortable=False, show=lambda v: f"{len(json.loads(v))} record(s)"),
    Col("drawn_by", "By", _S.drawn_by)),
    key=(_S.sample_id,), default_sort="drawn_at", default_descending=True)


# --- who falls due, reminders -----------------------------------------------------------------------

def _within(raw: str | None) -> int:
    """Days ahead from a query or form value; 400 unless a whole number 0..3650."""
    text = (raw or "").strip()
    if not text.isdigit() or len(text) > 4 or int(text) > due.MAX_DAYS:
        abort(400)
    return int(text)


@bp.get("/due", defaults={"within": DEFAULT_WITHIN})
@bp.get("/due/<int:within>")
@require_role(*DUE_VIEW)
def due_page(within: int) -> ResponseReturnValue:
    """Certificates in force ending within ``within`` days (or ended), soonest first, paged. The
    days-ahead form sends ``?within=N``: redirected to ``/due/N``, so paging and sorting keep it."""
    if "within" in request.args:
        return redirect(url_for("staff_recert.due_page", within=_within(request.args.get("within"))))
    if within > due.MAX_DAYS:
        abort(404)
    horizon = format_time(utc_now().replace(microsecond=0) + timedelta(days=within))
    query = spec_select(DUE).where(
        _C.status.in_(("valid", "suspended")), _C.valid_until <= horizon)
    page = table_page(state().ctx.open_bank_db(), query, DUE, request.args,
                      url_for("staff_recert.due_page", within=within))
    return render_template("staff/recertification/due.html", page=page, within=within,
                           may_remind=may_do("recert.remind"))


@bp.post("/remind")
@require_role(*DUE_VIEW)
def remind() -> ResponseReturnValue:
    """``recert remind --within N --by``: once per certificate, end date and threshold."""
    within = _within(request.form.get("within"))
    back = url_for("staff_recert.due_page", within=within)
    try:
        report = due.remind_report(state().ctx, within, actor())
    except InvigilError as exc:
        return refused("Reminders not sent", str(exc), back=back)
    flash(f"{len(report.done)} reminder(s) this run: {report.mailed} e-mailed, {report.kept} kept for the "
          f"portal (no mail relay or no address), {report.failed} refused by the relay (tried again next run); "
          f"{len(report.not_sent)} not sent.", "ok")
    for certificate_id, why in report.not_sent:
        flash(f"{certificate_id} not reminded: {why}.", "info")
    return redirect(back)


# --- the CPD audit ----------------------------------------------------------------------------------

@bp.get("/audit")
@require_role(*AUDIT_VIEW)
def audit_page() -> ResponseReturnValue:
    """The sampled records (filter the audit status: ``sampled`` is the queue) and the draw form."""
    query = spec_select(QUEUE).where(_R.sample_id.is_not(None))
    page = paged(state().ctx.open_bank_db(), QUEUE, "staff_recert.audit_page", query)
    return render_template("staff/recertification/audit.html", page=page, may_sample=may_do("recert.sample"))


@bp.get("/audit/samples")
@require_role(*AUDIT_VIEW)
def samples_page() -> ResponseReturnValue:
    """Every draw with its share, seed and population (to draw again and check)."""
    page = paged(state().ctx.open_bank_db(), SAMPLES, "staff_recert.samples_page")
    return render_template("staff/recertification/samples.html", page=page)


def _share() -> float:
    """The share field in percent (1 to 100); 400 otherwise."""
    text = text_field("share_percent", 6)
    try:
        percent = float(text)
    except ValueError:
        abort(400)
    if not 0 < percent <= 100:
        abort(400)
    return percent / 100


@bp.post("/audit/sample")
@require_role(AUDITOR, ADMIN)
def draw_sample() -> ResponseReturnValue:
    """``recert sample --share --seed --by``: a seeded, recorded draw of records not yet sampled."""
    back = url_for("staff_recert.audit_page")
    seed = text_field("seed", 100, required=False) or None
    try:
        drawn = cpd.sample(state().ctx, registry_actor(), _share(), seed)
    except InvigilError as exc:
        return refused("Sample not drawn", str(exc), 403 if isinstance(exc, Forbidden) else 422, back=back)
    flash(f"Sample {drawn.sample_id}: {len(drawn.drawn)} of {drawn.population} record(s) drawn with seed "
          f"{drawn.seed} (the same seed over the same records draws the same sample).", "ok")
    return redirect(url_for("staff_recert.audit_page", f_sample_id=drawn.sample_id))


def _record(record_id: str) -> cpd.CpdRecord:
    if not ID_RE.match(record_id):
        abort(404)
    try:
        return cpd.get(state().ctx, record_id)
    except NotFound:
        abort(404)


@bp.get("/cpd/<record_id>")
@require_role(*AUDIT_VIEW)
def record_page(record_id: str) -> ResponseReturnValue:
    """One CPD record: the activity, its evidence, its audit so far, and the verdict form."""
    record = _record(record_id)
    cert = held(state().ctx, record.certificate_id).certificate
    return render_template("staff/recertification/record.html", record=record, cert=cert,
                           may_audit=may_do("recert.audit"))


@bp.get("/cpd/<record_id>/evidence")
@require_role(*AUDIT_VIEW)
def evidence_file(record_id: str) -> ResponseReturnValue:
    """``recert cpd evidence``: the document (the read audited), as an attachment that runs nothing."""
    record = _record(record_id)
    try:
        found, data = cpd.evidence(state().ctx, registry_actor(), record.record_id)
    except NotFound:
        abort(404)
    except InvigilError as exc:
        return refused("Evidence", str(exc), 403, back=url_for("staff_recert.record_page", record_id=record_id))
    response = Response(data, mimetype=found.evidence_media_type or "application/octet-stream")
    name = "".join(ch for ch in (found.evidence_filename or "evidence") if ch.isalnum() or ch in "._-") or "evidence"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@bp.post("/cpd/<record_id>/audit")
@require_role(AUDITOR)
def audit_record(record_id: str) -> ResponseReturnValue:
    """``recert audit RECORD --verdict verified|rejected --reason --by``."""
    record = _record(record_id)
    back = url_for("staff_recert.record_page", record_id=record.record_id)
    verdict = request.form.get("verdict", "")
    if verdict not in cpd.VERDICTS:
        abort(400)
    reason = text_field("reason", cpd.MAX_DESCRIPTION)
    try:
        done = cpd.audit(state().ctx, registry_actor(), record.record_id, verdict, reason)
    except InvigilError as exc:
        return refused("Verdict refused", str(exc), 403 if isinstance(exc, Forbidden) else 422, back=back)
    flash(f"CPD record {done.record_id} {done.audit_status}.", "ok")
    return redirect(back)


# --- standing and renewal ---------------------------------------------------------------------------

@bp.get("/standing/<certificate_id>")
@require_role(*STANDING_VIEW)
def standing_page(certificate_id: str) -> ResponseReturnValue:
    """``recert status``: credits by category against the rule, the re-examination, the renew form."""
    ctx = state().ctx
    cert = CertificateRegistry(ctx).find(certificate_id) if ID_RE.match(certificate_id) else None
    if cert is None:
        abort(404)
    found = held(ctx, cert.certificate_id)
    try:
        now = renewal.standing(ctx, cert.certificate_id)
    except NoRules as exc:
        now, no_rules = None, str(exc)
    else:
        no_rules = ""
    return render_template("staff/recertification/standing.html", cert=cert, rules=found.rules, now=now,
                           no_rules=no_rules, records=cpd.records_of(ctx, cert.certificate_id),
                           renewals=renewal.renewals_of(ctx, cert.certificate_id), may_renew=may_do("recert.renew"))


@bp.post("/standing/<certificate_id>/renew")
@require_role(*RENEW)
def renew(certificate_id: str) -> ResponseReturnValue:
    """``recert renew CERT --by``: refused unless the rules are met, and to involved staff."""
    if not ID_RE.match(certificate_id):
        abort(404)
    back = url_for("staff_recert.standing_page", certificate_id=certificate_id)
    try:
        done = renewal.renew(state().ctx, certificate_id, actor())
    except NotFound:
        abort(404)
    except InvigilError as exc:
        return refused("Renewal refused", str(exc), 403 if isinstance(exc, Forbidden) else 422, back=back)
    flash(f"Certificate {done.certificate_id} renewed until {done.new_valid_until[:10]} (renewal {done.renewal_id}).",
          "ok")
    return redirect(back)
