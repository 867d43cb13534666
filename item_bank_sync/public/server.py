"""The public site's HTTPS listener: the central body's one listener class
(:mod:`item_bank_sync.sync.listener`), with the client's address passed on so the rate limits can
be per address.

Why the same front as ``serve`` (:mod:`item_bank_sync.sync.tls_front`): a public site is exactly
where slow-header clients and handshake floods come from, and the front's deadlines and
per-address connection cap already answer them. The front relays bytes to waitress on a Unix
socket, so waitress never sees who is connected; its peer hook
(:class:`~item_bank_sync.sync.tls_front.PeerHeader`) therefore writes the connection's address
into the first request head (``X-Invigil-Peer: SECRET ADDRESS``, any copy the client sent removed)
with ``Connection: close``, so waitress serves one request per connection, and the app refuses a
request whose header does not carry this process's ``SECRET``. Public lookups are single GETs, so
one TLS handshake per request costs little.
"""

from __future__ import annotations

import dataclasses
import secrets
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask

from exam_core import limits
from item_bank_sync.context import CentralContext
from item_bank_sync.public.app import PEER_HEADER, create_public_app
from item_bank_sync.sync.listener import Listener, ListenerSettings, server_tls_context
from item_bank_sync.sync.server import tls_context
from item_bank_sync.sync.tls_front import FrontLimits, PeerHeader

HEADER_MAX_BYTES = 8 * limits.KIB
CONNECTION_LIMIT = 64
ADJUSTMENTS: dict[str, Any] = {
    "threads": 4, "connection_limit": CONNECTION_LIMIT, "channel_timeout": 30, "max_request_body_size": 4096,
    "max_request_header_size": HEADER_MAX_BYTES, "ident": "", "expose_tracebacks": False,
    "clear_untrusted_proxy_headers": True}
FRONT_LIMITS = FrontLimits(max_connections=CONNECTION_LIMIT, head_max_bytes=2 * HEADER_MAX_BYTES,
                           body_max_bytes=4096)


def tag_peer(head: bytes, peer: str, secret: str) -> bytes:
    """The request head with ``X-Invigil-Peer: secret peer`` and ``Connection: close`` after the
    request line, and the client's own copies of both headers removed (the front's peer hook,
    :class:`~item_bank_sync.sync.tls_front.PeerHeader`, with this site's header)."""
    return PeerHeader(PEER_HEADER, secret).tag(head, peer)


class PublicServer(Listener):
    """The public app: a :class:`~item_bank_sync.sync.listener.Listener` with the public settings
    and the front's peer header (the rate limits are per address)."""

    def __init__(self, app: Flask, host: str, port: int, ssl_context: ssl.SSLContext | None, secret: str,
                 body_bytes: int = FRONT_LIMITS.body_max_bytes) -> None:
        """``body_bytes``: the largest request body (the portal's evidence uploads need more than a
        lookup's 4 KiB; the app still holds each request to its own limit by sender)."""
        settings = ListenerSettings("public", {**ADJUSTMENTS, "max_request_body_size": body_bytes},
                                    dataclasses.replace(FRONT_LIMITS, body_max_bytes=body_bytes),
                                    PeerHeader(PEER_HEADER, secret))
        super().__init__(app, host, port, ssl_context, settings)


def public_tls_context(ctx: CentralContext, cert: Path | None, key: Path | None) -> ssl.SSLContext:
    """TLS over the given certificate (in production one a public CA issued for the site's name,
    which employers' browsers trust), else the body's own self-signed one (development, tests)."""
    if cert is None or key is None:
        return tls_context(Path(ctx.data_dir))[0]
    return server_tls_context(cert, key)


def serve_public(ctx: CentralContext, host: str, port: int, insecure_dev: bool,
                 on_ready: Callable[[str], None], cert: Path | None = None, key: Path | None = None,
                 extend: Callable[[Flask], int] | None = None) -> None:
    """Run the public site until interrupted (HTTPS unless ``insecure_dev``). ``extend`` adds pages
    to the app (the candidate portal) and returns the largest request body they take."""
    secret = secrets.token_hex(16)
    app = create_public_app(ctx, peer_secret=secret)
    body_bytes = extend(app) if extend is not None else FRONT_LIMITS.body_max_bytes
    context = None if insecure_dev else public_tls_context(ctx, cert, key)
    server = PublicServer(app, host, port, context, secret, body_bytes=body_bytes)
    scheme = "http" if insecure_dev else "https"
    on_ready(f"{scheme}://{host}:{server.server_port}" + (" (INSECURE: development only, no TLS)" if insecure_dev
                                                          else ""))
    try:
        server.serve_forever()
    finally:
        server.shutdown()
