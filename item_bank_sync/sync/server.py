"""Serving the sync API (``python -m item_bank_sync serve``): waitress, with TLS in front of it.

:class:`SyncServer` runs :func:`item_bank_sync.sync.api.create_app` on the central body's one
listener class (:mod:`item_bank_sync.sync.listener`: waitress behind an in-process front,
:mod:`item_bank_sync.sync.tls_front`, which says why waitress cannot do TLS itself and how the
front keeps slow clients from holding the slots) with the API's limits, relaying to waitress on
a private Unix socket: TLS with the self-signed certificate centres pin (:mod:`item_bank_sync.sync.tls_cert`), or plain
TCP in the development mode.
"""

from __future__ import annotations

import signal
import ssl
import threading
from pathlib import Path
from collections.abc import Callable

from flask import Flask

from exam_core.sync_wire import UPLOAD_MAX_BYTES
from item_bank_sync.sync.api import create_app
from item_bank_sync.sync.listener import Listener, ListenerSettings, server_tls_context
from item_bank_sync.sync.tls_cert import ensure_tls_certificate
from item_bank_sync.sync.tls_front import FrontLimits
from item_bank_sync.sync.limits import ADJUSTMENTS, CONNECTION_LIMIT, FRONT_LIMITS, HEADER_MAX_BYTES
from item_bank_sync.sync.workers import STOP_GRACE_SECONDS, WorkerServer, check_can_share


class SyncServer(Listener):
    """The sync API: a :class:`~item_bank_sync.sync.listener.Listener` with the API's settings
    (``limits`` for tests that shorten the front's times).

    Why waitress rather than Werkzeug's development server: see :mod:`exam_core.wsgi_server`
    (which also owns the stop sequence). Every upload body is held in memory (``inbuf_overflow``
    above the batch limit), never spooled to a temporary file: batches carry envelopes whose headers
    name candidates' attempts. That bounds memory at about
    ``CONNECTION_LIMIT`` x ``UPLOAD_MAX_BYTES`` in the worst case. waitress reads a whole body before
    the app runs, so the body limit, not authentication, is what bounds an anonymous upload.
    Package downloads stream from their files (``wsgi.file_wrapper``), never copied to a buffer.
    No peer header: centres are authenticated by their keys, not limited by address.
    """

    def __init__(self, app: Flask, host: str, port: int, ssl_context: ssl.SSLContext | None = None,
                 limits: FrontLimits = FRONT_LIMITS) -> None:
        super().__init__(app, host, port, ssl_context, ListenerSettings("sync", ADJUSTMENTS, limits))


def tls_context(data_dir: Path) -> tuple[ssl.SSLContext, str]:
    """The server TLS context over the sync certificate (made at first use) and its fingerprint."""
    cert, key, fingerprint = ensure_tls_certificate(data_dir)
    return server_tls_context(cert, key), fingerprint


def serve(data_dir: Path, host: str, port: int, insecure_dev: bool, on_ready: Callable[[str], None],
          db_url: str | None = None, workers: int = 1) -> None:
    """Run the API until SIGTERM or Ctrl-C (HTTPS unless ``insecure_dev``): in this process on
    waitress, or with ``workers`` above 1 in that many processes behind the front
    (:mod:`item_bank_sync.sync.workers`; PostgreSQL only). Both stop gracefully on SIGTERM."""
    check_can_share(workers, db_url)
    context, fingerprint = (None, "") if insecure_dev else tls_context(data_dir)
    server: SyncServer | WorkerServer
    if workers > 1:
        limits = FrontLimits(max_connections=CONNECTION_LIMIT * workers, head_max_bytes=2 * HEADER_MAX_BYTES,
                             body_max_bytes=UPLOAD_MAX_BYTES)
        server = WorkerServer(data_dir, db_url, workers, host, port, context, limits)
    else:
        server = SyncServer(create_app(data_dir, db_url=db_url), host, port, context)
    where = (f"http://{host}:{server.server_port} (INSECURE: development only, no TLS)" if insecure_dev
             else f"https://{host}:{server.server_port} (TLS fingerprint sha256 {fingerprint})")
    on_ready(where + (f", {workers} worker processes" if workers > 1 else ""))
    _run_until_signalled(server)


def _run_until_signalled(server: SyncServer | WorkerServer) -> None:
    """``serve_forever`` in a thread; SIGTERM or SIGINT on the main thread stop it gracefully."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    runner = threading.Thread(target=server.serve_forever, name="sync-serve", daemon=True)
    runner.start()
    try:
        while runner.is_alive() and not stop.wait(0.5):
            pass
    finally:
        server.shutdown(STOP_GRACE_SECONDS, graceful=True)
        runner.join(STOP_GRACE_SECONDS)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
