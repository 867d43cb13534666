"""Actions that do not fit a seat's state are refused by the server with a plain message, and the
dashboard offers only those that fit: one table (``proctor_console.seat_actions``) for both.

The defect this guards against: "Approve resume" on a running kiosk was accepted, sent and acked,
and the demo then counted two resumes for one restart. Every refused action/state pair is tried
here through the real ``/proctor`` socket of a running console, against simulated kiosks brought
to each state over the real ``/kiosk`` link; a refusal must name the action, the seat and the
candidate, say what fits now, and leave no command stored or sent.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any
from collections.abc import Iterator

import pytest

from exam_core import protocol
from proctor_console import seat_actions
from proctor_console.seat_actions import ACTION_WORDS, FITS, SEAT_STATES, STATE_WORDS, fitting, seat_state
from simulators.kiosk import SimKiosk
from simulators.proctor import ProctorSocket
from tests.support.console_world import RunningConsole, cli, wait_until

ROSTER = """candidate_id,name,scheme,seat,accommodations
s-1,Kathleen Booth,scheme-a,F1,
s-2,Joan Clarke,scheme-a,F2,
s-3,Mary Allen Wilkes,scheme-a,F3,
s-4,Dorothy Vaughan,scheme-a,F4,
s-5,Annie Easley,scheme-a,F5,
s-6,Fran Bilas,scheme-a,F6,
s-7,Jean Sammet,scheme-a,F7,
s-8,Evelyn Boyd Granville,scheme-a,F8,
"""
#: The candidate each seat state's kiosk holds (None: the free kiosk), and the spare one to admit.
HOLDERS = {"free": None, "admitted": "s-1", "starting": "s-2", "in_progress": "s-3", "paused": "s-4",
           "restart_waiting": "s-5", "finished": "s-6"}
SPARE = "s-8"
NAMES = {"s-1": "Kathleen Booth", "s-2": "Joan Clarke", "s-3": "Mary Allen Wilkes", "s-4": "Dorothy Vaughan",
         "s-5": "Annie Easley", "s-6": "Fran Bilas"}
#: What each action needs besides its kiosk (valid, so only the state can refuse it).
ARGS: dict[str, dict[str, Any]] = {
    "admit": {"candidate_id": SPARE, "package_id": "pkg-open", "identity_checked": True},
    "start": {}, "resume": {}, "approve_resume": {}, "pause": {"reason": "toilet break"},
    "extend": {"minutes": 5, "reason": "fire alarm"}, "end": {"reason": "candidate withdrew"},
    "message": {"text": "Ten minutes left"}, "cancel_admission": {"reason": "candidate at the wrong seat"},
}
REFUSED = [(state, action) for state in SEAT_STATES for action in FITS if state not in FITS[action]]


@dataclass
class Seats:
    console: RunningConsole
    proctor: ProctorSocket
    csrf: str
    received: list
    kiosks: dict[str, SimKiosk]

    def act(self, **payload: Any) -> dict[str, Any]:
        return self.proctor.call("action", {"csrf": self.csrf, **payload}, namespace=protocol.PROCTOR_NAMESPACE,
                                 timeout=30)

    def beat(self, state: str) -> None:
        """A heartbeat, so the kiosk counts as connected and what it reports is current."""
        kiosk = self.kiosks[state]
        kiosk.heartbeat(progress={"answered": 1, "total": 40}, remaining_seconds=3000)

    def commands(self, kiosk_id: str) -> int:
        with sqlite3.connect(self.console.setup.data / "console.db") as db:
            return db.execute("SELECT COUNT(*) FROM commands WHERE kiosk_id = ?", [kiosk_id]).fetchone()[0]

    def tile(self, kiosk_id: str) -> dict[str, Any]:
        return [d for e, d in self.received if e == protocol.PROCTOR_KIOSK and d["kiosk_id"] == kiosk_id][-1]


def _admit(seats: Seats, kiosk: SimKiosk, candidate: str, start: bool) -> None:
    assert seats.act(type="admit", kiosk_id=kiosk.kiosk_id, candidate_id=candidate, package_id="pkg-open",
                     identity_checked=True)["ok"]
    wait_until(lambda: kiosk.state == "admitted")
    if start:
        assert seats.act(type="start", kiosk_id=kiosk.kiosk_id)["ok"]
        wait_until(lambda: kiosk.state == "in_progress")


@pytest.fixture(scope="module")
def seats(running_console: RunningConsole, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seats]:
    """One kiosk in each seat state, reached through the real commands and kiosk reports."""
    roster = tmp_path_factory.mktemp("roster") / "roster.csv"
    roster.write_text(ROSTER)
    cli(running_console.setup.data, "roster", "import", str(roster))
    proctor, csrf, received = running_console.proctor_socket(running_console.login())
    kiosks = {state: running_console.kiosk(f"kiosk-fit-{state.replace('_', '-')}") for state in HOLDERS}
    made = Seats(running_console, proctor, csrf, received, kiosks)
    for state, candidate in HOLDERS.items():
        if candidate is not None:
            _admit(made, kiosks[state], candidate, start=state != "admitted")
    assert made.act(type="pause", kiosk_id=kiosks["paused"].kiosk_id, reason="toilet break")["ok"]
    wait_until(lambda: kiosks["paused"].state == "paused")
    kiosks["starting"].state = "agreement"  # a real kiosk reports the agreement screen after a start
    kiosks["finished"].state = "submitted"  # the candidate submitted; the envelope is still on its way
    restart = kiosks["restart_waiting"]
    restart.disconnect()
    restart.content_key, restart.needs_resume_approval = None, True
    restart.connect()
    for state in HOLDERS:
        made.beat(state)
    wait_until(lambda: all(made.tile(k.kiosk_id)["seat_state"] == s for s, k in kiosks.items()))
    yield made
    for kiosk in kiosks.values():
        kiosk.disconnect()
    proctor.disconnect()


def test_the_table_and_how_a_seat_state_is_read() -> None:
    assert set(FITS) == set(ACTION_WORDS) and all(set(s) <= set(SEAT_STATES) for s in FITS.values())
    assert seat_state(None, "in_progress") == "free"  # only the console's record frees a seat
    assert seat_state("admitted") == "admitted" and seat_state("waiting") == "admitted"
    assert seat_state("in_progress", "agreement") == "starting"
    assert seat_state("in_progress", "paused") == "paused" and seat_state("paused") == "paused"
    assert seat_state("in_progress", "in_progress", restart_waiting=True) == "restart_waiting"
    assert seat_state("admitted", None, restart_waiting=True) == "admitted"  # no key released yet: start it
    assert seat_state("in_progress", "submitted") == "finished"
    assert fitting("in_progress") == ["pause", "extend", "end", "message"]
    assert fitting("restart_waiting") == ["approve_resume", "message"] and fitting("finished") == []
    assert seat_actions.refusal("approve_resume", "in_progress", "seat A2 (Alan Turing, cand-2)") == (
        "Approve resume does not fit: seat A2 (Alan Turing, cand-2) is in progress. "
        "Possible now: pause, extend time, end exam, send message.")


def test_each_tile_offers_exactly_what_fits_its_seat(seats: Seats) -> None:
    for state, kiosk in seats.kiosks.items():
        tile = seats.tile(kiosk.kiosk_id)
        assert (tile["seat_state"], tile["actions"]) == (state, fitting(state)), kiosk.kiosk_id


@pytest.mark.parametrize(("state", "action"), REFUSED, ids=[f"{a}-on-{s}" for s, a in REFUSED])
def test_an_action_that_does_not_fit_is_refused_in_plain_words(seats: Seats, state: str, action: str) -> None:
    kiosk = seats.kiosks[state]
    seats.beat(state)
    issued, received = seats.commands(kiosk.kiosk_id), len(kiosk.commands)
    reply = seats.act(type=action, kiosk_id=kiosk.kiosk_id, **ARGS[action])
    assert not reply["ok"] and reply["code"] == "conflict", reply
    message = reply["error"]
    assert message.startswith(f"{ACTION_WORDS[action]} does not fit: "), message
    assert f"is {STATE_WORDS[state]}." in message and "Possible now: " in message
    holder = HOLDERS[state]
    assert (f"({NAMES[holder]}, {holder})" if holder else f"kiosk {kiosk.kiosk_id}") in message
    assert seats.commands(kiosk.kiosk_id) == issued and len(kiosk.commands) == received  # nothing stored or sent


def test_approving_a_resume_twice_is_one_resume(seats: Seats, running_console: RunningConsole) -> None:
    """The demo's count: one restart, one approval; the second click finds a running kiosk."""
    kiosk = running_console.kiosk("kiosk-fit-twice")
    _admit(seats, kiosk, "s-7", start=True)
    refused = seats.act(type="approve_resume", kiosk_id=kiosk.kiosk_id)
    assert not refused["ok"] and "Approve resume does not fit" in refused["error"] and "Jean Sammet" in refused["error"]
    kiosk.disconnect()
    kiosk.content_key, kiosk.needs_resume_approval = None, True
    kiosk.connect()
    wait_until(lambda: seats.tile(kiosk.kiosk_id)["seat_state"] == "restart_waiting")
    assert seats.act(type="approve_resume", kiosk_id=kiosk.kiosk_id)["ok"]
    wait_until(lambda: kiosk.content_key is not None and not kiosk.needs_resume_approval)
    again = seats.act(type="approve_resume", kiosk_id=kiosk.kiosk_id)
    assert not again["ok"] and "is in progress" in again["error"]
    with sqlite3.connect(running_console.setup.data / "console.db") as db:
        assert db.execute("SELECT COUNT(*) FROM commands WHERE kiosk_id = ? AND type = 'resume_approved'",
                          [kiosk.kiosk_id]).fetchone()[0] == 1
    wait_until(lambda: seats.tile(kiosk.kiosk_id)["actions"] == fitting("in_progress"))
    kiosk.disconnect()
