"""Console killed (SIGKILL) and restarted while kiosks send events: nothing lost, nothing doubled."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
import socketio

from tests.support.console_world import RunningConsole

pytestmark = pytest.mark.slow

EVENTS_PER_KIOSK = 150


def _send_all(kiosk, acked: list[int], stop: threading.Event) -> None:
    """What a kiosk outbox does: resend each event until it is acked, then the next one."""
    for _ in range(EVENTS_PER_KIOSK):
        event = kiosk.make_event("gaze.away", "medium", rule="gaze_away_for", thresholds={"seconds": 3})
        while not stop.is_set():
            try:
                ack = kiosk.send_event(event, timeout=2)
            except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError,
                    socketio.exceptions.SocketIOError):
                time.sleep(0.1)
                continue
            if ack.get("ok"):
                acked.append(event["seq"])
                break
            time.sleep(0.1)
        time.sleep(0.005)


def test_console_restart_with_events_in_flight(running_console: RunningConsole) -> None:
    kiosks = [running_console.kiosk(f"kiosk-r{i}") for i in range(3)]
    acked: dict[str, list[int]] = {k.kiosk_id: [] for k in kiosks}
    stop = threading.Event()
    threads = [threading.Thread(target=_send_all, args=(k, acked[k.kiosk_id], stop), daemon=True) for k in kiosks]
    for t in threads:
        t.start()
    deadline = time.time() + 30
    while sum(map(len, acked.values())) < 60 and time.time() < deadline:
        time.sleep(0.02)
    before = {k: len(v) for k, v in acked.items()}
    running_console.server.kill()  # SIGKILL mid-stream: some events are in flight, unacked
    time.sleep(0.5)
    running_console.server.restart()
    for t in threads:
        t.join(timeout=90)
    stop.set()
    db = sqlite3.connect(running_console.setup.data / "console.db")
    for kiosk in kiosks:
        assert len(acked[kiosk.kiosk_id]) == EVENTS_PER_KIOSK, (kiosk.kiosk_id, before)
        seqs = [r[0] for r in db.execute("SELECT seq FROM events WHERE kiosk_id = ? ORDER BY seq", [kiosk.kiosk_id])]
        assert seqs == list(range(EVENTS_PER_KIOSK)), kiosk.kiosk_id
        alert = db.execute("SELECT count, first_seq, last_seq FROM alerts WHERE kiosk_id = ?",
                           [kiosk.kiosk_id]).fetchall()
        assert len(alert) == 1 and alert[0][0] == EVENTS_PER_KIOSK  # each event counted once, one open alert
    assert 0 < sum(before.values()) < 3 * EVENTS_PER_KIOSK  # the kill really happened mid-stream
    for kiosk in kiosks:
        kiosk.disconnect()
