"""kill -9 of a kiosk, of the console and of the central server at random moments (real processes).

After each: every acknowledged answer and event is present once, every attempt is scored once,
and the candidate's remaining time is right. Moments are drawn from a seeded generator; a failure
prints ``INVIGIL_FAULT_SEED=...`` to replay it.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from demo.processes import REPO_ROOT, wait_for_port
from tests.support.faults_world import (TIMER_SLACK_MS, admit, check_nothing_lost, fault_rng, in_threads, seats,
                                        sit_whole_exam)

pytestmark = pytest.mark.slow

def test_kiosk_kill9_at_random_moments(world):
    rng = fault_rng()
    (seat,) = seats(world, 1)
    admit(world, [seat])
    candidate = world.begin(seat)
    total = candidate.item_count()
    cuts = sorted(rng.sample(range(1, total), 2))
    done = 0
    for cut in cuts:
        candidate.answer_items(range(done, cut))
        done = cut
        world.kill9_and_resume(seat)
        drift = seat.outcome["remaining_before_ms"] - seat.outcome["remaining_after_ms"]
        assert abs(drift) <= TIMER_SLACK_MS, (cut, seat.outcome)
    candidate.answer_items(range(done, total))
    world.submit(seat)
    # The kiosk dies again right after the submission was acknowledged to the candidate: the sealed
    # envelope is in its outbox and must still reach the console (no resume needed: nothing to sit).
    seat.node.kill9()
    world.supervisor.restart(seat.node, world._kiosk_args(seat))
    wait_for_port(seat.port, 60, seat.node.process, seat.node.log)
    seat.client.load_page()
    assert seat.client.state()["screen"] == "submitted"
    summary = check_nothing_lost(world, {seat.kiosk_id: candidate})
    assert summary["resumed_attempts"] == 1  # two approvals of one attempt


def test_console_kill9_at_random_moments(world):
    rng = fault_rng()
    seat_list = seats(world, 2)
    admit(world, seat_list)
    candidates = in_threads(seat_list, world.begin)
    for candidate in candidates.values():
        candidate.pace_s = 0.15
    totals = {k: c.item_count() for k, c in candidates.items()}
    remaining = {s.kiosk_id: s.client.state()["timer"]["remaining_ms"] for s in seat_list}
    started = time.monotonic()

    def killer() -> None:
        for _ in range(2):
            time.sleep(rng.uniform(0.3, 2.5))
            world.restart_console()
    chaos = threading.Thread(target=killer)
    chaos.start()
    in_threads(seat_list, lambda s: candidates[s.kiosk_id].answer_items(range(totals[s.kiosk_id])))
    chaos.join()
    elapsed_ms = (time.monotonic() - started) * 1000
    for seat in seat_list:
        # The exam clock kept running through the console's outages: it is the candidate's time.
        spent = remaining[seat.kiosk_id] - seat.client.state()["timer"]["remaining_ms"]
        assert abs(spent - elapsed_ms) <= TIMER_SLACK_MS, (seat.kiosk_id, spent, elapsed_ms)
    in_threads(seat_list, world.submit)
    world.restart_console()  # envelopes may be in flight: killed between store and ack, or before
    check_nothing_lost(world, candidates)


def test_central_kill9_at_random_moments_during_sync(world):
    rng = fault_rng()
    candidates = sit_whole_exam(world, 2)
    for _ in range(3):
        sync = subprocess.Popen([sys.executable, "-m", "proctor_console", "--data", str(world.console_dir), "sync",
                                 "--hub", world.hub_url, "--tls-fingerprint", world.hub_fingerprint, "--json"],
                                cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, 1.2))  # interpreter start-up is most of a sync: moments spread over it
        world.restart_hub()
        sync.wait(120)
    check_nothing_lost(world, candidates)
