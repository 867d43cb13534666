"""Rate limits and back-off shared by processes through the database (SQLite here, PostgreSQL with
INVIGIL_TEST_CENTRAL_DB=postgresql): two real processes hitting one limit at once get exactly the
limit between them; failures counted in one process make another wait; keys are stored hashed."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from item_bank_sync.public.limits import SharedBackoff, SharedRateLimiter
from item_bank_sync.public.schema import rate_counters
from tests.support.central_db import central_db
from tests.support.mail_relay import child

HAMMER = """
import sys
from pathlib import Path
from item_bank_sync.db import configured_url, open_central
from item_bank_sync.public.limits import SharedRateLimiter
db = open_central(Path(sys.argv[1]), configured_url())
limit = SharedRateLimiter(db.bank, "lookup", 20, 10**6)
print(sum(1 for _ in range(int(sys.argv[2])) if limit.hit("203.0.113.9") == 0.0), flush=True)
"""
GUESS = """
import sys
from pathlib import Path
from item_bank_sync.db import configured_url, open_central
from item_bank_sync.public.limits import SharedBackoff
db = open_central(Path(sys.argv[1]), configured_url())
backoff = SharedBackoff(db.bank, "portal.backoff")
print([backoff.failed(("signin", "ann@example.org", "203.0.113.9")) for _ in range(5)][-1], flush=True)
"""


def _engine(tmp_path: Path) -> Engine:
    return central_db(tmp_path / "central").bank


def test_two_processes_share_one_limit(tmp_path: Path) -> None:
    bank = _engine(tmp_path)
    runs = [child(HAMMER, str(tmp_path / "central"), "15") for _ in range(2)]
    allowed = [int(run.communicate(timeout=120)[0].strip()) for run in runs]
    assert all(run.returncode == 0 for run in runs)
    assert sum(allowed) == 20 and min(allowed) >= 5
    assert SharedRateLimiter(bank, "lookup", 20, 10**6).hit("203.0.113.9") > 0      # this process too
    assert SharedRateLimiter(bank, "lookup", 20, 10**6).hit("198.51.100.7") == 0.0  # another address is free
    with bank.connect() as conn:
        buckets = [r[0] for r in conn.execute(select(rate_counters.c.bucket))]
    assert buckets and not any("203.0.113.9" in b or "198.51" in b for b in buckets)


def test_the_window_slides(tmp_path: Path) -> None:
    clock = [1000.0]
    limit = SharedRateLimiter(_engine(tmp_path), "search", 3, 60, clock=lambda: clock[0])
    assert [limit.hit("a") for _ in range(3)] == [0.0] * 3
    assert limit.hit("a") == 20.0             # the window 960-1020 ends in 20 s
    clock[0] = 1030.0                         # 4 in the last window, 5/6 of it still overlapping
    assert limit.hit("a") > 0
    clock[0] = 1079.0                         # the last window barely overlaps: room again
    assert limit.hit("a") == 0.0


def test_failures_in_one_process_make_another_wait(tmp_path: Path) -> None:
    bank = _engine(tmp_path)
    run = child(GUESS, str(tmp_path / "central"))
    assert float(run.communicate(timeout=120)[0].strip()) == 30.0   # the fifth failure: 30 s
    backoff = SharedBackoff(bank, "portal.backoff")
    key = ("signin", "ann@example.org", "203.0.113.9")
    assert 25.0 < backoff.wait(key) <= 30.0
    assert backoff.wait(("signin", "ann@example.org", "198.51.100.7")) == 0.0
    assert backoff.failed(key) == 60.0
    backoff.succeeded(key)
    assert backoff.wait(key) == 0.0
