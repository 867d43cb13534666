"""One waitress server with a clean stop, for every WSGI application Invigil serves.

Why waitress: a fixed pool of worker threads instead of a thread per request, bounded
connections, idle time-outs, request size limits enforced while reading, real keep-alive, and no
request line or traceback in its output. What it lacks is a way to stop: ``run()`` blocks in its
asyncore loop, and closing its sockets from another thread races that loop, which may be reading
or writing the same channels at that moment. The stop here is therefore sent *through* the loop:
:meth:`WsgiServer.shutdown` asks the loop's own thread (its trigger) to close the listener and
every connection, waits until ``run()`` has returned, then stops the worker threads. Every
server that used waitress repeated that sequence; it lives here once.

Users: the central sync API (``item_bank_sync.sync.server``, on a Unix socket behind its TLS
front, or on TCP) and the kiosk's candidate UI (``kiosk.webapp``, on 127.0.0.1). Each passes its
own waitress adjustments (threads, limits, buffers), since what they guard differs.
"""

from __future__ import annotations

import threading
from typing import Any
from collections.abc import Callable, Iterable

from waitress import wasyncore
from waitress.server import BaseWSGIServer, create_server

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class WsgiServer:
    """A WSGI app on waitress: ``serve_forever()`` in a thread of the caller's, ``shutdown()`` from
    any thread (idempotent), ``server_port`` once built (``port=0`` picks a free one).

    Listens on ``host:port``, or on ``unix_socket`` when given (mode ``unix_socket_perms``, a
    waitress adjustment). ``adjustments`` go to waitress as they are.
    """

    def __init__(self, app: WsgiApp, *, host: str = "127.0.0.1", port: int = 0, unix_socket: str | None = None,
                 **adjustments: Any) -> None:
        self._map: dict[int, Any] = {}
        self._stopped = threading.Event()
        where: dict[str, Any] = {"unix_socket": unix_socket} if unix_socket is not None else {"host": host,
                                                                                              "port": port}
        server = create_server(app, map=self._map, **where, **adjustments)
        if not isinstance(server, BaseWSGIServer):  # only several listen addresses give a MultiSocketServer
            raise TypeError("WsgiServer listens on one address")
        self._server = server

    @property
    def server_port(self) -> int:
        """The TCP port listened on (not meaningful on a Unix socket)."""
        # types-waitress lacks effective_port (BaseWSGIServer.__init__ sets it from getsockname())
        return int(self._server.effective_port)  # type: ignore[attr-defined]

    def serve_forever(self) -> None:
        """Run the server loop until :meth:`shutdown`."""
        try:
            self._server.run()
        finally:
            self._stopped.set()

    def shutdown(self, timeout: float = 5.0) -> None:
        """Close the listener and every connection in the server's own loop, then its workers.
        Idempotent. (For a server whose loop never ran, use :meth:`close`.)"""
        if not self._stopped.is_set():
            # types-waitress types trigger as int; it is a waitress.trigger.trigger, whose
            # pull_trigger(thunk) runs the thunk in the server's own loop
            self._server.trigger.pull_trigger(  # type: ignore[attr-defined]
                lambda: wasyncore.close_all(self._map))
            self._stopped.wait(timeout)
        # types-waitress says int; waitress compares it with time.time() differences (any number)
        self._server.task_dispatcher.shutdown(timeout=timeout)  # type: ignore[arg-type]

    def close(self) -> None:
        """Release a server that never ran (its listening socket and workers), e.g. when what
        was to stand in front of it could not be built."""
        self._server.close()
        self._server.task_dispatcher.shutdown(timeout=0)
