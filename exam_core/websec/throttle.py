"""Back-off for guesses (passwords, pairing codes): it slows the one who guesses, never anyone else.

Why per key and not per account or globally: a lock that anyone can trigger is a lever for anyone.
Five wrong passwords used to lock an account for everybody, and five unauthenticated pairing
requests burnt every pending pairing code, so one person on the network could keep every proctor
out and stop every kiosk from pairing (issue 13, item 14). Here each key (a user name typed from
one address, or an address sending pairing requests) may fail ``free`` times; after that every
further try must wait, 30 s after the first failure beyond, doubling with each failure up to
``cap`` (15 minutes); a success forgets the key. A guesser from another address is not slowed by these, and
does not slow the proctor at their own desk.

In memory, in the server process that answers the guesses: a restart forgets (no one outside can
restart the console), and at most ``max_keys`` keys are kept (the least recently failed go first).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

#: Failures for one key before each further try must wait.
FREE_FAILURES = 5
#: The first wait, and the longest.
FIRST_WAIT_SECONDS = 30.0
MAX_WAIT_SECONDS = 15 * 60
MAX_KEYS = 10_000


def wait_after(failures: int, *, free: int = FREE_FAILURES, first: float = FIRST_WAIT_SECONDS,
               cap: float = MAX_WAIT_SECONDS) -> float:
    """The wait ``failures`` failures impose: none for the first ``free - 1``, then ``first``
    doubling up to ``cap`` (shared with the database-held back-off of the public site)."""
    beyond = failures - free  # 0 at the last free failure: the first wait
    return min(cap, first * 2 ** beyond) if beyond >= 0 else 0.0


@dataclass
class _Record:
    failures: int = 0
    not_before: float = 0.0  # wall-clock time before which a try is refused unchecked


class Backoff:
    """Failures per key and the wait they impose (thread-safe; the clock is injectable)."""

    def __init__(self, *, free: int = FREE_FAILURES, first: float = FIRST_WAIT_SECONDS, cap: float = MAX_WAIT_SECONDS,
                 max_keys: int = MAX_KEYS, clock: Callable[[], float] = time.time) -> None:
        self.free, self.first, self.cap, self.max_keys, self.clock = free, first, cap, max_keys, clock
        self._records: OrderedDict[Hashable, _Record] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, key: Hashable) -> float:
        """Seconds before ``key`` may try again (0.0: now)."""
        with self._lock:
            record = self._records.get(key)
            return max(0.0, record.not_before - self.clock()) if record else 0.0

    def failed(self, key: Hashable) -> float:
        """Count a failure; returns the wait it imposes from now."""
        with self._lock:
            record = self._records.pop(key, None) or _Record()
            record.failures += 1
            wait = wait_after(record.failures, free=self.free, first=self.first, cap=self.cap)
            record.not_before = self.clock() + wait
            self._records[key] = record  # the most recently failed last
            while len(self._records) > self.max_keys:
                self._records.popitem(last=False)
            return wait

    def succeeded(self, key: Hashable) -> None:
        with self._lock:
            self._records.pop(key, None)

    def forget(self, match: Callable[[Hashable], bool]) -> None:
        """Forget every key ``match`` accepts (a centre admin lifts a user's back-off)."""
        with self._lock:
            for key in [k for k in self._records if match(k)]:
                del self._records[key]

    def holding(self, match: Callable[[Hashable], bool]) -> float | None:
        """The latest wall-clock time until which a key ``match`` accepts must wait, or None."""
        now = self.clock()
        with self._lock:
            ends = [r.not_before for k, r in self._records.items() if match(k) and r.not_before > now]
        return max(ends) if ends else None
