"""An asyncio event loop on a daemon thread, driven from synchronous code.

Why: python-socketio's threaded client reads and writes one TLS socket from two threads
(websocket-client), which Python's ``ssl`` sockets do not support; over HTTPS it lost about one
frame in 500 (the call then waited for its timeout) and its ``disconnect()`` could wait for a
whole ping interval. The asyncio client (``socketio.AsyncClient`` on aiohttp) does all socket I/O
on one thread and lost none in the same measurement. Kiosks and simulated kiosks keep their
straight-line synchronous logic and hand each network step to this loop, always with a timeout.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any
from collections.abc import Coroutine


class LoopThread:
    """One event loop running forever on its own daemon thread (it never keeps a process alive)."""

    def __init__(self, name: str = "aioloop") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True, name=name)
        self._thread.start()

    def submit(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        """Schedule ``coro`` on the loop; cancelling the returned future cancels the coroutine."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float | None = 120) -> Any:
        """Wait for ``coro``'s result; on timeout it is cancelled (nothing lingers on the loop)."""
        future = self.submit(coro)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    def stop(self, timeout: float = 2.0) -> bool:
        """Stop the loop and wait up to ``timeout`` for its thread; True when it has ended.

        Tasks still pending are abandoned (the loop is not closed while one might still run)."""
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        ended = not self._thread.is_alive()
        if ended and not self.loop.is_closed():
            self.loop.close()
        return ended
