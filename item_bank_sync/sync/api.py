"""The sync API (``python -m item_bank_sync serve``): where test centres fetch packages and hand in envelopes.

Endpoints (every one authenticated by :mod:`item_bank_sync.sync.auth`; the paths are
``exam_core.sync_wire``'s):

``GET  PACKAGES_PATH``                a signed :class:`~exam_core.sync_wire.PackageList` of the
                                      calling centre's packages, bound to the request's nonce so an
                                      old list cannot be replayed to the centre.
``GET  PACKAGE_ROUTE``                the package bytes; HTTP ``Range`` lets a centre resume.
``POST ENVELOPES_PATH``               an :class:`~exam_core.sync_wire.Upload` of sealed envelopes;
                                      each is taken in by :class:`item_bank_sync.results.intake.Intake`
                                      and answered with a signed receipt. Idempotent: the same
                                      envelope again gets the same receipt bytes. The upload's
                                      kiosk revocations (centre-signed) are verified and recorded
                                      first, all or none; an upload may then hold no envelope at all.
``GET  REVOCATIONS_PATH``             the current signed revocation list (empty list if none).
``GET  roster_wire.ROSTERS_PATH``     the signed rosters of the calling centre's sessions
                                      (``sessions publish``; :mod:`exam_core.roster_wire`).

Errors are JSON ``{"error": reason}`` with 400 (malformed), 401 (not authenticated), 404, 413
(too large; a body over ``sync_wire.UPLOAD_MAX_BYTES`` is cut off by waitress with its own plain
413). Nothing of a request body is logged. Paths, the package list, the upload body and the answer
are ``exam_core.sync_wire`` (the console builds and reads them with the same module, and air-gap
bundles carry the same upload); the app is served by :mod:`item_bank_sync.sync.server`.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any
from collections.abc import Callable

from flask import Flask, Response, g, jsonify, request, send_file

from exam_core import roster_wire, sync_wire
from exam_core.errors import InvigilError
from exam_core.sync_wire import UPLOAD_MAX_BYTES, PackageList, PackageListEntry, UploadAnswer
from exam_core.timestamps import format_time, utc_now
from item_bank_sync.sync.auth import AuthError, RequestVerifier
from item_bank_sync.sync.store import SyncStore
from item_bank_sync.trust.identity import CentralKeys


def create_app(data_dir: Path, keys: CentralKeys | None = None, clock: Callable[[], float] | None = None,
               db_url: str | None = None) -> Flask:
    """The Flask app of one central body's data directory (keys loaded once, databases per thread)."""
    store = SyncStore(Path(data_dir), keys, db_url)
    app = Flask("item_bank_sync.sync.api")
    app.config["MAX_CONTENT_LENGTH"] = UPLOAD_MAX_BYTES
    app.extensions["invigil_sync"] = store
    local = threading.local()

    def verifier() -> RequestVerifier:
        if getattr(local, "verifier", None) is None:
            local.verifier = RequestVerifier(store.results_db(), store.centre_certificate, clock=clock or time.time)
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
        return jsonify(error=f"request body over {UPLOAD_MAX_BYTES} bytes"), 413

    @app.errorhandler(404)
    def not_found(_exc: Exception) -> Any:
        return jsonify(error="not found"), 404

    @app.get(sync_wire.PACKAGES_PATH)
    def list_packages() -> Response:
        listed = PackageList(g.centre.centre_id, g.centre.nonce, format_time(utc_now()),
                             tuple(PackageListEntry(**entry) for entry in store.packages_for(g.centre.centre_id)))
        return Response(sync_wire.make_package_list(store.keys.signing, listed), mimetype="application/json")

    @app.get(sync_wire.PACKAGE_ROUTE)
    def download_package(package_id: str) -> Any:
        path = store.package_path(g.centre.centre_id, package_id)
        if path is None:
            return jsonify(error="no such package for this centre"), 404
        return send_file(path, mimetype="application/zip", conditional=True, etag=True,
                         download_name=f"{package_id}.zip")

    @app.get(sync_wire.REVOCATIONS_PATH)
    def revocations() -> Response:
        return Response(store.revocation_list(), mimetype="application/json")

    @app.get(roster_wire.ROSTERS_PATH)
    def rosters() -> Response:
        return Response(roster_wire.roster_list_bytes(store.rosters_for(g.centre.centre_id)),
                        mimetype="application/json")

    @app.post(sync_wire.ENVELOPES_PATH)
    def upload_envelopes() -> Any:
        try:
            upload = sync_wire.parse_upload(request.get_data(cache=True))
            intake = store.intake()
            recorded = intake.record_kiosk_revocations(g.centre.centre_id, upload.kiosk_revocations)
        except InvigilError as exc:
            return jsonify(error=str(exc)), 400
        results = tuple(intake.receive(entry.envelope, g.centre.centre_id, entry.meta) for entry in upload.envelopes)
        return jsonify(UploadAnswer(results, recorded).to_dict())

    return app
