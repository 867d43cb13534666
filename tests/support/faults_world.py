"""A real central body, test centre and kiosks for fault injection, built with the demo's orchestrator.

Every node is its own process (``python -m item_bank_sync serve``, ``python -m proctor_console
serve``, ``python -m kiosk run``); faults are real signals to real process groups. After a fault,
:func:`check_nothing_lost` reads each node's database and checks the three promises: every
acknowledged answer and event is present once, and every attempt is scored once.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from typing import Any
from collections.abc import Callable

from demo.candidates import Candidate
from demo.orchestrate import PRESENT_CAMERA, Demo, DemoOptions, Seat
from demo.summary import summarise

#: Seconds the console stays unreachable in the shortened outage tests (the property is the same;
#: ``test_console_unreachable_for_a_minute`` keeps one honest 60 s run).
OUTAGE_S = float(os.environ.get("INVIGIL_FAULT_OUTAGE_S", "12"))


#: One journal checkpoint (1 s) plus scheduling noise: what a kill -9 or a clock step may cost or give.
TIMER_SLACK_MS = 2000


def fault_rng() -> random.Random:
    """Random moments, reproducible: the seed comes from INVIGIL_FAULT_SEED or is printed."""
    seed = int(os.environ.get("INVIGIL_FAULT_SEED", random.randrange(1 << 30)))
    print(f"fault moments drawn with INVIGIL_FAULT_SEED={seed}")
    return random.Random(seed)


def build_world(workdir: Path) -> Demo:
    """Central body, two published forms, a certified centre with its console serving; no kiosks yet."""
    lines: list[str] = []
    demo = Demo(DemoOptions(workdir=workdir, scripted=True, say=lines.append, pace_s=0.05))
    demo.log_lines = lines  # type: ignore[attr-defined]
    demo.prepare()
    demo.central_body()
    demo.test_centre()
    return demo


def seats(demo: Demo, count: int, env: dict[str, str] | None = None) -> list[Seat]:
    packages = list(demo.packages.values())
    return [Seat(f"kiosk-{n:02d}", f"cand-{n:03d}", packages[(n - 1) % 2], PRESENT_CAMERA, "steady",
                 env=dict(env or {})) for n in range(1, count + 1)]


def admit(demo: Demo, seat_list: list[Seat]) -> None:
    """Start (pair) the seats' kiosks and let the proctor admit each candidate."""
    demo.start_kiosks(seat_list)
    for seat in seat_list:
        demo.act("admit", kiosk_id=seat.kiosk_id, candidate_id=seat.candidate_id, package_id=seat.package_id,
                 identity_checked=True)


def sit_whole_exam(demo: Demo, count: int) -> dict[str, Candidate]:
    """``count`` candidates sit and submit at once, undisturbed; their kiosks' outboxes drained."""
    seat_list = seats(demo, count)
    admit(demo, seat_list)
    candidates = in_threads(seat_list, demo.begin)
    in_threads(seat_list, lambda s: candidates[s.kiosk_id].answer_items(range(candidates[s.kiosk_id].item_count())))
    in_threads(seat_list, demo.submit)
    demo.drain_and_stop_kiosks()
    return candidates


def in_threads(seats_: list[Seat], work: Callable[[Seat], Any]) -> dict[str, Any]:
    """Run ``work(seat)`` for every seat at once (candidates sit at the same time); re-raise failures."""
    results: dict[str, Any] = {}
    errors: list[str] = []

    def run(seat: Seat) -> None:
        try:
            results[seat.kiosk_id] = work(seat)
        except Exception as exc:  # collected and raised in the test thread
            errors.append(f"{seat.kiosk_id}: {type(exc).__name__}: {exc}")
    threads = [threading.Thread(target=run, args=(s,), daemon=True) for s in seats_]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    assert not errors, errors
    return results


def _rows(db: Path, sql: str, args: tuple | list = ()) -> list[tuple]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)) as conn:
        return conn.execute(sql, list(args)).fetchall()


def _same(a: Any, b: Any) -> bool:
    """Answer values compared as the kiosk stores them (pairs are a set; an order is an order)."""
    if isinstance(a, list) and a and all(isinstance(x, list) for x in a):
        return sorted(map(tuple, a)) == sorted(map(tuple, b or []))
    return a == b


def check_nothing_lost(demo: Demo, candidates: dict[str, Candidate]) -> dict[str, Any]:
    """Drain, sync, and check every promise against the databases; returns the summary."""
    demo.drain_and_stop_kiosks()
    report = demo.sync()
    assert not report["envelopes_kept"], report
    summary = summarise([demo.work / s.kiosk_id for s in demo.seats], demo.console_dir, demo.central_dir, None)
    assert summary["events_lost"] == 0 and summary["envelopes_lost"] == 0, summary
    assert summary["attempts_submitted"] == len(demo.seats) == summary["attempts_scored"], summary

    central = demo.central_dir / "results.db"
    attempts = _rows(central, "SELECT attempt_id, candidate_id, scoring_status FROM attempts")
    by_candidate = {}
    for attempt_id, candidate_id, status in attempts:
        assert candidate_id not in by_candidate, f"{candidate_id} has two attempts at the central body"
        assert status == "scored", (attempt_id, status)
        by_candidate[candidate_id] = attempt_id
    for seat in demo.seats:
        candidate = candidates[seat.kiosk_id]
        attempt_id = by_candidate[seat.candidate_id]
        stored = {}
        for item_id, value in _rows(central, "SELECT item_id, value_json FROM responses WHERE attempt_id = ?",
                                    [attempt_id]):
            assert item_id not in stored, f"{attempt_id}: {item_id} stored twice"
            stored[item_id] = json.loads(value)
        for item_id, value in candidate.acked.items():
            assert item_id in stored, f"{seat.candidate_id}: acknowledged answer to {item_id} missing"
            assert _same(stored[item_id], value), (item_id, stored[item_id], value)
        sent = _rows(demo.work / seat.kiosk_id / "kiosk.db", "SELECT value FROM counters WHERE name = 'event'")
        sent_count = sent[0][0] if sent else 0
        seqs = [r[0] for r in _rows(demo.console_dir / "console.db",
                                    "SELECT seq FROM events WHERE kiosk_id = ? ORDER BY seq", [seat.kiosk_id])]
        pending = {r[0] for r in _rows(demo.work / seat.kiosk_id / "kiosk.db",
                                       "SELECT seq FROM outbox WHERE kind = 'event'")}
        assert sorted(set(seqs) | pending) == list(range(1, sent_count + 1)), (seat.kiosk_id, sent_count, seqs)
    assert _rows(demo.console_dir / "console.db", "SELECT count(*) FROM envelopes WHERE receipt IS NULL") == [(0,)]
    return summary
