"""What verifiers of the credentials fetch: the issuer's keys, its profile, the status lists.

The status lists are built from the registry and signed at every request (a few milliseconds for
16 KiB), so a suspension is in the list served at the very next request; ``Cache-Control: no-cache``
lets a cache keep a copy only if it asks again each time. The key set changes only on rotation
and may be cached for a few minutes.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, g, jsonify

from exam_core.timestamps import utc_now
from item_bank_sync.certificates.registry import CertificateRegistry
from item_bank_sync.certificates.status_list import PURPOSES, status_list_credential, status_list_jwt

JWKS_MAX_AGE = 300


def _limited() -> None:
    if current_app.extensions["invigil_limits"]["feed"].hit(g.client):
        abort(429)


def _for_any_verifier(response: Response) -> Response:
    """Public data that a verifier's web page on another origin may fetch (CORS and CORP)."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def _registry() -> CertificateRegistry:
    registry: CertificateRegistry = current_app.extensions["invigil_certificates"]
    return registry


def wellknown_blueprint() -> Blueprint:
    bp = Blueprint("wellknown", __name__)

    @bp.get("/.well-known/jwks.json")
    def jwks() -> Any:
        _limited()
        registry = _registry()
        registry.keys.active()               # the first key exists before anyone asks for it
        response = jsonify(registry.keys.jwks())
        response.headers["Cache-Control"] = f"public, max-age={JWKS_MAX_AGE}"
        response.mimetype = "application/jwk-set+json"
        return _for_any_verifier(response)

    @bp.get("/issuer")
    def issuer() -> Any:
        _limited()
        return _for_any_verifier(jsonify(_registry().issuer().profile()))

    @bp.get("/status/<purpose>")
    def status_list(purpose: str) -> Any:
        if purpose not in PURPOSES:
            abort(404)
        _limited()
        registry = _registry()
        credential = status_list_credential(registry.issuer(), purpose, registry.status_indexes(purpose), utc_now())
        response = Response(status_list_jwt(credential, registry.keys.active()), mimetype="application/vc+jwt")
        response.headers["Cache-Control"] = "no-cache, max-age=0"
        return _for_any_verifier(response)

    return bp
