"""A proctor's ``/proctor`` socket for tests and the demo, on python-socketio's asyncio client."""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

import socketio

from exam_core.aioloop import LoopThread


class ProctorSocket:
    """A proctor's ``/proctor`` socket for tests and the demo: the synchronous surface of
    ``socketio.Client`` they use, on python-socketio's asyncio client in a background loop.

    Why not ``socketio.Client`` itself: its threaded websocket transport loses about one frame in
    a few hundred over TLS (measured against a bare relay too), and a lost reply made an action
    call time out after 30 s now and then. The asyncio client lost none (as in the kiosk link).
    """

    def __init__(self, reconnection: bool = False) -> None:
        self._loop = LoopThread("proctor-socket")
        self._client = socketio.AsyncClient(ssl_verify=False, reconnection=reconnection)

    @property
    def connected(self) -> bool:
        return self._client.connected

    def on(self, event: str, handler: Callable[..., Any], namespace: str | None = None) -> None:
        self._client.on(event, handler, namespace=namespace)

    def connect(self, url: str, **kwargs: Any) -> None:
        self._loop.run(self._client.connect(url, **kwargs), timeout=60)

    def call(self, event: str, data: Any = None, namespace: str | None = None, timeout: float = 60) -> Any:
        return self._loop.run(self._client.call(event, data, namespace=namespace, timeout=timeout), timeout + 5)

    def emit(self, event: str, data: Any = None, namespace: str | None = None) -> None:
        self._loop.run(self._client.emit(event, data, namespace=namespace), timeout=30)

    def disconnect(self) -> None:
        try:
            self._loop.run(self._client.disconnect(), timeout=10)
        finally:
            self._loop.stop()
