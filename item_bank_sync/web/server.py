"""Serving the staff application over HTTPS: the central body's one listener class, own settings.

Why its own listener and not the sync API's: the centres' API faces the test centres' networks and
authenticates by certified keys; the staff application faces the body's own people and
authenticates by password and TOTP. Separate ports let a firewall keep each to its own network.

The certificate is the body's own self-signed one (made at first use, the same as ``serve``'s,
``item_bank_sync.sync.tls_cert``) unless ``cert`` and ``key`` name a certificate issued for the
host (browsers of staff then trust it through the organisation's CA).
"""

from __future__ import annotations

import secrets
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask

from exam_core.tls import certificate_fingerprint
from item_bank_sync.context import CentralContext
from item_bank_sync.public.app import PEER_HEADER
from item_bank_sync.sync.listener import Listener, ListenerSettings, server_tls_context
from item_bank_sync.sync.tls_cert import ensure_tls_certificate
from item_bank_sync.sync.tls_front import FrontLimits, PeerHeader
from item_bank_sync.web.app import SIGNED_IN_BODY_BYTES, create_app

HEADER_MAX_BYTES = 16 * 1024
CONNECTION_LIMIT = 64
ADJUSTMENTS: dict[str, Any] = {
    "threads": 8, "connection_limit": CONNECTION_LIMIT, "channel_timeout": 60,
    "max_request_body_size": SIGNED_IN_BODY_BYTES, "max_request_header_size": HEADER_MAX_BYTES,
    "ident": "", "expose_tracebacks": False, "clear_untrusted_proxy_headers": True}
FRONT_LIMITS = FrontLimits(max_connections=CONNECTION_LIMIT, head_max_bytes=2 * HEADER_MAX_BYTES,
                           body_max_bytes=SIGNED_IN_BODY_BYTES)


class WebServer(Listener):
    """The staff app: a :class:`~item_bank_sync.sync.listener.Listener` with the staff settings
    and the front's peer header.

    Why the peer header: waitress on a Unix socket never sees who connects, so the front writes
    the client's address, with a secret known only to it and the app (``PEER_SECRET``), into each
    connection's one request (:class:`~item_bank_sync.sync.tls_front.PeerHeader`). Without it
    every client would be one address, and the sign-in's per-address back-off a lever anyone could
    pull to lock everyone out.
    """

    def __init__(self, app: Flask, host: str, port: int, ssl_context: ssl.SSLContext) -> None:
        peer = PeerHeader(PEER_HEADER, str(app.config["PEER_SECRET"]))
        super().__init__(app, host, port, ssl_context, ListenerSettings("web", ADJUSTMENTS, FRONT_LIMITS, peer))


def web_tls_context(ctx: CentralContext, cert: Path | None = None, key: Path | None = None
                    ) -> tuple[ssl.SSLContext, str]:
    """The TLS context over the given certificate, or the body's own (made at first use)."""
    if cert is None or key is None:
        cert, key, _ = ensure_tls_certificate(ctx.data_dir)
    return server_tls_context(cert, key), certificate_fingerprint(cert)


def make_web_server(ctx: CentralContext, host: str, port: int, cert: Path | None = None,
                    key: Path | None = None, config: dict[str, Any] | None = None) -> tuple[WebServer, str]:
    """A ready (not yet serving) server and the fingerprint of its certificate.

    The app is built first: it refuses a directory ``init`` did not make before the certificate
    (made at first use) would create anything there.
    """
    app = create_app(ctx, config={**(config or {}), "PEER_SECRET": secrets.token_hex(16)})
    context, fingerprint = web_tls_context(ctx, cert, key)
    return WebServer(app, host, port, context), fingerprint


def serve_web(ctx: CentralContext, host: str, port: int, cert: Path | None = None, key: Path | None = None,
              on_ready: Callable[[str], None] = print) -> None:
    """Serve the staff application until interrupted."""
    server, fingerprint = make_web_server(ctx, host, port, cert, key)
    on_ready(f"https://{host}:{server.server_port} (TLS fingerprint sha256 {fingerprint})")
    try:
        server.serve_forever()
    finally:
        server.shutdown()
