"""The start queue: key-releasing actions (start, approve a resume) taken in turns, the event loop
served between the turns.

Why: "Start all admitted" sends one ``start`` action per seat at once (the dashboard's bulk
action; a room of 500 seats is 500 actions in the same second). Each start unwraps the package's
content key, wraps it to the kiosk and makes three FULL commits (the command, two audit entries)
on the console's connection, tens of milliseconds on the gevent loop that also serves every kiosk.
Run as they arrived, the handlers held the loop for the whole storm: at 250 seats the 50 other
kiosks' answer events waited 16 s for their acks (p50 and p99, ``python -m bench start-storm``), a
stall that grows with the room (500 seats: 30 s, and 278 kiosks never acked their start). Through
this queue one worker greenlet runs the starts in the order sent, in turns of at most
``SLICE_SECONDS`` begun only when the loop is idle, so kiosks' events and acks and other proctors'
actions go first; each start action is still answered with its own command or refusal.

The queue is bounded: beyond ``MAX_WAITING`` starts waiting the action is refused as ``Throttled``
(a flood that no room of seats can cause), never queued without limit. In the threading mode
(tests, no event loop to protect) each job runs at once in its caller's thread, as before.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

from proctor_console.errors import Throttled

#: Dashboard actions that go through the queue: the ones that release a content key.
QUEUED_ACTIONS = frozenset({"start", "approve_resume"})
#: Starts that may wait at once: twice the largest room measured (1,000 seats), far beyond a real
#: centre's, so a real "start all" is never refused.
MAX_WAITING = 2000
#: How long one turn may hold the loop: starts run until this has passed, then the sockets have
#: their turn again. Waiting for an idle loop before every single start made a storm of 250 seats
#: last 29 s instead of 16 s; a turn of several starts amortises the wait.
SLICE_SECONDS = 0.05

Job = Callable[[], Any]


class StartQueue:
    """One worker greenlet runs queued jobs in order, yielding to the event loop after each."""

    def __init__(self, gevent_mode: bool, max_waiting: int = MAX_WAITING) -> None:
        self.gevent_mode = gevent_mode
        self.max_waiting = max_waiting
        self._jobs: deque[tuple[Job, Any]] = deque()
        self._wake: Any = None
        if gevent_mode:
            import gevent
            from gevent.event import Event
            self._wake = Event()
            gevent.spawn(self._run)

    @property
    def waiting(self) -> int:
        """Jobs queued and not yet started (the dashboard's progress reads the replies instead)."""
        return len(self._jobs)

    def run(self, job: Job) -> Any:
        """Run ``job`` in its turn and return its result or raise its exception, in the caller's
        greenlet; refused with ``Throttled`` when ``max_waiting`` jobs already wait."""
        if not self.gevent_mode:
            return job()
        if len(self._jobs) >= self.max_waiting:
            raise Throttled(f"{len(self._jobs)} starts are waiting to be sent; try again when they have gone")
        from gevent.event import AsyncResult
        result: AsyncResult[Any] = AsyncResult()
        self._jobs.append((job, result))
        self._wake.set()
        return result.get()

    def _run(self) -> None:
        import gevent
        while True:
            self._wake.wait()
            self._wake.clear()
            while self._jobs:
                gevent.idle()  # the sockets first: kiosks' events and acks, other proctors' actions
                turn_ends = time.monotonic() + SLICE_SECONDS
                while self._jobs and time.monotonic() < turn_ends:
                    self._one(*self._jobs.popleft())

    @staticmethod
    def _one(job: Job, result: Any) -> None:
        try:
            result.set(job())
        except Exception as exc:  # noqa: BLE001 - handed to the waiting action, which answers it
            result.set_exception(exc)
