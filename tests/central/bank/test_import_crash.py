"""A real import killed with SIGKILL leaves a consistent bank, and re-running it completes the job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from exam_core import keys
from item_bank_sync.items.synthetic import generate, write_items
from tests.support.central_db import audit_of, central_db, rows, value

REPO = Path(__file__).parents[3]


@pytest.mark.slow
def test_kill_9_during_import(central, tmp_path: Path) -> None:
    count = 1500
    write_items(tmp_path / "items", generate(count, ["a"], seed=4))
    cmd = [sys.executable, "-m", "item_bank_sync", "--data", str(central.data_dir), "import",
           str(tmp_path / "items" / "a"), "--json"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = central_db(central.data_dir).bank
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # kill once at least one batch is committed, before the end
        stored = value(db, "SELECT COUNT(*) FROM items")
        if stored > 0 or proc.poll() is not None:
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    stored = value(db, "SELECT COUNT(*) FROM items")
    assert 0 < stored < count, f"kill came too late or too early ({stored} stored)"
    assert stored % 200 == 0 or stored == count  # whole batches only: a batch is one transaction
    orphans = value(db, "SELECT COUNT(*) FROM items i WHERE NOT EXISTS (SELECT 1 FROM item_status s "
                        "WHERE s.item_id = i.item_id AND s.version = i.version)")
    assert orphans == 0
    audit_of(central.data_dir).verify(keys.load_signing_public_key(central.data_dir / "keys" / "central-signing.pub"))

    rerun = central.json("import", tmp_path / "items" / "a")
    outcomes = [r["outcome"] for r in rerun["imported"]]
    assert outcomes.count("unchanged") == stored and outcomes.count("created") == count - stored
    assert rows(db, "SELECT COUNT(*), MAX(version) FROM items") == [(count, 1)]
    audited = {(i["item_id"], i["version"]) for e in audit_of(central.data_dir).entries()
               if e.action == "item.import" for i in e.data["items"]}
    assert len(audited) == count  # every stored item reached the audit chain, crash or not


def test_status_rows_left_unaudited_by_a_crash_are_audited_by_the_next_operation(central, tmp_path: Path,
                                                                                 monkeypatch) -> None:
    """The crash window between a commit and its audit entry, made deterministic: the first
    drain is skipped (as if the process died right after the commit)."""
    from item_bank_sync.bank.store import ItemBank
    from tests.support.central_items import choice_item, write_qti

    real_drain = ItemBank.drain_audit
    monkeypatch.setattr(ItemBank, "drain_audit", lambda self: 0)
    central.json("import", write_qti(tmp_path, "a.xml", choice_item("crash-a")))
    monkeypatch.setattr(ItemBank, "drain_audit", real_drain)
    log = audit_of(central.data_dir)
    assert not [e for e in log.entries() if e.action == "item.import"]
    central.json("items", "review", "crash-a", "--by", "ann")
    actions = [(e.action, e.actor) for e in log.entries() if e.action.startswith("item.")]
    assert actions == [("item.import", actions[0][1]), ("item.review", "ann")]
    assert next(e for e in log.entries() if e.action == "item.import").data["items"][0]["item_id"] == "crash-a"
