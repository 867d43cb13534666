"""Chain of custody between console and central body, over the real sync API on loopback (HTTPS).

The console's own code records what its kiosks reported (journal heads from heartbeats), the
console's sync sends it with the envelopes, and the central intake judges each envelope by it.
"""

from __future__ import annotations

import pytest

from item_bank_sync.results_db import open_results, results_path
from proctor_console.eventlog import record_journal_head
from proctor_console.sync import run_sync
from tests.central.test_sync import GOOD, client_for, console, hub, put_envelope, world  # noqa: F401 - fixtures
from tests.central.world import KIOSK_ID, journal_row_hash

pytestmark = pytest.mark.slow


def _admit(console, attempt_id: str) -> None:
    """The console's attempts row, as an admission writes it (heads are kept only for admitted attempts)."""
    console.db["attempts"].insert({"attempt_id": attempt_id, "candidate_id": f"cand-{attempt_id}",
                                   "kiosk_id": KIOSK_ID, "package_id": "pkg-1", "state": "submitted", "body": "{}",
                                   "admitted_by": "pat", "admitted_at": "2026-11-26T09:00:00Z"})


def test_heads_the_console_saw_decide_intake_over_the_sync_api(world, console, hub):
    """World envelopes seal journal rows 1..6. att-good: the console saw rows 2 and 6 as sealed.
    att-cut: the console saw row 8 (the kiosk sealed a journal cut back to row 6). att-fork: the
    console saw row 4 with a hash the sealed journal does not have (rolled back and rewritten)."""
    for attempt_id in ("att-good", "att-cut", "att-fork"):
        _admit(console, attempt_id)
    for seq in (2, 6):
        assert record_journal_head(console.db, KIOSK_ID, "att-good", seq, journal_row_hash("att-good", seq, 6)).stored
    record_journal_head(console.db, KIOSK_ID, "att-cut", 5, journal_row_hash("att-cut", 5, 6))
    record_journal_head(console.db, KIOSK_ID, "att-cut", 8, "ef" * 32)
    record_journal_head(console.db, KIOSK_ID, "att-fork", 4, "cd" * 32)
    for attempt_id in ("att-good", "att-cut", "att-fork"):
        put_envelope(console, world.seal(attempt_id, GOOD), attempt_id)

    report = run_sync(console, client_for(console, hub))

    assert report.envelopes_receipted == 3 and report.envelopes_kept == []     # receipted, none dropped
    flagged = {q["attempt_id"]: q["reason"] for q in report.envelopes_quarantined_centrally}
    assert set(flagged) == {"att-cut", "att-fork"}
    assert "cut off" in flagged["att-cut"] and "row 8" in flagged["att-cut"]
    assert "forked: row 4" in flagged["att-fork"]
    results = open_results(results_path(world.data_dir))
    assert results.execute("SELECT attempt_id FROM attempts").fetchall() == [("att-good",)]
    quarantined = dict(results.execute("SELECT attempt_id, reason FROM quarantine").fetchall())
    assert quarantined == flagged


def test_console_keeps_heads_only_for_its_own_attempts_and_alerts_once_per_attempt(console):
    _admit(console, "att-1")
    foreign = record_journal_head(console.db, "kiosk-other", "att-1", 3, "ab" * 32)
    assert not foreign.stored and "not admitted on kiosk kiosk-other" in foreign.problem
    assert record_journal_head(console.db, KIOSK_ID, "att-1", 3, "ab" * 32).stored
    assert not record_journal_head(console.db, KIOSK_ID, "att-1", 3, "ab" * 32).stored     # unchanged: no write
    assert record_journal_head(console.db, KIOSK_ID, "att-1", 5, "cd" * 32).problem is None
    back = record_journal_head(console.db, KIOSK_ID, "att-1", 4, "ee" * 32)
    fork = record_journal_head(console.db, KIOSK_ID, "att-1", 5, "ff" * 32)
    assert "went back" in back.problem and "forked" in fork.problem
    assert back.alert_id == fork.alert_id                                          # de-duplicated
    row = console.db.execute("SELECT severity, count, status FROM alerts WHERE alert_id = ?",
                             [back.alert_id]).fetchone()
    assert row == ("high", 2, "open")
    seen = console.db.execute("SELECT seq, hash FROM journal_heads WHERE attempt_id = 'att-1' ORDER BY seq, hash"
                              ).fetchall()
    assert seen == [(3, "ab" * 32), (4, "ee" * 32), (5, "cd" * 32), (5, "ff" * 32)]
