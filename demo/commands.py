"""Running each tier's own command-line interface, exactly as an administrator would.

Every step of the demo is a ``python -m PACKAGE ...`` command with ``--json``; the demo reads its
output and stops with the command, exit status and error text when one fails. The only exception
is the bulk review/approval of the sample items (80 calls): those go through the same click
command in-process, because eighty interpreter start-ups would add minutes and prove nothing more.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from demo.processes import REPO_ROOT, DemoError

TIMEOUT_S = 300


def run(package: str, data: Path, *args: str, stdin: str | None = None, as_json: bool = True) -> Any:
    """``python -m package --data DATA args... [--json]``; parsed JSON (or text) on success."""
    command = [sys.executable, "-m", package, "--data", str(data), *args] + (["--json"] if as_json else [])
    result = subprocess.run(command, cwd=REPO_ROOT, input=stdin, capture_output=True, text=True,
                            timeout=TIMEOUT_S)
    if result.returncode != 0:
        shown = " ".join(command[2:])
        raise DemoError(f"`python -m {shown}` failed with exit status {result.returncode}:\n"
                        f"{result.stderr.strip() or result.stdout.strip()}")
    if not as_json:
        return result.stdout
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise DemoError(f"`python -m {package} {' '.join(args)} --json` printed no JSON: "
                        f"{result.stdout[:300]!r}") from exc


def central(data: Path, *args: str) -> Any:
    return run("item_bank_sync", data, *args)


def console(data: Path, *args: str, stdin: str | None = None, as_json: bool = True) -> Any:
    return run("proctor_console", data, *args, stdin=stdin, as_json=as_json)


def review_and_approve_all(data: Path, reviewer: str, approver: str) -> int:
    """Review then approve (two different people, as document control demands) every draft item."""
    from click.testing import CliRunner

    from item_bank_sync.cli.main import main

    runner = CliRunner()

    def invoke(*args: str) -> Any:
        result = runner.invoke(main, ["--data", str(data), *args, "--json"], catch_exceptions=False)
        if result.exit_code != 0:
            raise DemoError(f"`python -m item_bank_sync {' '.join(args)}` failed: {result.output.strip()}")
        return json.loads(result.stdout)

    drafts = [row["item_id"] for row in invoke("items", "list", "--status", "draft")["items"]]
    for item_id in drafts:
        invoke("items", "review", item_id, "--by", reviewer)
        invoke("items", "approve", item_id, "--by", approver)
    return len(drafts)


def in_process(data: Path, *args: str) -> Any:
    """One central command in this process through its click command (for the per-attempt decisions:
    one interpreter start-up each would add a minute and prove nothing more); parsed JSON."""
    from click.testing import CliRunner

    from item_bank_sync.cli.main import main

    result = CliRunner().invoke(main, ["--data", str(data), *args, "--json"], catch_exceptions=False)
    if result.exit_code != 0:
        raise DemoError(f"`python -m item_bank_sync {' '.join(args)}` failed: {result.output.strip()}")
    return json.loads(result.stdout)
