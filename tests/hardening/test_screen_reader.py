"""The lockdown's screen-reader profile for real: Orca and a private session bus under Xvfb,
Chromium publishing the exam page to it, and nothing of it left after the lockdown ends, even when
the lockdown process is killed; without the profile, no reader runs and the page is not published."""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from hardening.lockdown import Lockdown, settings_from_policy
from hardening.policy import load_policy
from hardening.restore_journal import RestoreJournal, restore_pending
from hardening.screen_reader import PROFILE_PREFIX
from tests.support.ports import find_free_port
from tests.support.tools import missing_tool
from tests.support.atspi import require_atspi, wait_for_name
from tests.support.hit_log_server import HitLogServer

pytestmark = [pytest.mark.xinput, pytest.mark.browser, pytest.mark.slow]

PAGE = ("<!doctype html><html lang='en'><head><title>Invigil examination</title></head><body>"
        "<h1>Question 1 of 2</h1><fieldset><legend>Which option is the first?</legend>"
        "<label><input type='radio' name='a'> Option A</label></fieldset></body></html>")


@pytest.fixture
def tools():
    for binary in ("orca", "dbus-daemon"):
        if shutil.which(binary) is None:
            missing_tool(binary, "apt-get install orca (scripts/bootstrap-deps)")
    require_atspi()


def profile_processes(home: Path) -> list[int]:
    """Every process of the profile: by its directory in the command line or the environment
    (Orca itself runs as ``python3 /usr/bin/orca``, its directory only in INVIGIL_SCREEN_READER)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and any(str(home).encode() in (entry / part).read_bytes()
                                            for part in ("cmdline", "environ")):
                found.append(int(entry.name))
        except OSError:
            pass
    return found


def profile_dir(journal: Path) -> Path:
    return next(Path(e["path"]) for e in RestoreJournal(journal).entries()
                if e["op"] == "tempdir" and Path(e["path"]).name.startswith(PROFILE_PREFIX))


def lockdown(url: str, tmp_path: Path, display: str, screen_reader: bool) -> Lockdown:
    policy = load_policy("development")
    settings = settings_from_policy(url, policy, policy_dir=str(tmp_path / "managed"),
                                    journal=str(tmp_path / "journal.jsonl"), display=display,
                                    screen_reader=screen_reader)
    return Lockdown(settings, policy)


def test_screen_reader_profile_reads_the_page_and_leaves_nothing(tools, xvfb_display, tmp_path):
    page = HitLogServer(find_free_port(), PAGE)
    session = lockdown(page.url, tmp_path, xvfb_display, screen_reader=True)
    try:
        session.start()
        home = profile_dir(session.journal.path)
        seen = wait_for_name(home, xvfb_display, "heading", "Question 1 of 2")
        assert ["radio button", "Option A"] in seen and ["document web", "Invigil examination"] in seen
        processes = profile_processes(home)
        assert any(b"orca" in Path(f"/proc/{pid}/cmdline").read_bytes() for pid in processes), processes
        assert b"--force-renderer-accessibility" in Path(f"/proc/{session.browser.pid}/cmdline").read_bytes()
    finally:
        report = session.stop()
        page.close()
    assert report.errors == [], report.errors
    time.sleep(0.5)
    assert profile_processes(home) == [] and not home.exists(), "the screen reader outlived the lockdown"


def test_a_crash_leaves_the_reader_to_the_restore_journal(tools, xvfb_display, tmp_path):
    page = HitLogServer(find_free_port(), PAGE)
    session = lockdown(page.url, tmp_path, xvfb_display, screen_reader=True)
    try:
        session.start()
        home = profile_dir(session.journal.path)
        wait_for_name(home, xvfb_display, "heading", "Question 1 of 2")
        os.killpg(session.browser.pid, signal.SIGKILL)  # the kiosk died: nobody calls stop()...
        if session.grab is not None:
            session.grab.stop()                          # (its X connection would die with it)
        session.journal.release()
        report = restore_pending(session.journal.path)
        time.sleep(0.5)
        assert any(line.startswith("stopped") for line in report.undone), report.undone
        assert profile_processes(home) == [] and not home.exists()
    finally:
        session._owned = False
        page.close()


def test_without_the_accommodation_no_reader_runs(tools, xvfb_display, tmp_path):
    page = HitLogServer(find_free_port(), PAGE)
    session = lockdown(page.url, tmp_path, xvfb_display, screen_reader=False)
    try:
        session.start()
        assert page.wait_for("/", 60)
        entries = RestoreJournal(session.journal.path).entries()
        assert not any(Path(e.get("path", "")).name.startswith(PROFILE_PREFIX) for e in entries)
        assert b"--force-renderer-accessibility" not in Path(f"/proc/{session.browser.pid}/cmdline").read_bytes()
    finally:
        session.stop()
        page.close()
