"""The sync API (``python -m item_bank_sync serve``): where test centres fetch packages and hand in envelopes.

Endpoints (every one authenticated by :mod:`item_bank_sync.sync_auth`):

``GET  /v1/packages``                 a signed list (purpose ``sync-package-list``) of the calling
                                      centre's packages, bound to the request's nonce so an old
                                      list cannot be replayed to the centre.
``GET  /v1/packages/<package_id>``    the package bytes; HTTP ``Range`` lets a centre resume.
``POST /v1/envelopes``                a batch of sealed envelopes; each is taken in by
                                      :class:`item_bank_sync.intake.Intake` and answered with a
                                      signed receipt. Idempotent: the same envelope again gets
                                      the same receipt bytes.
``GET  /v1/revocations``              the current signed revocation list (empty list if none).

Errors are JSON ``{"error": reason}`` with 400 (malformed), 401 (not authenticated), 404, 413
(too large). Nothing of a request body is logged.
"""

from __future__ import annotations

import base64
import binascii
import threading
from pathlib import Path
from typing import Any, Callable

from flask import Flask, Response, g, jsonify, request, send_file

from exam_core import limits, signing
from exam_core.errors import InvigilError, MalformedError, TooLargeError
from exam_core.jsonio import format_time, loads_strict, utc_now
from item_bank_sync.sync_store import CentralKeys, SyncStore
from item_bank_sync.intake import EnvelopeMeta
from item_bank_sync.sync_auth import AuthError, RequestVerifier

PACKAGE_LIST_PURPOSE = "sync-package-list"
#: An upload batch as received: several envelopes in base64, below the envelope limit each.
BATCH_MAX_BYTES = 64 * limits.MIB
BATCH_MAX_ENVELOPES = 500


def create_app(data_dir: Path, keys: CentralKeys | None = None, clock: Callable[[], float] | None = None) -> Flask:
    """The Flask app of one central body's data directory (keys loaded once, databases per thread)."""
    store = SyncStore(Path(data_dir), keys)
    app = Flask("item_bank_sync.serve")
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
            batch = parse_batch(request.get_data(cache=True))
        except InvigilError as exc:
            return jsonify(error=str(exc)), 400
        intake = store.intake()
        results = [intake.receive(data, g.centre.centre_id, meta) for data, meta in batch]
        return jsonify(results=[r.to_dict() for r in results])

    return app


def parse_batch(body: bytes) -> list[tuple[bytes, EnvelopeMeta]]:
    """``{"envelopes": [{"envelope": b64, "proctors": [...], "incidents": [...]}, ...]}``, strictly."""
    doc = loads_strict(body, max_bytes=BATCH_MAX_BYTES)
    if not isinstance(doc, dict) or set(doc) != {"envelopes"} or not isinstance(doc["envelopes"], list):
        raise MalformedError("body must be {\"envelopes\": [...]}")
    if not 1 <= len(doc["envelopes"]) <= BATCH_MAX_ENVELOPES:
        raise TooLargeError(f"a batch holds 1 to {BATCH_MAX_ENVELOPES} envelopes")
    out = []
    for index, entry in enumerate(doc["envelopes"]):
        where = f"envelopes[{index}]"
        if not isinstance(entry, dict) or "envelope" not in entry:
            raise MalformedError("must be an object with an envelope", where)
        try:
            data = base64.b64decode(entry["envelope"], validate=True)
        except (binascii.Error, TypeError):
            raise MalformedError("not base64", f"{where}.envelope") from None
        if len(data) > limits.ENVELOPE_MAX_BYTES:
            raise TooLargeError("envelope too large", where)
        out.append((data, EnvelopeMeta.from_dict({k: v for k, v in entry.items() if k != "envelope"}, where)))
    return out


def serve(data_dir: Path, host: str, port: int, insecure_dev: bool, on_ready: Callable[[str], None]) -> None:
    """Run the API with werkzeug's threaded server (HTTPS unless ``insecure_dev``)."""
    from werkzeug.serving import make_server

    app = create_app(data_dir)
    ssl_context = None
    if not insecure_dev:
        import ssl

        from item_bank_sync.serve_tls import ensure_tls_certificate

        cert, key, fingerprint = ensure_tls_certificate(data_dir)
        ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ssl_context.minimum_version = ssl.TLSVersion.TLSv1_2
        ssl_context.load_cert_chain(cert, key)
        on_ready(f"https://{host}:{port} (TLS fingerprint sha256 {fingerprint})")
    else:
        on_ready(f"http://{host}:{port} (INSECURE: development only, no TLS)")
    server = make_server(host, port, app, threaded=True, ssl_context=ssl_context)
    server.serve_forever()
