"""``kiosk run`` with its locked-down browser (Debian's Chromium under Xvfb): SIGTERM to the kiosk
closes the browser and undoes the lockdown before the process exits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hardening.chromium_policy import POLICY_FILE_NAME
from hardening.restore_journal import RestoreJournal
from tests.support.ports import find_free_port
from tests.support.processes import marker_processes
from tests.support.kiosk_world import World

pytestmark = [pytest.mark.browser, pytest.mark.xinput, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def _browser_marker(journal: Path, timeout: float) -> str:
    """The ``--user-data-dir=`` marker of the browser the lockdown started, once it runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if journal.exists():
            markers = [e["marker"] for e in RestoreJournal(journal).entries() if e["op"] == "process"]
            if markers and marker_processes(markers[0]):
                return markers[0]
        time.sleep(0.2)
    raise AssertionError(f"no locked-down browser within {timeout} s")


def test_sigterm_to_the_kiosk_closes_the_browser_and_restores(xvfb_display, tmp_path):
    data = tmp_path / "kiosk"
    World(data)  # a paired device (its console is unreachable: the link just keeps retrying)
    managed, journal = tmp_path / "managed", tmp_path / "restore-journal.jsonl"
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"version: 1\nblocking: []\nlockdown:\n  policy_dir: {managed}\n  journal: {journal}\n")
    kiosk = subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--data", str(data), "--port",
                              str(find_free_port()), "--policy", str(policy)],
                             cwd=ROOT, env=dict(os.environ, DISPLAY=xvfb_display), start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    marker = None
    try:
        marker = _browser_marker(journal, 60)
        assert (managed / POLICY_FILE_NAME).exists()
        kiosk.send_signal(signal.SIGTERM)
        assert kiosk.wait(timeout=30) == 0, kiosk.stderr.read()[-2000:]
        assert marker_processes(marker) == [], "the exam browser outlived the kiosk"
        assert not managed.exists() and not journal.exists(), "the lockdown was not undone"
    finally:
        if kiosk.poll() is None:
            os.killpg(kiosk.pid, signal.SIGKILL)
            kiosk.wait()
        for pid in marker_processes(marker) if marker else []:
            os.kill(pid, signal.SIGKILL)
