"""``python -m proctor_console audit verify`` (issue 13, item 14: no command verified the console's
audit chain), as its own process over a real console's database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from exam_core.audit import AuditLog
from proctor_console.context import ConsoleContext
from tests.support.console_world import ConsoleSetup


def verify(data: Path, *extra: str) -> tuple[int, dict]:
    done = subprocess.run([sys.executable, "-m", "proctor_console", "--data", str(data), "audit", "verify", "--json",
                           *extra], capture_output=True, text=True, timeout=60)
    return done.returncode, json.loads(done.stdout)


def _append(data: Path, n: int) -> None:
    ctx = ConsoleContext(data)
    for i in range(n):
        ctx.audit.append("admin", "user.add", {"user": f"u{i}"})


def test_a_genuine_chain_verifies_and_each_kind_of_tampering_is_named(bare_console: ConsoleSetup) -> None:
    data = bare_console.data
    _append(data, 60)                                   # past a policy checkpoint (every 50)
    code, result = verify(data)
    assert code == 0 and result["valid"] and result["signatures_checked"]
    assert result["entries"] >= 62 and result["unprotected"] < 50 and result["checkpoints"] >= 2
    db = ConsoleContext(data).db
    (seq,) = db.execute("""SELECT seq FROM audit_log WHERE data LIKE '%"u7"%'""").fetchone()
    db.execute("UPDATE audit_log SET data = replace(data, 'u7', 'u8') WHERE seq = ?", [seq])
    db.conn.commit()
    code, result = verify(data)
    assert code == 1 and not result["valid"] and result["seq"] == seq and "modified" in result["error"]
    assert "u8" not in json.dumps(result)               # never an entry's content
    db.execute("UPDATE audit_log SET data = replace(data, 'u8', 'u7') WHERE seq = ?", [seq])
    db.execute("DELETE FROM audit_log_checkpoints")
    db.conn.commit()
    code, result = verify(data)
    assert code == 1 and "unprotected" in result["error"]


def test_a_forged_tail_and_a_rollback_are_refused(bare_console: ConsoleSetup) -> None:
    data = bare_console.data
    _append(data, 5)
    ConsoleContext(data).audit.close()
    code, result = verify(data)
    assert code == 0
    head = f"{result['entries']}:{result['head']}"
    db = ConsoleContext(data).db
    forger = AuditLog(db, "audit_log")                   # no key: entries a forger writes go unsigned
    for i in range(60):
        forger.append("admin", "user.disable", {"user": f"x{i}"})
    code, result = verify(data)
    assert code == 1 and "the policy allows 49" in result["error"]
    db.execute("DELETE FROM audit_log WHERE seq > 4")    # roll entries and checkpoints back together
    db.execute("DELETE FROM audit_log_checkpoints WHERE seq > 4")
    db.conn.commit()
    code, result = verify(data)
    assert code == 0                                     # no local check can tell ...
    code, result = verify(data, "--known-head", head)    # ... a head kept elsewhere does
    assert code == 1 and "entries missing" in result["error"]
