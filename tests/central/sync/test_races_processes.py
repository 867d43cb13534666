"""What must happen once happens once when several processes do it at the same moment, on a real
PostgreSQL (issue 14, item 2): intake of one envelope, the audit chain under a storm of appends,
two imports of one item, two builds of one form, and decisions on one attempt.

Each race runs 2-4 spawned processes that prepare everything (imports, engines, parsing, keys)
and are then released by one barrier, so they meet in the database. The locks under test are the
owning modules' own (``db.sql.lock``: intake per envelope and attempt, the audit head, the item,
the form id, the attempt's decision). Fixtures: tests/central/sync/pg_processes.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
import pytest

from exam_core.receipt import verify_receipt
from item_bank_sync.results.decisions import results_rows
from tests.support.pg_processes import central_database, pg_databases, run_together
from tests.support.central_db import audit_of, bank_of, central_db, rows, value
from tests.support.central_world import CENTRE_ID, GOOD, World, build_world

__all__ = ["central_database", "pg_databases"]   # the module's fixtures (see pg_processes)

pytestmark = pytest.mark.slow


@pytest.fixture
def world(tmp_path: Path) -> World:
    return build_world(tmp_path / "central")


# --- the children (run in spawned processes: module-level, arguments picklable) -------------------

def _receive(data_dir: str, data: bytes, *, prepare: bool) -> Callable[[], tuple[str, bytes | None]]:
    from item_bank_sync.sync.store import SyncStore

    intake = SyncStore(Path(data_dir)).intake()
    intake.results.connect().close()                 # the pool's first connection before the barrier

    def go() -> tuple[str, bytes | None]:
        outcome = intake.receive(data, CENTRE_ID)
        return outcome.status, outcome.receipt
    return go


def _append(data_dir: str, count: int, *, prepare: bool) -> Callable[[], float]:
    from item_bank_sync.context import CentralContext

    audit = CentralContext(Path(data_dir)).audit_log()
    audit.count()

    def go() -> float:
        start = time.perf_counter()
        for n in range(count):
            audit.append("storm", "test.storm", {"n": n})
        return time.perf_counter() - start
    return go


def _import(data_dir: str, package: str, *, prepare: bool) -> Callable[[], list[tuple[str, int, str]]]:
    from item_bank_sync.context import CentralContext
    from item_bank_sync.items.importer import ImportOptions, ItemRejected, iter_sources

    bank = CentralContext(Path(data_dir)).item_bank()
    parsed = [o for o in iter_sources([Path(package)], ImportOptions()) if not isinstance(o, ItemRejected)]

    def go() -> list[tuple[str, int, str]]:
        return [(s.item_id, s.version, s.outcome) for s in bank.store_batch(parsed, "importer")]
    return go


def _build(data_dir: str, *, prepare: bool) -> Callable[[], list[tuple[str, int, str]]]:
    from item_bank_sync.context import CentralContext
    from item_bank_sync.forms.actions import build_forms

    context = CentralContext(Path(data_dir))
    context.open_bank_db().connect().close()

    def go() -> list[tuple[str, int, str]]:
        built = build_forms(context, "MATH", None, 3, 5, "builder")
        return [(f["form_id"], f["version"], f["outcome"]) for f in built.forms]
    return go


def _decide(data_dir: str, by: str, *, prepare: bool) -> Callable[[], str]:
    from item_bank_sync.context import CentralContext
    from item_bank_sync.results.decisions import decide

    db = CentralContext(Path(data_dir)).open_results_db()
    db.connect().close()

    def go() -> str:
        return decide(db, "att-1", by, "withheld", f"held by {by}").at
    return go


# --- the races ---------------------------------------------------------------------------------------

def test_one_envelope_received_by_four_processes_at_once_is_taken_in_once(world: World):
    data = world.seal("att-1", GOOD)
    outcomes = run_together(_receive, [(str(world.data_dir), data)] * 4)
    assert {status for status, _ in outcomes} == {"accepted"}
    receipts = {receipt for _, receipt in outcomes}
    assert len(receipts) == 1 and None not in receipts          # byte-identical signed receipts
    verify_receipt(receipts.pop(), data, world.pki.central.public_key())
    engine = central_db(world.data_dir).results
    assert value(engine, "SELECT count(*) FROM envelopes") == 1
    assert value(engine, "SELECT count(*) FROM attempts") == 1
    assert value(engine, "SELECT count(*) FROM responses") == 3


def test_audit_chain_stays_one_valid_chain_under_a_storm_from_four_processes(world: World, capsys):
    per_process = 100
    alone = run_together(_append, [(str(world.data_dir), 4 * per_process)])[0]
    together = run_together(_append, [(str(world.data_dir), per_process)] * 4)
    audit = audit_of(world.data_dir)
    report = audit.verify(world.pki.central.public_key())
    assert report.entries == audit.count() == 8 * per_process
    assert report.signatures_checked and report.unprotected == 0  # every entry under a signed checkpoint
    seqs = [r[0] for r in rows(audit.engine, "SELECT seq FROM audit_log ORDER BY seq")]
    assert seqs == list(range(1, 8 * per_process + 1))
    with capsys.disabled():
        print(f"\naudit appends: 1 process {4 * per_process / alone:.0f}/s, "
              f"4 processes {4 * per_process / max(together):.0f}/s together")


def test_two_imports_of_the_same_items_at_once_store_each_version_once(world: World, tmp_path: Path):
    from item_bank_sync.items.synthetic import generate, write_package

    write_package(tmp_path / "items.zip", generate(12, ["alg", "geo"], seed=2))
    first, second = run_together(_import, [(str(world.data_dir), str(tmp_path / "items.zip"))] * 2)
    for (item_a, version_a, outcome_a), (item_b, version_b, outcome_b) in zip(first, second, strict=True):
        assert item_a == item_b and version_a == version_b == 1
        assert sorted([outcome_a, outcome_b]) == ["created", "unchanged"]
    bank = bank_of(world.data_dir).engine
    assert value(bank, "SELECT count(*) FROM items WHERE item_id LIKE 'syn-%'") == 12
    audit_of(world.data_dir).verify(world.pki.central.public_key())


def test_the_same_form_built_twice_at_once_is_stored_once(world: World, tmp_path: Path):
    from item_bank_sync.items.synthetic import generate, scheme_yaml, write_package
    from tests.support.central_cli import Central

    central = Central(world.data_dir)
    write_package(tmp_path / "items.zip", generate(40, ["alg", "geo"], seed=2))
    central.json("import", tmp_path / "items.zip")
    (tmp_path / "scheme.yaml").write_text(scheme_yaml("MATH", ["alg", "geo"], 6))
    central.json("schemes", "add", tmp_path / "scheme.yaml")
    central.approve_all()
    first, second = run_together(_build, [(str(world.data_dir),)] * 2)
    for (form_a, version_a, outcome_a), (form_b, version_b, outcome_b) in zip(first, second, strict=True):
        assert form_a == form_b and version_a == version_b == 1
        assert sorted([outcome_a, outcome_b]) == ["created", "unchanged"]
    bank = bank_of(world.data_dir).engine
    assert value(bank, "SELECT count(*) FROM forms WHERE scheme_id = 'MATH'") == 3
    audit_of(world.data_dir).verify(world.pki.central.public_key())


def test_decisions_on_one_attempt_at_once_are_taken_one_after_the_other(world: World):
    from item_bank_sync.sync.store import SyncStore

    SyncStore(world.data_dir).intake().receive(world.seal("att-1", GOOD), CENTRE_ID)
    deciders = ["Dana", "Eve", "Fay"]
    run_together(_decide, [(str(world.data_dir), by) for by in deciders])
    engine = central_db(world.data_dir).results
    history = rows(engine, "SELECT id, decided_by FROM decisions WHERE attempt_id = 'att-1' ORDER BY id")
    assert sorted(by for _, by in history) == ["dana", "eve", "fay"]   # each recorded once, in turn
    current = [r for r in results_rows(engine) if r["attempt_id"] == "att-1"]
    assert len(current) == 1 and current[0]["decided_by"] == history[-1][1]   # one decision stands
