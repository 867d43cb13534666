"""One server class for every listener of the central body: a WSGI app on waitress behind the TLS front.

The central body has three listeners, each with its own app, network and limits: the sync API
(``serve``, centres), the staff application (``web``, the body's own people) and the public site
with the candidate portal (``public``, anyone). Each is the same machine: waitress on a private
Unix socket in a fresh 0700 directory, and :class:`~item_bank_sync.sync.tls_front.TlsFront`
accepting TLS (or plain TCP in development) and relaying to it under its deadlines and slots
(see :mod:`item_bank_sync.sync.tls_front` for why). They differ only in settings: waitress's
adjustments, the front's limits and whether the front writes the client's address into the
request (:class:`~item_bank_sync.sync.tls_front.PeerHeader`: waitress on a Unix socket never sees
who connects, so the apps that limit or back off per address need it).

Why one class: three near-copies had drifted (only the sync API could stop gracefully) and every
fix to the start-up clean-up or the stop order had to be made three times.
``sync.workers.WorkerServer`` is the one listener that is not this class: its backends are
processes it supervises, but it uses the same front.
"""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile
from dataclasses import dataclass
from typing import Any

from exam_core.wsgi_server import WsgiApp, WsgiServer
from item_bank_sync.sync.tls_front import FrontLimits, PeerHeader, TlsFront


@dataclass(frozen=True)
class ListenerSettings:
    """What distinguishes one listener: ``name`` (prefix of its socket directory, for an operator
    reading ``/tmp``), waitress's ``adjustments``, the front's ``limits``, and ``peer_header``
    (None: the app is not told the client's address)."""

    name: str
    adjustments: dict[str, Any]
    limits: FrontLimits
    peer_header: PeerHeader | None = None


class Listener:
    """``app`` on waitress (private Unix socket) behind a TLS front on ``(host, port)`` (HTTPS, or
    plain HTTP without ``ssl_context``), as ``settings`` say.

    Same surface as the kiosk's UI server: ``server_port``, ``serve_forever()``, ``shutdown()``.
    """

    def __init__(self, app: WsgiApp, host: str, port: int, ssl_context: ssl.SSLContext | None,
                 settings: ListenerSettings) -> None:
        self.settings = settings
        self._socket_dir = tempfile.mkdtemp(prefix=f"invigil-{settings.name}-")  # 0700, short enough for AF_UNIX
        backend = os.path.join(self._socket_dir, "http.sock")
        try:
            self._http = WsgiServer(app, unix_socket=backend, unix_socket_perms="600",
                                    url_scheme="https" if ssl_context is not None else "http",
                                    **settings.adjustments)
        except BaseException:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            raise
        try:
            self._front = TlsFront(host, port, ssl_context, backend, limits=settings.limits,
                                   peer_header=settings.peer_header)
        except BaseException:
            self._http.close()
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            raise

    @property
    def server_port(self) -> int:
        return self._front.port

    def serve_forever(self) -> None:
        self._http.serve_forever()

    def shutdown(self, timeout: float = 5.0, graceful: bool = False) -> None:
        """Stop the front, then waitress's listener, connections and workers. Idempotent.
        ``graceful``: first stop accepting and let open connections end, up to ``timeout``."""
        if graceful:
            self._front.drain(timeout)
        self._front.close(timeout)
        self._http.shutdown(timeout)
        shutil.rmtree(self._socket_dir, ignore_errors=True)


def server_tls_context(cert: str | os.PathLike[str], key: str | os.PathLike[str]) -> ssl.SSLContext:
    """A server TLS context (TLS 1.2 at least) over one certificate and key: every listener's."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


__all__ = ["Listener", "ListenerSettings", "server_tls_context"]
