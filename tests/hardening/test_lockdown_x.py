"""Lockdown for real: X key grabs under Xvfb, Debian's Chromium honouring the managed policy,
and ``restore`` after ``kill -9`` of the lockdown process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from hardening.chromium_policy import POLICY_FILE_NAME
from hardening.restore_journal import PROFILE_PREFIX, RestoreJournal, restore_pending
from hardening.keygrab import ShortcutGrab
from tests.support.ports import find_free_port
from tests.support.hit_log_server import HitLogServer, escaping_page
from tests.support.processes import marker_processes
from tests.support.xobserver import KeyObserver

pytestmark = pytest.mark.xinput
POLICY_ROOT = Path("/etc/chromium/policies")


def xdotool(*keys: str) -> None:
    subprocess.run(["xdotool", "key", "--delay", "30", *keys], check=True, timeout=10)


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file and directory below ``root`` with its content, to compare before and after."""
    if not root.exists():
        return {}
    return {str(p): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))} | {str(root): None}


def test_grab_swallows_listed_shortcuts_and_nothing_else(xvfb_display):
    observer = KeyObserver(xvfb_display)
    grab = ShortcutGrab(["alt+Tab", "ctrl+w", "F11", "ctrl+shift+i"], xvfb_display)
    try:
        status = grab.start()
        assert status.failed == {} and len(status.grabbed) == 4
        xdotool("alt+Tab", "ctrl+w", "F11", "ctrl+shift+i", "a")
        assert observer.wait_for("a")
        assert grab.wait_swallowed(4, 3), grab.status.swallowed
        assert set(grab.status.swallowed) == {"alt+Tab", "ctrl+shift+i", "ctrl+w", "F11"}
        assert not {"Tab", "w", "F11", "i", "I"} & set(observer.keys), observer.keys
        xdotool("Num_Lock", "ctrl+w", "Num_Lock", "b")  # still swallowed with NumLock on
        assert observer.wait_for("b")
        assert "w" not in observer.keys and grab.wait_swallowed(5, 3)
    finally:
        grab.stop()
    xdotool("alt+Tab", "ctrl+w", "c")  # released: the observer now receives them
    assert observer.wait_for("c")
    assert {"Tab", "w"} <= set(observer.keys)
    observer.close()


@pytest.fixture
def policy_root_guard():
    """Whatever a failing test leaves in /etc/chromium/policies is put back by the restore
    mechanism itself, then checked against the state before the test."""
    before = snapshot(POLICY_ROOT)
    journals: list[Path] = []
    yield journals
    for journal in journals:
        if journal.exists():
            restore_pending(journal)
    assert snapshot(POLICY_ROOT) == before


@pytest.mark.browser
@pytest.mark.slow
def test_chromium_without_the_policy_does_escape(xvfb_display, tmp_path):
    """Control for the test below: the same page, without lockdown, reaches the other server."""
    other = HitLogServer(find_free_port())
    kiosk = HitLogServer(find_free_port(), escaping_page(other.url))
    profile = tempfile.mkdtemp(prefix="invigil-test-profile-")
    browser = subprocess.Popen(["/usr/bin/chromium", "--no-sandbox", "--no-first-run", "--disable-gpu",
                                f"--user-data-dir={profile}", kiosk.url],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        assert kiosk.wait_for("/beacon", 60)
        assert other.wait_for("/secret", 15), other.hits
    finally:
        os.killpg(browser.pid, signal.SIGKILL)
        browser.wait()
        subprocess.run(["rm", "-rf", profile], check=True)
        kiosk.close()
        other.close()


@pytest.mark.browser
@pytest.mark.slow
def test_lockdown_blocks_navigation_grabs_keys_and_restore_undoes_kill9(xvfb_display, tmp_path,
                                                                       policy_root_guard):
    other = HitLogServer(find_free_port())
    kiosk = HitLogServer(find_free_port(), escaping_page(other.url))
    journal = tmp_path / "state" / "journal.jsonl"
    policy_root_guard.append(journal)
    before = snapshot(POLICY_ROOT)
    lockdown = subprocess.Popen([sys.executable, "-m", "hardening", "lockdown", "--url", kiosk.url,
                                 "--journal", str(journal)], start_new_session=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert kiosk.wait_for("/beacon", 60), "the kiosk page never ran"
        time.sleep(4)  # the page tries to leave 300 ms after its beacon
        assert other.hits == [], "a URL outside the allowlist was fetched"
        policy = json.loads((POLICY_ROOT / "managed" / POLICY_FILE_NAME).read_text())
        assert policy["URLAllowlist"] == [kiosk.url.rstrip("/")]

        observer = KeyObserver(xvfb_display)
        xdotool("ctrl+w", "alt+F4", "ctrl+t", "a")
        assert observer.wait_for("a")
        assert not {"w", "F4", "t"} & set(observer.keys), observer.keys

        entries = RestoreJournal(journal).entries()
        profile = next(Path(e["path"]) for e in entries if e["op"] == "tempdir")
        marker = f"--user-data-dir={profile}"
        assert profile.name.startswith(PROFILE_PREFIX) and profile.is_dir()
        assert marker_processes(marker)

        os.kill(lockdown.pid, signal.SIGKILL)
        lockdown.wait(timeout=10)
        # The crash left every change in place ...
        assert (POLICY_ROOT / "managed" / POLICY_FILE_NAME).exists() and profile.exists()
        # ... but the X server released the grabs with the dead client's connection.
        xdotool("ctrl+w", "b")
        assert observer.wait_for("b") and "w" in observer.keys
        observer.close()

        done = subprocess.run([sys.executable, "-m", "hardening", "restore", "--journal", str(journal),
                               "--json"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert any(line.startswith("stopped") for line in report["undone"])
        assert snapshot(POLICY_ROOT) == before
        assert not profile.exists() and not journal.exists()
        time.sleep(0.5)
        assert marker_processes(marker) == []
    finally:
        if lockdown.poll() is None:
            os.killpg(lockdown.pid, signal.SIGKILL)
            lockdown.wait()
        kiosk.close()
        other.close()


@pytest.mark.browser
@pytest.mark.slow
def test_lockdown_session_api_reports_shortcuts_browser_exit_and_restores(xvfb_display, tmp_path):
    """The in-process API the kiosk uses: a callback per swallowed shortcut, the browser's exit
    seen, every change undone by stop(); the policy goes to a temporary directory here."""
    from hardening.lockdown import Lockdown, settings_from_policy
    from hardening.policy import load_policy

    kiosk = HitLogServer(find_free_port())
    policy = load_policy("development")
    settings = settings_from_policy(kiosk.url, policy, policy_dir=str(tmp_path / "managed"),
                                    journal=str(tmp_path / "journal.jsonl"), display=xvfb_display)
    seen: list[str] = []
    try:
        with Lockdown(settings, policy, on_swallowed=seen.append) as session:
            assert kiosk.wait_for("/", 60)
            assert (tmp_path / "managed" / POLICY_FILE_NAME).exists()
            xdotool("ctrl+t", "F12")
            assert session.grab.wait_swallowed(2, 5) and seen == ["ctrl+t", "F12"]
            assert session.wait(timeout=0.2) is None  # still running
            os.killpg(session.browser.pid, signal.SIGKILL)  # the browser dies under the candidate
            assert session.wait(timeout=10) is not None
        assert not (tmp_path / "managed").exists() and not (tmp_path / "journal.jsonl").exists()
        with pytest.raises(RuntimeError, match="kiosk crashed"), Lockdown(settings, policy):
            raise RuntimeError("kiosk crashed")
        assert not (tmp_path / "managed").exists()
    finally:
        kiosk.close()


@pytest.mark.browser
@pytest.mark.slow
def test_lockdown_cli_restores_on_sigterm(xvfb_display, tmp_path):
    kiosk = HitLogServer(find_free_port())
    policy_dir = tmp_path / "managed"
    lockdown = subprocess.Popen([sys.executable, "-m", "hardening", "lockdown", "--url", kiosk.url,
                                 "--policy-dir", str(policy_dir), "--journal", str(tmp_path / "j.jsonl"),
                                 "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert kiosk.wait_for("/", 60)
        assert (policy_dir / POLICY_FILE_NAME).exists()
        lockdown.send_signal(signal.SIGTERM)
        out, err = lockdown.communicate(timeout=30)
        assert lockdown.returncode == 0, err
        outcome = json.loads(out)
        assert "ctrl+w" in outcome["grabbed"] and outcome["grab_failed"] == {}
        assert outcome["restore"]["errors"] == []
        assert f"removed {policy_dir / POLICY_FILE_NAME}" in outcome["restore"]["undone"]
        assert not policy_dir.exists() and not (tmp_path / "j.jsonl").exists()
    finally:
        if lockdown.poll() is None:
            lockdown.kill()
            lockdown.wait()
        kiosk.close()


@pytest.mark.browser
@pytest.mark.slow
def test_run_lockdown_in_a_worker_thread_ends_on_its_stop_event(xvfb_display, tmp_path):
    """How the kiosk runs it: in a thread (no signal handlers there), ended by an Event."""
    import threading

    from hardening.lockdown import run_lockdown, settings_from_policy
    from hardening.policy import load_policy

    kiosk = HitLogServer(find_free_port())
    policy = load_policy("development")
    settings = settings_from_policy(kiosk.url, policy, policy_dir=str(tmp_path / "managed"),
                                    journal=str(tmp_path / "journal.jsonl"), display=xvfb_display)
    stop = threading.Event()
    outcome: dict = {}
    worker = threading.Thread(target=lambda: outcome.update(result=run_lockdown(settings, policy, stop)))
    worker.start()
    try:
        assert kiosk.wait_for("/", 60)
        stop.set()
        worker.join(timeout=30)
        assert not worker.is_alive()
        result = outcome["result"]
        assert result.restore.errors == [] and result.browser_exit is not None
        assert not (tmp_path / "managed").exists() and not (tmp_path / "journal.jsonl").exists()
    finally:
        stop.set()
        worker.join(timeout=30)
        kiosk.close()
