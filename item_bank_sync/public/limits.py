"""Requests per client address in a sliding window, and back-off for guesses, held where every
listener process sees them: a public lookup must not become a way to enumerate certificates or
holders, nor to load the database at will, however many processes serve the site.

Why per address and not global: a global limit is a lever anyone can pull to stop every employer
from verifying. :class:`RateLimiter` keeps the counts in memory (one process; at most ``max_keys``
addresses, the least recently seen going first). :class:`SharedRateLimiter` and
:class:`SharedBackoff` keep them in the ``rate_counters`` table of the bank store (SQLite or
PostgreSQL, one atomic ``INSERT ... ON CONFLICT`` per request), so a second process does not
double a limit. The shared window is a sliding-window estimate: the last full window's count,
weighted by how much of it still overlaps the sliding window, plus the current window's. Keys are
stored only as SHA-256 (an address or an e-mail is personal data), and expired rows are deleted
now and then by whichever request comes.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable

from sqlalchemy import ColumnElement, Connection, Engine, delete, select, update

from exam_core.websec.throttle import FIRST_WAIT_SECONDS, FREE_FAILURES, MAX_WAIT_SECONDS, wait_after
from item_bank_sync.db.sql import fetch_one, increment, write
from item_bank_sync.public.schema import rate_counters

#: One request in this many also deletes expired counter rows.
SWEEP_ONE_IN = 100
#: How long a back-off record outlives its wait (a later failure still counts as a repeat).
BACKOFF_MEMORY_SECONDS = 24 * 3600.0


class RateLimiter:
    """At most ``limit`` requests per ``window`` seconds per key (thread-safe; clock injectable)."""

    def __init__(self, limit: int, window: float, *, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.max_keys, self.clock = limit, window, max_keys, clock
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str) -> float:
        """Count a request; 0.0 when allowed, else the seconds until the key may try again."""
        now = self.clock()
        with self._lock:
            times = self._seen.pop(key, None) or deque()
            while times and times[0] <= now - self.window:
                times.popleft()
            self._seen[key] = times
            if len(self._seen) > self.max_keys:
                self._seen.popitem(last=False)
            if len(times) >= self.limit:
                return max(0.001, times[0] + self.window - now)
            times.append(now)
            return 0.0


def bucket_of(name: str, key: Hashable) -> str:
    """The stored name of ``key`` under the limit ``name``: the key itself is never stored."""
    return f"{name}:{hashlib.sha256(repr(key).encode()).hexdigest()}"


def _sweep(conn: Connection, moment: float) -> None:
    """Now and then, delete the rows whose windows and waits are over."""
    if secrets.randbelow(SWEEP_ONE_IN) == 0:
        conn.execute(delete(rate_counters).where(rate_counters.c.expires_at < moment))


class SharedRateLimiter:
    """:class:`RateLimiter`'s ``hit`` with the counts in the database (every process shares them).
    Every request counts, a refused one too: who keeps knocking stays refused."""

    def __init__(self, engine: Engine, name: str, limit: int, window: int, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine, self.name, self.limit, self.window, self.clock = engine, name, limit, int(window), clock

    def hit(self, key: str) -> float:
        """Count a request; 0.0 when allowed, else the seconds until the window moves on."""
        moment = self.clock()
        start = int(moment // self.window) * self.window
        bucket, c = bucket_of(self.name, key), rate_counters.c
        with write(self.engine) as conn:
            current = increment(conn, rate_counters, {"bucket": bucket, "window_start": start, "hits": 1,
                                                      "expires_at": start + 2.0 * self.window},
                                ("bucket", "window_start"), "hits")
            previous = conn.execute(select(c.hits).where(c.bucket == bucket, c.window_start == start - self.window)
                                    ).scalar() or 0
            _sweep(conn, moment)
        overlap = 1.0 - (moment - start) / self.window
        if previous * overlap + current <= self.limit:
            return 0.0
        return max(0.001, start + self.window - moment)


class SharedBackoff:
    """:class:`exam_core.websec.throttle.Backoff`'s ``wait``/``failed``/``succeeded`` with the
    failures in the database: a guesser switching between the site's processes gains nothing."""

    def __init__(self, engine: Engine, name: str, *, free: int = FREE_FAILURES, first: float = FIRST_WAIT_SECONDS,
                 cap: float = MAX_WAIT_SECONDS, clock: Callable[[], float] = time.time) -> None:
        self.engine, self.name, self.clock = engine, name, clock
        self.free, self.first, self.cap = free, first, cap

    def _where(self, key: Hashable) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
        return rate_counters.c.bucket == bucket_of(self.name, key), rate_counters.c.window_start == 0

    def wait(self, key: Hashable) -> float:
        """Seconds before ``key`` may try again (0.0: now)."""
        row = fetch_one(self.engine, select(rate_counters.c.not_before).where(*self._where(key)))
        return max(0.0, float(row[0]) - self.clock()) if row is not None and row[0] is not None else 0.0

    def failed(self, key: Hashable) -> float:
        """Count a failure (atomically, whichever process sees it); the wait it imposes from now."""
        moment = self.clock()
        with write(self.engine) as conn:
            failures = increment(conn, rate_counters, {"bucket": bucket_of(self.name, key), "window_start": 0,
                                                       "hits": 1, "expires_at": moment + BACKOFF_MEMORY_SECONDS},
                                 ("bucket", "window_start"), "hits")
            wait = wait_after(failures, free=self.free, first=self.first, cap=self.cap)
            conn.execute(update(rate_counters).where(*self._where(key)).values(
                not_before=moment + wait, expires_at=moment + wait + BACKOFF_MEMORY_SECONDS))
            _sweep(conn, moment)
        return wait

    def succeeded(self, key: Hashable) -> None:
        with write(self.engine) as conn:
            conn.execute(delete(rate_counters).where(*self._where(key)))
