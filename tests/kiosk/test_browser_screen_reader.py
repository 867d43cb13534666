"""The kiosk's locked-down browser follows the admitted candidate: without the screen-reader
accommodation no reader runs; a candidate granted it gets Orca with the browser from the identity
screen on, and the page as a screen reader reads it (over AT-SPI). Debian's Chromium and Orca under
Xvfb, the real lockdown, a real kiosk on 127.0.0.1."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from hardening.restore_journal import RestoreJournal
from hardening.screen_reader import PROFILE_PREFIX
from kiosk.browser import LockedBrowser

from tests.support.tools import missing_tool
from tests.support.atspi import require_atspi, wait_for_name
from tests.support.kiosk_pages import Kiosk

pytestmark = [pytest.mark.browser, pytest.mark.xinput, pytest.mark.slow]


def running_profile(journal: Path, reader: bool, timeout: float = 60) -> Path | None:
    """Wait until the lockdown runs a browser in the wanted profile; the reader's directory, if any."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entries = RestoreJournal(journal).entries() if journal.exists() else []
        homes = [Path(e["path"]) for e in entries if e["op"] == "tempdir" and PROFILE_PREFIX in e["path"]]
        browsers = [e for e in entries if e["op"] == "process_group"]
        if browsers and bool(homes) == reader and (not homes or homes[-1].exists()):
            return homes[-1] if homes else None
        time.sleep(0.2)
    raise AssertionError(f"no browser {'with' if reader else 'without'} the screen reader within {timeout} s")


def test_the_screen_reader_runs_for_the_candidate_granted_it(xvfb_display, tmp_path):
    for binary in ("orca", "dbus-daemon"):
        if shutil.which(binary) is None:
            missing_tool(binary, "apt-get install orca (scripts/bootstrap-deps)")
    require_atspi()
    kiosk = Kiosk(tmp_path / "kiosk")
    stopping = threading.Event()
    journal = tmp_path / "restore-journal.jsonl"
    browser = LockedBrowser(kiosk.url, "development", kiosk.runtime, stopping, display=xvfb_display,
                            policy_dir=str(tmp_path / "managed"), journal=str(journal))
    kiosk.runtime.on_attempt_change = lambda attempt_id: browser.attempt_changed()
    thread = threading.Thread(target=browser.run, daemon=True)
    thread.start()
    try:
        assert running_profile(journal, reader=False) is None
        kiosk.admit("ATT-A", name="Ada Lovelace")  # no accommodation: the browser stays as it is
        assert browser.running_reader is False
        kiosk.admit("ATT-B", name="Grace Hopper", screen_reader=True)
        home = running_profile(journal, reader=True)
        assert browser.running_reader is True
        seen = wait_for_name(home, xvfb_display, "heading", "Confirm your identity")
        assert ["push button", "Yes, these are my details"] in seen
    finally:
        stopping.set()
        browser.stop()
        thread.join(timeout=30)
        kiosk.close()
    assert not thread.is_alive() and not journal.exists(), "the lockdown was not undone"
    assert home is not None and not home.exists()
