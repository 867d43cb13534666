"""The console unreachable for a while, duplicated and truncated uploads, a wall-clock jump on a kiosk.

"Unreachable" is a SIGSTOP of the console's process group: its sockets stay open but nothing
answers, which is what a pulled cable or a hung switch looks like to a kiosk (a refused
connection, as after a crash, is the easier case and is covered by the kill tests).
"""

from __future__ import annotations

import hashlib
import http.client
import signal
import sqlite3
import ssl
import time
from contextlib import closing
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from exam_core.sync_wire import Upload, UploadEntry
from proctor_console.context import ConsoleContext
from proctor_console.sync.client import HubClient
from proctor_console.sync.outbox import SyncOutbox
from tests.support.faults_world import (OUTAGE_S, TIMER_SLACK_MS, admit, check_nothing_lost, in_threads, seats,
                                        sit_whole_exam)

pytestmark = pytest.mark.slow
CLOCKSHIFT = Path(__file__).resolve().parent / "clockshift"


def _kiosk_events(kiosk_dir: Path) -> int:
    with closing(sqlite3.connect(f"file:{kiosk_dir / 'kiosk.db'}?mode=ro", uri=True)) as db:
        row = db.execute("SELECT value FROM counters WHERE name = 'event'").fetchone()
    return row[0] if row else 0


def _console_unreachable(world, outage_s: float) -> None:
    seat_list = seats(world, 2)
    admit(world, seat_list)
    candidates = in_threads(seat_list, world.begin)
    first, second = seat_list
    for seat in seat_list:
        candidates[seat.kiosk_id].answer_items(range(5))
    console = next(n for n in world.supervisor.nodes if n.name == "console")
    events_before = {s.kiosk_id: _kiosk_events(world.work / s.kiosk_id) for s in seat_list}
    remaining_before = second.client.state()["timer"]["remaining_ms"]
    console.signal_group(signal.SIGSTOP)
    down = time.monotonic()
    try:
        total = candidates[first.kiosk_id].item_count()
        for seat in seat_list:
            candidates[seat.kiosk_id].pace_s = min(1.0, outage_s / 2 / total)
            seat.client.post("page_event", {"kind": "focus_lost"})
        time.sleep(2.5)  # away longer than the focus rule's 1 s: an event each kiosk must keep
        for seat in seat_list:
            seat.client.post("page_event", {"kind": "focus_gained"})
        in_threads(seat_list, lambda s: candidates[s.kiosk_id].answer_items(range(5, total)))
        world.submit(first)  # sealed and kept in the outbox while nobody answers
        time.sleep(max(0.0, outage_s - (time.monotonic() - down)))
        spent = remaining_before - second.client.state()["timer"]["remaining_ms"]
        elapsed_ms = (time.monotonic() - down) * 1000
        assert abs(spent - elapsed_ms) <= TIMER_SLACK_MS, (spent, elapsed_ms)
        assert second.client.state()["screen"] == "exam"  # the candidate never noticed
    finally:
        console.signal_group(signal.SIGCONT)
    for seat in seat_list:
        assert _kiosk_events(world.work / seat.kiosk_id) > events_before[seat.kiosk_id], "no event in the outage"
    world.submit(second)
    check_nothing_lost(world, candidates)


def test_console_unreachable_for_a_while(world):
    """The outage shortened (INVIGIL_FAULT_OUTAGE_S, default 12 s): same property, quicker."""
    _console_unreachable(world, OUTAGE_S)


def test_console_unreachable_for_a_minute(world):
    """One honest run at the length the requirement names."""
    _console_unreachable(world, 60.0)


def _central_counts(world) -> tuple[int, int, int]:
    with closing(sqlite3.connect(f"file:{world.central_dir / 'results.db'}?mode=ro", uri=True)) as db:
        return (db.execute("SELECT count(*) FROM attempts").fetchone()[0],
                db.execute("SELECT count(*) FROM envelopes WHERE status = 'accepted'").fetchone()[0],
                db.execute("SELECT count(*) FROM response_scores").fetchone()[0])


def test_duplicated_and_truncated_uploads(world):
    candidates = sit_whole_exam(world, 2)
    ctx = ConsoleContext(world.console_dir)
    store = SyncOutbox(ctx)
    kept = [(sha, attempt_id, bytes(body)) for sha, attempt_id, body in
            ctx.db.execute("SELECT sha256, attempt_id, body FROM envelopes").fetchall()]
    entries = {sha: UploadEntry(body, store.meta(attempt_id)) for sha, attempt_id, body in kept}
    client = HubClient(world.hub_url, ctx.centre_id, ctx.signing_key, ctx.root_public(),
                       tls_fingerprint=world.hub_fingerprint)

    # A request cut off mid-body (the link dropped during the upload): nothing may be taken in.
    body = Upload(tuple(entries.values())).to_bytes()
    headers = client._signed_headers("POST", "/v1/envelopes", "", body)  # the client's own signing, raw socket
    raw = ssl.create_default_context()
    raw.check_hostname, raw.verify_mode = False, ssl.CERT_NONE
    conn = http.client.HTTPSConnection(client.host, client.port, context=raw, timeout=10)
    conn.putrequest("POST", "/v1/envelopes")
    for name, value in {**headers, "Content-Type": "application/json", "Content-Length": str(len(body))}.items():
        conn.putheader(name, value)
    conn.endheaders()
    conn.send(body[: len(body) // 2])
    conn.close()
    time.sleep(0.5)
    assert _central_counts(world) == (0, 0, 0)

    # A truncated envelope inside a complete request: refused, nothing stored as accepted.
    sha, _attempt_id, data = kept[0]
    (result,) = client.upload(Upload((UploadEntry(data[: len(data) - 100], entries[sha].meta),))).results
    assert result.status != "accepted", result
    assert _central_counts(world)[:2] == (0, 0)

    report = world.sync()
    assert report["envelopes_receipted"] == 2, report
    counts = _central_counts(world)
    receipts = dict(ctx.db.execute("SELECT sha256, receipt FROM envelopes").fetchall())

    # The same envelopes uploaded again (a console that lost its receipts): same receipts, no new rows.
    again = client.upload(Upload(tuple(entries.values()))).results
    for (sha, _, _), result in zip(kept, again):
        assert result.receipt, result
        assert hashlib.sha256(result.receipt).hexdigest() == \
            hashlib.sha256(bytes(receipts[sha])).hexdigest(), "a duplicate got a different receipt"
    assert _central_counts(world) == counts
    summary = check_nothing_lost(world, candidates)
    assert summary["attempts_scored"] == 2


def _sit_through_clock_jumps(world, tmp_path, jumps: tuple[int, ...]) -> None:
    """The kiosk's wall clock is stepped mid-exam by each of ``jumps`` seconds (tests/faults/clockshift).

    Only the wall clock moves, as with an NTP step or a hand-set clock; the exam clock is built from
    the monotonic clock and must not move with it. The kiosk's own HTTP ``Date`` header shows the
    step took effect in the kiosk process.
    """
    offset = tmp_path / "clock-offset"
    offset.write_text("0")
    env = {"PYTHONPATH": str(CLOCKSHIFT), "INVIGIL_TEST_CLOCK_OFFSET_FILE": str(offset)}
    (seat,) = seats(world, 1, env=env)
    admit(world, [seat])
    candidate = world.begin(seat)
    total = candidate.item_count()
    candidate.answer_items(range(6))
    stops = [6 + (total - 6) * (n + 1) // len(jumps) for n in range(len(jumps))]
    for jump, until in zip(jumps, stops):
        before = seat.client.state()["timer"]["remaining_ms"]
        t0 = time.monotonic()
        offset.write_text(str(jump))
        time.sleep(0.2)
        kiosk_now = parsedate_to_datetime(seat.client.http.get(seat.client.base + "/api/state").headers["Date"])
        assert abs(kiosk_now.timestamp() - time.time() - jump) < 5, (jump, kiosk_now)
        candidate.answer_items(range(len(candidate.acked), until))
        time.sleep(2)
        spent = before - seat.client.state()["timer"]["remaining_ms"]
        elapsed = (time.monotonic() - t0) * 1000
        assert abs(spent - elapsed) <= TIMER_SLACK_MS, (jump, spent, elapsed)
    world.submit(seat)
    check_nothing_lost(world, {seat.kiosk_id: candidate})


def test_wall_clock_jumps_ahead_on_a_kiosk(world, tmp_path):
    _sit_through_clock_jumps(world, tmp_path, (3 * 3600, 5 * 3600))


def test_wall_clock_set_back_on_a_kiosk(world, tmp_path):
    """Set back below the central root's not_before: found a kiosk bug (submit answered 500), fixed in 8979d6d."""
    _sit_through_clock_jumps(world, tmp_path, (2 * 3600, -3600))
