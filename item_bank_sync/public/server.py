"""The public site's HTTPS listener: waitress behind the sync API's TLS front, with the client's
address passed on so the rate limits can be per address.

Why the same front as ``serve`` (:mod:`item_bank_sync.sync.tls_front`): a public site is exactly
where slow-header clients and handshake floods come from, and the front's deadlines and
per-address connection cap already answer them. The front relays bytes to waitress on a Unix
socket, so waitress never sees who is connected; :class:`PeerFront` therefore writes the
connection's address into the first request head (``X-Invigil-Peer: SECRET ADDRESS``, any copy the
client sent removed) with ``Connection: close`` (a WSGI app may not set that hop-by-hop header
itself), so waitress serves one request per connection. ``SECRET`` is random per process and known
only to the front and the app: a request whose header does not carry it (a second request pipelined
on the connection, with an address of the client's choosing) is refused. Public lookups are single
GETs, so one TLS handshake per request costs little.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import secrets
import shutil
import ssl
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask

from exam_core import limits
from exam_core.wsgi_server import WsgiServer
from item_bank_sync.context import CentralContext
from item_bank_sync.public.app import PEER_HEADER, create_public_app
from item_bank_sync.sync.server import tls_context
from item_bank_sync.sync.tls_front import FrontLimits, RequestFramer, TlsFront

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
    request line, and the client's own copies of both headers removed."""
    line_end, end = head.find(b"\r\n"), head.find(b"\r\n\r\n")
    if line_end < 0 or end < 0:
        return head
    replaced = (PEER_HEADER.encode().lower() + b":", b"connection:")
    kept = [h for h in head[line_end + 2:end].split(b"\r\n") if h and not h.lower().startswith(replaced)]
    ours = f"{PEER_HEADER}: {secret} {peer}".encode("ascii", "replace")
    tagged = [head[:line_end], ours, b"Connection: close", *kept]
    return b"\r\n".join(tagged) + b"\r\n" + head[end + 2:]


class PeerFront(TlsFront):
    """The TLS front, writing the client's address into the first request head of each connection."""

    def __init__(self, *args: Any, secret: str, **kwargs: Any) -> None:
        self._secret = secret
        super().__init__(*args, **kwargs)

    async def _first_head(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, framer: RequestFramer,
                          loop: asyncio.AbstractEventLoop) -> bytes:
        head = await super()._first_head(reader, writer, framer, loop)
        peer = writer.get_extra_info("peername")
        return tag_peer(head, str(peer[0]) if isinstance(peer, tuple) and peer else "unknown", self._secret)


class PublicServer:
    """The public app on waitress (Unix socket) behind a :class:`PeerFront` on ``(host, port)``."""

    def __init__(self, app: Flask, host: str, port: int, ssl_context: ssl.SSLContext | None, secret: str,
                 body_bytes: int = FRONT_LIMITS.body_max_bytes) -> None:
        """``body_bytes``: the largest request body (the portal's evidence uploads need more than a
        lookup's 4 KiB; the app still holds each request to its own limit by sender)."""
        self._socket_dir = tempfile.mkdtemp(prefix="invigil-public-")
        backend = os.path.join(self._socket_dir, "http.sock")
        self._http = WsgiServer(app, unix_socket=backend, unix_socket_perms="600",
                                url_scheme="https" if ssl_context is not None else "http",
                                **{**ADJUSTMENTS, "max_request_body_size": body_bytes})
        try:
            self._front = PeerFront(host, port, ssl_context, backend, secret=secret,
                                    limits=dataclasses.replace(FRONT_LIMITS, body_max_bytes=body_bytes))
        except BaseException:
            self._http.close()
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            raise

    @property
    def server_port(self) -> int:
        return self._front.port

    def serve_forever(self) -> None:
        self._http.serve_forever()

    def shutdown(self, timeout: float = 5.0) -> None:
        self._front.close(timeout)
        self._http.shutdown(timeout)
        shutil.rmtree(self._socket_dir, ignore_errors=True)


def public_tls_context(ctx: CentralContext, cert: Path | None, key: Path | None) -> ssl.SSLContext:
    """TLS over the given certificate (in production one a public CA issued for the site's name,
    which employers' browsers trust), else the body's own self-signed one (development, tests)."""
    if cert is None or key is None:
        return tls_context(Path(ctx.data_dir))[0]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


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
