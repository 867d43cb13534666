"""``python -m item_bank_sync audit verify`` (issue 13, item 14: neither the console nor the central
body had a command that verified its audit chain), as its own process over a real central body."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from item_bank_sync.context import CentralContext
from tests.support.central_db import bank_of
from tests.support.central_world import REPO


def verify(data_dir: Path) -> tuple[int, dict]:
    done = subprocess.run([sys.executable, "-m", "item_bank_sync", "--data", str(data_dir), "audit", "verify",
                           "--json"], cwd=REPO, capture_output=True, text=True, timeout=60)
    return done.returncode, json.loads(done.stdout)


def test_the_central_chain_verifies_and_tampering_is_named(central, tmp_path) -> None:
    context = CentralContext(data_dir=central.data_dir)
    audit = context.audit_log()
    for n in range(5):
        audit.append("registrar", "scheme.add", {"scheme_id": f"S{n}", "version": 1})
    context.close()
    code, result = verify(central.data_dir)
    assert code == 0 and result["valid"] and result["signatures_checked"] and result["unprotected"] == 0
    bank = bank_of(central.data_dir)
    (seq,) = bank.execute("""SELECT seq FROM audit_log WHERE data LIKE '%"S3"%'""").fetchone()
    bank.execute("UPDATE audit_log SET data = replace(data, 'S3', 'S9') WHERE seq = ?", [seq])
    code, result = verify(central.data_dir)
    assert code == 1 and result["seq"] == seq and "modified" in result["error"] and "S9" not in json.dumps(result)
    bank.execute("UPDATE audit_log SET data = replace(data, 'S9', 'S3') WHERE seq = ?", [seq])
    bank.execute("DELETE FROM audit_log_checkpoints WHERE seq > ?", [seq])
    code, result = verify(central.data_dir)
    assert code == 1 and "after the last checkpoint" in result["error"]
    code, result = verify(tmp_path / "nowhere")
    assert code == 1 and "not an initialised central body" in result["error"]
