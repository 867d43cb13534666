"""The start queue: key-releasing actions (start, approve a resume) done one at a time, the event
loop served between them.

Why: "Start all admitted" sends one ``start`` action per seat at once (the dashboard's bulk
action; a room of 500 seats is 500 actions in the same second). Each start unwraps the package's
content key, wraps it to the kiosk and makes three FULL commits (the command, two audit entries)
on the console's connection, about 20-40 ms on the event loop that also serves every kiosk. Run as
they arrive, the 500 handlers held the loop for the whole storm: the other kiosks' events waited
seconds for their acks and, past the ping timeout, kiosks were dropped (``python -m bench
start-storm``). Through this queue one start runs at a time and the loop serves the sockets
between two starts, so an event waits for at most one start, and each start action is still
answered with its own command or refusal, in the order sent.

The queue is bounded: beyond ``MAX_WAITING`` starts waiting the action is refused as ``Throttled``
(a flood that no room of seats can cause), never queued without limit. In the threading mode
(tests, no event loop to protect) each job runs at once in its caller's thread, as before.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from proctor_console.errors import Throttled

#: Dashboard actions that go through the queue: the ones that release a content key.
QUEUED_ACTIONS = frozenset({"start", "approve_resume"})
#: Starts that may wait at once: twice the largest room measured (1,000 seats), far beyond a real
#: centre's, so a real "start all" is never refused.
MAX_WAITING = 2000

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
                job, result = self._jobs.popleft()
                try:
                    result.set(job())
                except Exception as exc:  # noqa: BLE001 - handed to the waiting action, which answers it
                    result.set_exception(exc)
