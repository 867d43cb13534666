"""The sync API (``python -m item_bank_sync serve``): where test centres fetch packages and hand in envelopes.

Endpoints (every one authenticated by :mod:`item_bank_sync.sync_auth`):

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
(too large; a body over ``BATCH_MAX_BYTES`` is cut off by waitress with its own plain 413).
Nothing of a request body is logged.

Served by waitress (:class:`SyncServer`); TLS by an in-process terminator in front of it
(:mod:`item_bank_sync.tls_front`, which says why waitress cannot do TLS itself).
"""

from __future__ import annotations

import base64
import binascii
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from flask import Flask, Response, g, jsonify, request, send_file

from exam_core import limits, signing
from exam_core.errors import InvigilError, MalformedError, TooLargeError
from exam_core.jsonio import format_time, loads_strict, utc_now
from item_bank_sync.trust import kiosk_revocations
from item_bank_sync.sync_store import SyncStore
from item_bank_sync.trust.identity import CentralKeys
from item_bank_sync.results.intake import EnvelopeMeta
from item_bank_sync.sync_auth import AuthError, RequestVerifier

if TYPE_CHECKING:
    import ssl

PACKAGE_LIST_PURPOSE = "sync-package-list"
#: An upload batch as received: several envelopes in base64, below the envelope limit each.
BATCH_MAX_BYTES = 64 * limits.MIB
BATCH_MAX_ENVELOPES = 500
#: Request line and headers (the signed-request headers are a few hundred bytes).
HEADER_MAX_BYTES = 16 * limits.KIB
#: Worker threads (intake is CPU and fsync bound), open connections, and seconds a connection may idle.
SERVER_THREADS = 8
CONNECTION_LIMIT = 32
IDLE_SECONDS = 60


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
            upload = parse_upload(request.get_data(cache=True))
            intake = store.intake()
            recorded = intake.record_kiosk_revocations(g.centre.centre_id, upload.kiosk_revocations)
        except InvigilError as exc:
            return jsonify(error=str(exc)), 400
        results = [intake.receive(data, g.centre.centre_id, meta) for data, meta in upload.envelopes]
        return jsonify(results=[r.to_dict() for r in results], kiosk_revocations_recorded=recorded)

    return app


@dataclass(frozen=True)
class Upload:
    """An upload body (or a bundle's content) as validated at the boundary."""

    envelopes: list[tuple[bytes, EnvelopeMeta]]
    kiosk_revocations: tuple[bytes, ...] = ()


def parse_upload(body: bytes) -> Upload:
    """``{"envelopes": [{"envelope": b64, "proctors", "incidents", "journal_heads"}, ...],
    "kiosk_revocations": [b64, ...]?}``, strictly: 1 to ``BATCH_MAX_ENVELOPES`` envelopes, or none
    when the body carries revocations."""
    doc = loads_strict(body, max_bytes=BATCH_MAX_BYTES)
    if not isinstance(doc, dict) or "envelopes" not in doc or set(doc) - {"envelopes", "kiosk_revocations"} \
            or not isinstance(doc["envelopes"], list):
        raise MalformedError("body must be {\"envelopes\": [...], \"kiosk_revocations\"?: [...]}")
    revocations = kiosk_revocations.parse_documents(doc.get("kiosk_revocations", []))
    if not (0 if revocations else 1) <= len(doc["envelopes"]) <= BATCH_MAX_ENVELOPES:
        raise TooLargeError(f"a batch holds 1 to {BATCH_MAX_ENVELOPES} envelopes (0 with kiosk revocations)")
    return Upload(_envelope_entries(doc["envelopes"]), revocations)


def _envelope_entries(entries: list[Any]) -> list[tuple[bytes, EnvelopeMeta]]:
    out = []
    for index, entry in enumerate(entries):
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


class SyncServer:
    """The sync API on waitress: plain HTTP on ``(host, port)``, or HTTPS there through a
    :class:`item_bank_sync.tls_front.TlsFront` relaying to waitress on a private Unix socket.

    Why waitress rather than Werkzeug's development server: a fixed pool of worker threads
    instead of a thread per request, bounded connections, idle time-outs, request size limits
    enforced while reading, and no request line or traceback in its output. Every upload body is
    held in memory (``inbuf_overflow`` above the batch limit), never spooled to a temporary file:
    batches carry envelopes whose headers name candidates' attempts. That bounds memory at about
    ``CONNECTION_LIMIT`` x ``BATCH_MAX_BYTES`` in the worst case. waitress reads a whole body before
    the app runs, so the body limit, not authentication, is what bounds an anonymous upload.
    Package downloads stream from their files (``wsgi.file_wrapper``), never copied to a buffer.

    Same surface as the kiosk's UI server: ``server_port``, ``serve_forever()``, ``shutdown()``.
    """

    def __init__(self, app: Flask, host: str, port: int, ssl_context: ssl.SSLContext | None = None) -> None:
        from waitress.server import create_server

        from item_bank_sync.tls_front import TlsFront

        self._map: dict[int, Any] = {}
        self._stopped = threading.Event()
        self._socket_dir: str | None = None
        self._front: TlsFront | None = None
        adjustments = dict(
            threads=SERVER_THREADS, connection_limit=CONNECTION_LIMIT, channel_timeout=IDLE_SECONDS,
            max_request_body_size=BATCH_MAX_BYTES, max_request_header_size=HEADER_MAX_BYTES,
            inbuf_overflow=BATCH_MAX_BYTES + HEADER_MAX_BYTES, ident="", expose_tracebacks=False,
            clear_untrusted_proxy_headers=True)
        if ssl_context is None:
            self._http = create_server(app, map=self._map, host=host, port=port, **adjustments)
            return
        self._socket_dir = tempfile.mkdtemp(prefix="invigil-sync-")  # 0700, short enough for AF_UNIX
        backend = os.path.join(self._socket_dir, "http.sock")
        self._http = create_server(app, map=self._map, unix_socket=backend, unix_socket_perms="600",
                                   url_scheme="https", **adjustments)
        try:
            self._front = TlsFront(host, port, ssl_context, backend, max_connections=CONNECTION_LIMIT)
        except BaseException:
            self._http.close()
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            raise

    @property
    def server_port(self) -> int:
        return self._front.port if self._front is not None else int(self._http.effective_port)

    def serve_forever(self) -> None:
        try:
            self._http.run()
        finally:
            self._stopped.set()

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop the TLS front, then waitress's listener, connections and workers. Idempotent."""
        from waitress import wasyncore

        if self._front is not None:
            self._front.close(timeout)
        if not self._stopped.is_set():
            self._http.trigger.pull_trigger(lambda: wasyncore.close_all(self._map))
            self._stopped.wait(timeout)
        self._http.task_dispatcher.shutdown(timeout=timeout)
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)


def tls_context(data_dir: Path) -> tuple[ssl.SSLContext, str]:
    """The server TLS context over the sync certificate (made at first use) and its fingerprint."""
    import ssl

    from item_bank_sync.serve_tls import ensure_tls_certificate

    cert, key, fingerprint = ensure_tls_certificate(data_dir)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context, fingerprint


def serve(data_dir: Path, host: str, port: int, insecure_dev: bool, on_ready: Callable[[str], None]) -> None:
    """Run the API on waitress until interrupted (HTTPS unless ``insecure_dev``)."""
    app = create_app(data_dir)
    if insecure_dev:
        server = SyncServer(app, host, port)
        on_ready(f"http://{host}:{server.server_port} (INSECURE: development only, no TLS)")
    else:
        context, fingerprint = tls_context(data_dir)
        server = SyncServer(app, host, port, context)
        on_ready(f"https://{host}:{server.server_port} (TLS fingerprint sha256 {fingerprint})")
    try:
        server.serve_forever()
    finally:
        server.shutdown()
