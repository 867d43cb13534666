"""Verification pages and the JSON API: "does this person hold a valid certificate, and for what
scope?" (ISO/IEC 17024 7.2).

By certificate id (typed, or the QR code's link) for anyone; by name only among holders who
consented, and only for the exact name (collapsed whitespace, any case): a search never lists
holders or completes a partial name. The answer says only what verification needs: holder,
scheme and version, scope, dates and state (valid, suspended, withdrawn, expired, scope reduced);
never the reasons, the candidate id or the attempt. Every lookup counts against the address's
rate limit; searches by name against a stricter one.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, current_app, g, jsonify, redirect, render_template, request, url_for

from exam_core.timestamps import format_time, utc_now
from item_bank_sync.certificates.registry import Certificate, CertificateRegistry

ID_RE = re.compile(r"^IC-[A-Z2-7]{4}(?:-[A-Z2-7]{4}){3}$")
MIN_NAME, MAX_NAME = 3, 200
STATE_TEXT = {"valid": "Valid", "suspended": "Suspended: not valid at present", "withdrawn": "Withdrawn: not valid",
              "expired": "Expired: not valid", "scope reduced": "Valid, with a reduced scope"}


def normalise_id(raw: str) -> str | None:
    """The certificate id as printed (upper case, no spaces), or None when it cannot be one."""
    text = "".join(raw.split()).upper()[:40]
    return text if ID_RE.match(text) else None


def public_view(cert: Certificate) -> dict[str, Any]:
    """What a verifier is told about one certificate."""
    return {"certificate_id": cert.certificate_id, "holder": cert.holder_name, "status": cert.state,
            "status_text": STATE_TEXT.get(cert.state, cert.state),
            "scheme": {"id": cert.scheme_id, "version": cert.scheme_version, "title": cert.scheme_title},
            "scope": cert.scope, "valid_from": cert.valid_from, "valid_until": cert.valid_until,
            "suspended_until": cert.suspended_until if cert.state == "suspended" else None,
            "checked_at": format_time(utc_now())}


def _limited(kind: str) -> None:
    wait = current_app.extensions["invigil_limits"][kind].hit(g.client)
    if wait:
        abort(429)


def _registry() -> CertificateRegistry:
    registry: CertificateRegistry = current_app.extensions["invigil_certificates"]
    return registry


def _lookup(raw: str) -> Certificate | None:
    _limited("lookup")
    certificate_id = normalise_id(raw)
    return None if certificate_id is None else _registry().find(certificate_id)


def _search(raw: str) -> list[Certificate] | None:
    """Consenting holders of exactly this name; None when the name is too short or long to search."""
    _limited("search")
    name = " ".join(raw.split())
    if not MIN_NAME <= len(name) <= MAX_NAME:
        return None
    return _registry().by_name(name)


def verify_blueprint() -> Blueprint:
    bp = Blueprint("verify", __name__)

    @bp.get("/")
    def index() -> Any:
        return render_template("index.html")

    @bp.get("/verify")
    def verify_form() -> Any:
        certificate_id = normalise_id(request.args.get("id", ""))
        if certificate_id is None:
            return render_template("index.html", id_error="A certificate id looks like IC-ABCD-EFGH-IJKL-MNOP."), 400
        return redirect(url_for("verify.verify_page", certificate_id=certificate_id), code=303)

    @bp.get("/verify/<certificate_id>")
    def verify_page(certificate_id: str) -> Any:
        cert = _lookup(certificate_id)
        if cert is None:
            return render_template("result.html", cert=None, asked=certificate_id[:40]), 404
        return render_template("result.html", cert=public_view(cert))

    @bp.get("/search")
    def search_page() -> Any:
        name = request.args.get("name", "")
        found = _search(name)
        if found is None:
            return render_template("index.html", name_error=f"Give the holder's full name ({MIN_NAME}-{MAX_NAME} "
                                                            "characters)."), 400
        return render_template("search.html", name=" ".join(name.split()), found=[public_view(c) for c in found])

    @bp.get("/api/v1/certificates/<certificate_id>")
    def verify_api(certificate_id: str) -> Any:
        cert = _lookup(certificate_id)
        if cert is None:
            return jsonify(error="no such certificate"), 404
        return jsonify(public_view(cert))

    @bp.get("/api/v1/search")
    def search_api() -> Any:
        found = _search(request.args.get("name", ""))
        if found is None:
            return jsonify(error=f"name must be {MIN_NAME}-{MAX_NAME} characters"), 400
        return jsonify(certificates=[public_view(c) for c in found])

    return bp
