"""Requests per client address in a sliding window: a public lookup must not become a way to
enumerate certificates or holders, nor to load the database at will.

Why per address and not global: a global limit is a lever anyone can pull to stop every employer
from verifying. In memory in the serving process; at most ``max_keys`` addresses are kept (the
least recently seen go first), so a flood of addresses costs bounded memory.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable


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
