"""Group commit for the gevent server: many waiting handlers, one fsync per batch.

A kiosk event must be on disk before its ack, and one ``synchronous=FULL`` commit costs a few
hundred microseconds. Under gevent one greenlet per event calling SQLite directly would block the
whole event loop for each commit; here handlers queue their item and wait on an ``AsyncResult``
while a single writer greenlet hands the whole queue to a worker thread as one transaction. The
loop keeps serving sockets during the fsync, and the commit cost is shared by the batch.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Sequence

import gevent
from gevent.event import AsyncResult, Event

#: Upper bound of items per transaction (bounds the time one commit holds the write lock).
MAX_BATCH = 500
#: A handler gives up waiting after this many seconds and answers ``retry``.
WAIT_SECONDS = 30


class GroupCommitter:
    def __init__(self, store_batch: Callable[[list[Any]], Sequence[Any]]) -> None:
        self._store_batch = store_batch
        self._pending: list[tuple[Any, AsyncResult]] = []
        self._wake = Event()
        self._writer = gevent.spawn(self._run)

    def submit(self, item: Any) -> Any:
        """Queue ``item`` and wait (this greenlet only) until its transaction has committed."""
        result: AsyncResult[Any] = AsyncResult()
        self._pending.append((item, result))
        self._wake.set()
        return result.get(timeout=WAIT_SECONDS)

    def _run(self) -> None:
        pool = gevent.get_hub().threadpool
        while True:
            self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                try:
                    outcomes = pool.apply(self._store_batch, ([item for item, _ in batch],))
                except Exception as exc:  # noqa: BLE001 - every waiter answers "retry"; nothing was acked
                    for _, result in batch:
                        result.set_exception(exc)
                    continue
                for (_, result), outcome in zip(batch, outcomes):
                    result.set(outcome)


class DirectCommitter:
    """The same interface without batching, for the threading mode (one commit per item)."""

    def __init__(self, store_batch: Callable[[list[Any]], Sequence[Any]]) -> None:
        self._store_batch = store_batch

    def submit(self, item: Any) -> Any:
        return self._store_batch([item])[0]


class SerialWriter:
    """Runs write functions one at a time on a dedicated worker thread (gevent mode), inline in
    threading mode.

    For writes outside the event path that still commit with ``synchronous=FULL``, such as a
    kiosk's journal head on each heartbeat: at 500 kiosks that is up to 100 commits a second, and
    each would stall every socket for its fsync if made on the event loop. The caller's greenlet
    waits; the loop goes on. One thread, so the connection the functions use is never shared.
    """

    def __init__(self, gevent_mode: bool) -> None:
        self._pool = None
        if gevent_mode:
            from gevent.threadpool import ThreadPool
            self._pool = ThreadPool(1)

    def run(self, function: Callable[..., Any], *args: Any) -> Any:
        if self._pool is None:
            return function(*args)
        return self._pool.apply(function, args)
