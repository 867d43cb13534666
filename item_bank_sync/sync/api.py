"""The sync API (``python -m item_bank_sync serve``): where test centres fetch packages and hand in envelopes.

Endpoints (every one authenticated by :mod:`item_bank_sync.sync.auth`):

``GET  /v1/packages``                 a signed list (purpose ``sync-package-list``) of the calling
                                      centre's packages, bound to the request's nonce so an old
                                      list cannot be replayed to the centre.
``GET  /v1/packages/<package_id>``    the package bytes; HTTP ``Range`` lets a centre resume.
``POST /v1/envelopes``                a batch of sealed envelopes; each is taken in by
                                      :class:`item_bank_sync.results.intake.Intake` and answered with a
                                      signed receipt. Idempotent: the same envelope again gets
                                      the same receipt bytes. The body's optional
                                      ``kiosk_revocations`` (centre-signed) are verified and
                                      recorded first, all or none; a batch may then hold no
                                      envelope at all.
``GET  /v1/revocations``              the current signed revocation list (empty list if none).

Errors are JSON ``{"error": reason}`` with 400 (malformed), 401 (not authenticated), 404, 413
(too large; a body over ``upload.BATCH_MAX_BYTES`` is cut off by waitress with its own plain 413).
Nothing of a request body is logged. The upload body is read by :mod:`item_bank_sync.sync.upload`
(which air-gap bundles share); the app is served by :mod:`item_bank_sync.sync.server`.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable

from flask import Flask, Response, g, jsonify, request, send_file

from exam_core import signing
from exam_core.errors import InvigilError
from exam_core.jsonio import format_time, utc_now
from item_bank_sync.sync.auth import AuthError, RequestVerifier
from item_bank_sync.sync.store import SyncStore
from item_bank_sync.sync.upload import BATCH_MAX_BYTES, parse_upload
from item_bank_sync.trust.identity import CentralKeys

PACKAGE_LIST_PURPOSE = "sync-package-list"


def create_app(data_dir: Path, keys: CentralKeys | None = None, clock: Callable[[], float] | None = None) -> Flask:
    """The Flask app of one central body's data directory (keys loaded once, databases per thread)."""
    store = SyncStore(Path(data_dir), keys)
    app = Flask("item_bank_sync.sync.api")
    app.config["MAX_CONTENT_LENGTH"] = BATCH_MAX_BYTES
    app.extensions["invigil_sync"] = store
    local = threading.local()

    def verifier() -> RequestVerifier:
        if getattr(local, "verifier", None) is None:
            kwargs = {"clock": clock} if clock else {}
            local.verifier = RequestVerifier(store.results_db(), store.centre_certificate, **kwargs)
        return local.verifier

    @app.before_request
    def authenticate() -> Any:
        try:
            claim = verifier().precheck(request.headers)     # before reading any body
            body = request.get_data(cache=True) if request.method == "POST" else b""
            g.centre = verifier().verify(request.headers, request.method, request.path,
                                         request.query_string.decode("latin-1"), body, claim)
        except AuthError as exc:
            return jsonify(error=exc.reason), 401
        return None

    @app.errorhandler(413)
    def too_large(_exc: Exception) -> Any:
        return jsonify(error=f"request body over {BATCH_MAX_BYTES} bytes"), 413

    @app.errorhandler(404)
    def not_found(_exc: Exception) -> Any:
        return jsonify(error="not found"), 404

    @app.get("/v1/packages")
    def list_packages() -> Response:
        payload = {"centre_id": g.centre.centre_id, "nonce": g.centre.nonce, "at": format_time(utc_now()),
                   "packages": store.packages_for(g.centre.centre_id)}
        doc = signing.make_signed(store.keys.signing, PACKAGE_LIST_PURPOSE, payload)
        return Response(doc, mimetype="application/json")

    @app.get("/v1/packages/<package_id>")
    def download_package(package_id: str) -> Any:
        path = store.package_path(g.centre.centre_id, package_id)
        if path is None:
            return jsonify(error="no such package for this centre"), 404
        return send_file(path, mimetype="application/zip", conditional=True, etag=True,
                         download_name=f"{package_id}.zip")

    @app.get("/v1/revocations")
    def revocations() -> Response:
        return Response(store.revocation_list(), mimetype="application/json")

    @app.post("/v1/envelopes")
    def upload_envelopes() -> Any:
        try:
            upload = parse_upload(request.get_data(cache=True))
            intake = store.intake()
            recorded = intake.record_kiosk_revocations(g.centre.centre_id, upload.kiosk_revocations)
        except InvigilError as exc:
            return jsonify(error=str(exc)), 400
        results = [intake.receive(data, g.centre.centre_id, meta) for data, meta in upload.envelopes]
        return jsonify(results=[r.to_dict() for r in results], kiosk_revocations_recorded=recorded)

    return app
