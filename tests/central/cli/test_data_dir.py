"""The central CLI refuses a data directory ``init`` did not make (issue 13, item 7).

Without ``--data`` the CLI used to create an empty ``central-data`` in the working directory and
answer "no envelopes" with exit code 0, so an operator in the wrong directory was told the centres
had sent nothing. Now every command but ``init`` that needs the central body's stores or keys is
refused with exit code 2 and a message naming the directory and what to do, and nothing is created.
Run as real processes, from a working directory without a central body.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.central_world import REPO

#: Commands that read the stores (results, bank) or the keys, each as an operator would type it.
NEEDS_A_BODY = [["intake", "list"], ["results", "export"], ["items", "list"], ["centres", "list"],
                ["marking", "list"], ["decide", "att-1", "--by", "carol", "--outcome", "pass", "--reason", "met"],
                ["analyze", "--form", "F1"], ["centres", "revocations"], ["releases", "list"]]


def central(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("INVIGIL_CENTRAL_DATA", "INVIGIL_CENTRAL_DB")}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run([sys.executable, "-m", "item_bank_sync", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("command", NEEDS_A_BODY, ids=lambda c: " ".join(c[:2]))
def test_without_data_a_command_is_refused_and_creates_nothing(tmp_path: Path, command: list[str]) -> None:
    out = central(tmp_path, *command)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "central-data: not the data directory of a central body" in " ".join(out.stderr.split())
    assert "--data" in out.stderr and "init" in out.stderr
    assert list(tmp_path.iterdir()) == []          # no empty central-data left behind


def test_a_wrong_data_directory_is_refused_in_json_too(tmp_path: Path) -> None:
    out = central(tmp_path, "--data", str(tmp_path / "typo"), "intake", "list", "--json")
    assert out.returncode == 2
    assert json.loads(out.stdout)["error"].startswith(f"{tmp_path / 'typo'}: not the data directory")
    assert not (tmp_path / "typo").exists()


def test_init_then_the_same_command_answers(tmp_path: Path) -> None:
    assert central(tmp_path, "init", "--body-id", "body", "--name", "Body", "--suite", "x25519").returncode == 0
    out = central(tmp_path, "intake", "list", "--json")
    assert out.returncode == 0 and json.loads(out.stdout) == []
    assert central(tmp_path, "--help").returncode == 0 and central(tmp_path / "..", "intake", "--help").returncode == 0
