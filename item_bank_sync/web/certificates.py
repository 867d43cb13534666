"""Certificate pages (issue 17, items 2 and 4): find a certificate, its page, and the status actions.

* Find: every certificate in one server-side table (:mod:`item_bank_sync.web.tables`), filtered by
  id, holder name or the holder's e-mail (the person record a booking tied the holder to), paged in
  the database. Staff only: the public site never lists holders.
* A certificate: holder, scheme, scope, dates, status as of now with its whole history, the current
  credential (the VC-JWT, as a file) and the printable PDF.
* Status actions (ISO/IEC 17024 9.5, 9.6): suspend (reason, deadline), restore, withdraw, reduce
  scope, each a form calling the :class:`CertificateRegistry` method its CLI command calls
  (``certificates suspend|restore|withdraw|reduce-scope ID --by --reason``) with the signed-in
  person as ``by``: the same impartiality check (the proctor, markers and adjudicators of the
  holder's attempt, and a declared conflict of interest, are refused with the service's reason),
  the same history row and the same audit entry. The public site computes its status lists from
  the registry at each request, so an action shows there at once.

Before the buttons the page says when the signed-in person may not act (what they did on the
attempt, or their declaration), as the decision page does; the service refuses on POST anyway.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import case, literal

from exam_core.errors import InvigilError
from exam_core.timestamps import format_time, parse_time, utc_now
from item_bank_sync.certificates.pdf import certificate_pdf
from item_bank_sync.certificates.registry import Certificate, CertificateRegistry
from item_bank_sync.certificates.schema import certificates
from item_bank_sync.registry.conflicts import Declaration, list_declarations
from item_bank_sync.registry.errors import Forbidden
from item_bank_sync.registry.schema import persons
from item_bank_sync.results.decisions import roles_on_attempt
from item_bank_sync.sittings.impartiality import staff
from item_bank_sync.web.access import ADMIN, DECISION_MAKER, REGISTRAR, may_do, require_role, state
from item_bank_sync.web.formfields import ID_RE, actor, paged, refused, shown_time, spec_select, text_field
from item_bank_sync.web.tables import Col, TableSpec

bp = Blueprint("staff_certificates", __name__, url_prefix="/certificates")
#: Who finds and reads certificates (personal data; the auditor too, read-only).
VIEW = (DECISION_MAKER, REGISTRAR, ADMIN)
#: Who takes status decisions (``staff/duties.py``: certificates.suspend ... reduce-scope).
DECIDE = (DECISION_MAKER, ADMIN)
MAX_REASON = 2000
_C, _P = certificates.c, persons.c


def _state_expr(now: str) -> Any:
    """The status as of ``now`` in SQL, the way :func:`~item_bank_sync.certificates.registry.state_of`
    computes it (withdrawn, suspended and expired first, then the date, then the scope)."""
    return case((_C.status.in_(("withdrawn", "suspended", "expired")), _C.status),
                (_C.valid_until <= literal(now), "expired"), (_C.scope_reduced == 1, "scope reduced"),
                else_="valid")


def _spec(now: str) -> TableSpec:
    """The certificate table as of ``now`` (built per request: the state depends on the time)."""
    return TableSpec("certificates", (
        Col("certificate_id", "Certificate", _C.certificate_id, filter="text",
            link=lambda r: url_for("staff_certificates.certificate_page", certificate_id=r.certificate_id)),
        Col("holder_name", "Holder", _C.holder_name, filter="text"),
        Col("email", "Holder's e-mail", _P.email, filter="text"),
        Col("scheme_id", "Scheme", _C.scheme_id, filter="exact"),
        Col("state", "Status now", _state_expr(now), filter="exact"),
        Col("valid_until", "Valid until", _C.valid_until, show=shown_time)),
        key=(_C.certificate_id,), default_sort="valid_until")


@bp.get("")
@require_role(*VIEW)
def search_page() -> ResponseReturnValue:
    """Find a certificate by id, holder name or e-mail (filters of the table), paged."""
    spec = _spec(format_time(utc_now()))
    query = spec_select(spec).select_from(
        certificates.outerjoin(persons, _P.person_id == _C.person_id))
    page = paged(state().ctx.open_bank_db(), spec, "staff_certificates.search_page", query)
    return render_template("staff/certificates/search.html", page=page)


def _registry() -> CertificateRegistry:
    return CertificateRegistry(state().ctx)


def _found(certificate_id: str) -> Certificate:
    """The certificate, or 404 (a malformed id is never looked up)."""
    cert = _registry().find(certificate_id) if ID_RE.match(certificate_id) else None
    if cert is None:
        abort(404)
    return cert


def _declared(cert: Certificate) -> list[Declaration]:
    """The signed-in person's active declarations about the holder (none without a person record)."""
    if cert.person_id is None:
        return []
    try:
        return list_declarations(state().ctx, staff(actor(), DECISION_MAKER), person_id=cert.person_id,
                                 active_only=True)
    except Forbidden:
        return []


@bp.get("/<certificate_id>")
@require_role(*VIEW)
def certificate_page(certificate_id: str) -> ResponseReturnValue:
    """One certificate: holder, scheme, scope, dates, status and history; downloads; the action forms."""
    cert = _found(certificate_id)
    registry = _registry()
    history = [{**h, "scope": scope_of(h["detail"])} for h in registry.history(cert.certificate_id)]
    return render_template("staff/certificates/certificate.html", cert=cert, history=history,
        verify_url=registry.verify_url(cert.certificate_id),
        involved=roles_on_attempt(state().ctx.open_results_db(), cert.attempt_id, actor()),
        declared=_declared(cert), may_act=may_do("certificates.suspend"),
        default_deadline=format_time(utc_now()).split("T")[0])


@bp.get("/<certificate_id>/credential.jwt")
@require_role(*VIEW)
def credential_file(certificate_id: str) -> ResponseReturnValue:
    """The current credential (VC-JWT) as a file: what the holder shares with a verifier."""
    cert = _found(certificate_id)
    if not cert.jwt:
        abort(404)
    response = Response(cert.jwt, mimetype="application/vc+jwt")
    response.headers["Content-Disposition"] = f'attachment; filename="{cert.certificate_id}.jwt"'
    return response


@bp.get("/<certificate_id>/certificate.pdf")
@require_role(*VIEW)
def pdf_file(certificate_id: str) -> ResponseReturnValue:
    """``certificates pdf ID --out FILE``: the printable certificate with its QR code, as a download."""
    cert = _found(certificate_id)
    data = certificate_pdf(cert, state().body_name, _registry().verify_url(cert.certificate_id))
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{cert.certificate_id}.pdf"'
    return response


def _deadline() -> datetime:
    """The suspension deadline field (a date: the end of that day, UTC); 400 when malformed."""
    raw = text_field("until", 40)
    try:
        return parse_time(raw if "T" in raw else f"{raw}T23:59:59Z", "until")
    except InvigilError:
        abort(400)


def _acted(certificate_id: str, title: str, act: Any) -> ResponseReturnValue:
    """Run one status action; its refusal (impartiality, conflict, wrong status) as a page with the
    service's reason, else back to the certificate with what was done."""
    back = url_for("staff_certificates.certificate_page", certificate_id=certificate_id)
    try:
        done: Certificate = act()
    except Forbidden as exc:
        return refused(title, str(exc), 403, back=back)
    except InvigilError as exc:
        return refused(title, str(exc), back=back)
    flash(f"Certificate {done.certificate_id} is now {done.state}.", "ok")
    return redirect(back)


@bp.post("/<certificate_id>/suspend")
@require_role(*DECIDE)
def suspend(certificate_id: str) -> ResponseReturnValue:
    """``certificates suspend ID --by --reason --until``."""
    cert = _found(certificate_id)
    reason, until = text_field("reason", MAX_REASON), _deadline()
    return _acted(cert.certificate_id, "Suspension refused",
                  lambda: _registry().suspend(cert.certificate_id, actor(), reason, until))


@bp.post("/<certificate_id>/restore")
@require_role(*DECIDE)
def restore(certificate_id: str) -> ResponseReturnValue:
    """``certificates restore ID --by --reason``."""
    return _reasoned(certificate_id, "restore", "Restoration refused")


@bp.post("/<certificate_id>/withdraw")
@require_role(*DECIDE)
def withdraw(certificate_id: str) -> ResponseReturnValue:
    """``certificates withdraw ID --by --reason``."""
    return _reasoned(certificate_id, "withdraw", "Withdrawal refused")


def _reasoned(certificate_id: str, action: str, title: str) -> ResponseReturnValue:
    """An action that takes only a reason (restore, withdraw), as its CLI command does."""
    cert = _found(certificate_id)
    reason = text_field("reason", MAX_REASON)
    method = getattr(_registry(), action)
    return _acted(cert.certificate_id, title, lambda: method(cert.certificate_id, actor(), reason))


@bp.post("/<certificate_id>/reduce-scope")
@require_role(*DECIDE)
def reduce_scope(certificate_id: str) -> ResponseReturnValue:
    """``certificates reduce-scope ID --by --reason --keep PART ...``: the parts ticked stay."""
    cert = _found(certificate_id)
    reason = text_field("reason", MAX_REASON)
    keep = request.form.getlist("keep")
    if any(part not in cert.scope for part in keep):
        abort(400)
    return _acted(cert.certificate_id, "Scope reduction refused",
                  lambda: _registry().reduce_scope(cert.certificate_id, actor(), reason, keep))


def scope_of(detail: dict[str, Any]) -> str:
    """A history row's scope change in words."""
    raw = detail.get("scope_json")
    return ", ".join(json.loads(raw)) if isinstance(raw, str) else ""
