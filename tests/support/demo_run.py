"""Running ``python -m demo`` as a real process tree, and finding what is left of it afterwards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.tools import REPO_ROOT
import contextlib


def run_scripted(workdir: Path, timeout: float = 600) -> tuple[dict, str]:
    """``python -m demo --scripted``: (the JSON summary printed last, everything it printed)."""
    result = subprocess.run([sys.executable, "-m", "demo", "--scripted", "--workdir", str(workdir)], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=timeout,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"demo failed ({result.returncode}):\n{output[-4000:]}"
    last = result.stdout.strip().splitlines()[-1]
    return json.loads(last), output


def processes_using(path: Path) -> list[tuple[int, str]]:
    """(pid, command line) of every live process whose command line names ``path``."""
    needle = str(path)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = next((line for line in (entry / "status").read_text().splitlines()
                          if line.startswith("State:")), "")
        except OSError:
            continue
        if needle in cmdline and "zombie" not in state:
            found.append((int(entry.name), cmdline))
    return found


def wait_gone(path: Path, timeout: float = 20) -> list[tuple[int, str]]:
    deadline = time.monotonic() + timeout
    left = processes_using(path)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = processes_using(path)
    return left


def kill_leftovers(path: Path) -> None:
    """Last resort after a failed test: SIGKILL what this test started (found by its own workdir)."""
    for pid, _ in processes_using(path):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
