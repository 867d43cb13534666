"""``kiosk run`` as a real process ends promptly on SIGTERM, whatever its console does.

The console is tests/support/kiosk_fake_console.py over TLS pinned as at pairing; its docstring says why
the real console is not used here (this test needs a console that stops answering on cue).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from kiosk.app import EXIT_FORCED, SHUTDOWN_SECONDS

from tests.support.tools import REPO_ROOT
from tests.support.ports import find_free_port
from tests.support.kiosk_fake_console import FakeConsole, wait_for
from tests.support.kiosk_process import KioskProcess
from tests.support.kiosk_world import World

pytestmark = pytest.mark.slow


def test_sigterm_ends_a_kiosk_whose_console_stopped_answering(tmp_path):
    """Logged in over pinned TLS, then the console hangs with a kiosk message waiting for its ack:
    SIGTERM still ends the kiosk cleanly (exit 0) within SHUTDOWN_SECONDS, with no forced exit."""
    world = World(tmp_path / "kiosk")
    console = FakeConsole(world.device.signing_key.public_key(), tls=world.console_tls(tmp_path))
    world.device.save_pairing(dict(world.device.pairing, console_url=console.url), {})
    kiosk = KioskProcess(tmp_path / "kiosk", find_free_port(), tmp_path / "kiosk.log")
    try:
        kiosk.start()
        wait_for(lambda: kiosk.state()["console_connected"], timeout=30, what="kiosk logged in")
        console.answering.clear()
        wait_for(lambda: console.held, timeout=15, what="a kiosk message waiting for its ack")
        started = time.monotonic()
        kiosk.proc.send_signal(signal.SIGTERM)
        code = kiosk.proc.wait(SHUTDOWN_SECONDS + 5)
        took = time.monotonic() - started
        log = kiosk.log.read_text(errors="replace")
        assert code == 0, log[-2000:]
        assert took < SHUTDOWN_SECONDS, f"{took:.1f} s"
        assert "shutdown: interpreter exit" in log and "overran" not in log
    finally:
        console.answering.set()
        kiosk.stop()
        console.stop()


def test_a_shutdown_step_that_hangs_is_ended_by_the_deadline(tmp_path):
    """The last resort: a process whose shutdown step never returns exits with EXIT_FORCED at the
    deadline, and its log names the step that overran."""
    script = ("import logging, time\n"
              "from kiosk.app import ShutdownDeadline\n"
              "logging.basicConfig(level=logging.INFO)\n"
              "ShutdownDeadline(1.0).step('a step that hangs')\n"
              "time.sleep(60)\n")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30)
    assert done.returncode == EXIT_FORCED
    assert 1.0 <= time.monotonic() - started < 10
    assert "overran 1 s in step 'a step that hangs'" in done.stderr
