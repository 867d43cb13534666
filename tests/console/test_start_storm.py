"""A synchronized start (issue 14, item 5b), small: 30 admitted kiosks started by one "start all".

The dashboard's "Start all admitted" sends one ``start`` action per seat at once on its socket; the
console passes key-releasing actions through its start queue (``proctor_console.start_queue``), one
at a time with the sockets served between them. This is the correctness half of ``python -m bench
start-storm`` (which times 500): through a real console process, 30 simulated kiosks on the real
``/kiosk`` link and a proctor on the real ``/proctor`` socket, no start is refused, each answers
with its own command, every kiosk receives a key that opens its package and shows item 1, and a
kiosk already in progress has its events stored while the storm runs. The queue's own rules (order,
a job's refusal handed to its caller, the bound) are checked on real greenlets.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import gevent
import pytest

from exam_core import package, protocol
from proctor_console import services
from proctor_console.context import ConsoleContext
from proctor_console.errors import Conflict, Throttled
from proctor_console.start_queue import StartQueue
from simulators.kiosk import SimKiosk
from tests.support.console_world import Central, RunningConsole, cli, set_up_console, start_console, wait_until

pytestmark = pytest.mark.slow

SEATS = 30


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory, central: Central) -> Iterator[tuple[RunningConsole, list[str]]]:
    """A running console with ``SEATS`` + 1 candidates on its roster (one for the busy kiosk)."""
    setup = set_up_console(tmp_path_factory.mktemp("storm"), central)
    candidates = [f"storm-{i:02d}" for i in range(SEATS + 1)]
    roster = setup.data.parent / "storm-roster.csv"
    roster.write_text("candidate_id,name,scheme,seat,accommodations\n"
                      + "".join(f"{c},Candidate {c},scheme-a,R{i:02d},\n" for i, c in enumerate(candidates)))
    cli(setup.data, "roster", "import", str(roster))
    server = start_console(setup.data, setup.data.parent)
    try:
        yield RunningConsole(setup, server), candidates
    finally:
        server.stop()


def paired_kiosks(running: RunningConsole, count: int) -> list[SimKiosk]:
    """``count`` kiosks paired with codes made in-process (a CLI process per code is slow), connected."""
    registry = services.registry(ConsoleContext(running.setup.data))
    kiosks = []
    for i in range(count):
        kiosk = SimKiosk(running.url, f"kiosk-storm-{i:02d}", verify=False)
        kiosk.pair(registry.new_code("test")[0])
        kiosk.connect()
        kiosks.append(kiosk)
    return kiosks


def first_item(running: RunningConsole, kiosk: SimKiosk) -> bytes:
    """What the kiosk shows first: its package's content, opened with the key released to it."""
    opened = package.read_form_package(running.setup.packages["pkg-open"].read_bytes(),
                                       running.setup.central.key.public_key())
    assert kiosk.content_key is not None
    return package.decrypt_content(opened, kiosk.content_key)


def test_start_all_of_thirty_admitted_kiosks_refuses_none_and_each_reaches_its_first_item(
        room: tuple[RunningConsole, list[str]]) -> None:
    running, candidates = room
    socket, csrf, _ = running.proctor_socket(running.login())
    kiosks = paired_kiosks(running, SEATS + 1)
    busy, seats = kiosks[-1], kiosks[:-1]

    def act(payload: dict[str, Any]) -> dict[str, Any]:
        reply: dict[str, Any] = socket.call("action", {"csrf": csrf, **payload},
                                            namespace=protocol.PROCTOR_NAMESPACE, timeout=120)
        return reply

    try:
        for kiosk, candidate in zip(kiosks, candidates):
            assert act({"type": "admit", "kiosk_id": kiosk.kiosk_id, "candidate_id": candidate,
                        "package_id": "pkg-open", "identity_checked": True})["ok"]
        wait_until(lambda: all(k.state == "admitted" for k in kiosks), timeout=60)
        assert act({"type": "start", "kiosk_id": busy.kiosk_id})["ok"]
        wait_until(lambda: busy.state == "in_progress", timeout=30)

        with ThreadPoolExecutor(SEATS) as pool:  # every action in flight at once, as the dashboard's Promise.all
            storm = [pool.submit(act, {"type": "start", "kiosk_id": k.kiosk_id}) for k in seats]
            during = busy.send_event(busy.make_event("item.answered", "info", data={"item": 1}), timeout=120)
            replies = [f.result(timeout=300) for f in storm]

        assert [r for r in replies if not r.get("ok")] == []
        assert [r["result"]["kiosk_id"] for r in replies] == [k.kiosk_id for k in seats]  # each its own command
        assert all(r["result"]["type"] == "start" for r in replies)
        assert during["ok"], during
        wait_until(lambda: all(k.state == "in_progress" for k in seats), timeout=120)
        assert {first_item(running, k) for k in seats} == {b"form content: items would be here"}
        assert len({k.content_key for k in seats}) == 1  # one form's key, wrapped to each kiosk on its own
    finally:
        socket.disconnect()
        for kiosk in kiosks:
            kiosk.disconnect()


# --- the queue on real greenlets ---------------------------------------------------------------------

def test_the_start_queue_runs_jobs_in_order_and_hands_each_its_own_outcome() -> None:
    starts = StartQueue(gevent_mode=True)
    done: list[int] = []

    def job(i: int) -> int:
        if i == 2:
            raise Conflict("start does not fit: seat 2 is in progress")
        done.append(i)
        return i * 10

    def caller(i: int) -> Any:
        try:
            return starts.run(lambda: job(i))
        except Conflict as exc:
            return str(exc)
    callers = [gevent.spawn(caller, i) for i in range(5)]
    gevent.joinall(callers, timeout=10)
    assert [c.value for c in callers] == [0, 10, "start does not fit: seat 2 is in progress", 30, 40]
    assert done == [0, 1, 3, 4]


def test_the_start_queue_refuses_beyond_its_bound_and_runs_at_once_without_gevent() -> None:
    starts = StartQueue(gevent_mode=True, max_waiting=2)
    callers = [gevent.spawn(starts.run, partial(int, i)) for i in range(3)]  # all queued before the worker turns
    gevent.joinall(callers, timeout=10)
    assert [c.value for c in callers[:2]] == [0, 1]
    assert isinstance(callers[2].exception, Throttled)
    assert StartQueue(gevent_mode=False).run(lambda: "inline") == "inline"

