"""The restore journal and the Chromium policy, without a display."""

from __future__ import annotations

import base64
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import sys
import time
from pathlib import Path

import pytest

from hardening.chromium_policy import build_policy, kiosk_origin
from hardening.errors import HardeningError, PolicyError, RestoreError
from hardening.restore_journal import RestoreJournal, restore_pending
from hardening.keygrab import parse_shortcut


@pytest.fixture
def journal(tmp_path):
    j = RestoreJournal(tmp_path / "state" / "journal.jsonl")
    j.acquire()
    yield j
    j.release()


def test_new_file_and_its_directories_are_removed_on_restore(tmp_path, journal):
    target = tmp_path / "etc" / "chromium" / "policies" / "managed" / "kiosk.json"
    journal.write_file(target, b'{"a": 1}\n')
    assert target.read_bytes() == b'{"a": 1}\n'
    report = journal.restore()
    assert not (tmp_path / "etc").exists()
    assert not journal.path.exists()
    assert f"removed {target}" in report.undone


def test_previous_content_and_mode_come_back(tmp_path, journal):
    target = tmp_path / "policy.json"
    target.write_bytes(b"site policy\n")
    target.chmod(0o640)
    journal.write_file(target, b"lockdown policy\n", 0o644)
    assert target.read_bytes() == b"lockdown policy\n"
    journal.restore()
    assert target.read_bytes() == b"site policy\n"
    assert target.stat().st_mode & 0o777 == 0o640


def test_change_by_someone_else_is_reported_and_still_undone(tmp_path, journal):
    target = tmp_path / "policy.json"
    journal.write_file(target, b"ours\n")
    target.write_bytes(b"theirs\n")
    report = journal.restore()
    assert not target.exists()
    assert any("changed by someone else" in note for note in report.notes)


def test_directory_that_gained_files_is_kept(tmp_path, journal):
    target = tmp_path / "new" / "policy.json"
    journal.write_file(target, b"x")
    (tmp_path / "new" / "other.json").write_bytes(b"y")
    report = journal.restore()
    assert (tmp_path / "new" / "other.json").exists() and not target.exists()
    assert any("no longer empty" in note for note in report.notes)


def test_temp_dir_is_removed_and_a_forged_path_is_refused(tmp_path, journal):
    profile = journal.make_temp_dir()
    (profile / "Default").mkdir()
    journal.restore()
    assert not profile.exists()
    journal.record({"op": "tempdir", "path": str(tmp_path)})
    with pytest.raises(RestoreError, match="refusing to remove"):
        journal.restore()
    assert tmp_path.exists() and journal.path.exists()  # kept for a later retry


def test_torn_last_line_is_skipped(tmp_path, journal):
    target = tmp_path / "policy.json"
    journal.write_file(target, b"x")
    with open(journal.path, "ab") as handle:
        handle.write(b'{"op":"file","path":"/etc/pass')  # power cut mid-append
    report = journal.restore()
    assert not target.exists()
    assert any("torn write" in note for note in report.notes)


def test_spawned_process_is_stopped_by_restore(tmp_path, journal):
    marker = f"invigil-test-marker-{time.monotonic_ns()}"
    process = journal.spawn([sys.executable, "-c", "import time; time.sleep(60)", marker], marker=marker)
    journal.restore()
    assert process.wait(timeout=5) is not None


def test_restore_refuses_while_a_live_owner_holds_the_journal(tmp_path):
    path = tmp_path / "journal.jsonl"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from hardening.restore_journal import RestoreJournal\n"
        f"j = RestoreJournal({str(path)!r}); j.acquire(); print('held', flush=True); time.sleep(60)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(HardeningError, match="running lockdown"):
            restore_pending(path)
    finally:
        holder.kill()
        holder.wait()
    assert restore_pending(path).undone == []  # the kernel dropped the dead owner's lock


def test_record_requires_ownership(tmp_path):
    with pytest.raises(HardeningError):
        RestoreJournal(tmp_path / "j.jsonl").record({"op": "mkdir", "path": "/x"})


def test_chromium_policy_confines_to_the_kiosk_origin():
    policy = build_policy("http://127.0.0.1:8470/exam?x=1")
    assert policy["URLBlocklist"] == ["*"]
    assert policy["URLAllowlist"] == ["http://127.0.0.1:8470"]
    assert policy["VideoCaptureAllowedUrls"] == ["http://127.0.0.1:8470"]
    assert policy["DeveloperToolsAvailability"] == 2 and policy["IncognitoModeAvailability"] == 1
    assert policy["PrintingEnabled"] is False and policy["DownloadRestrictions"] == 3
    assert policy["ScreenCaptureAllowed"] is False and policy["RemoteDebuggingAllowed"] is False
    assert policy["ExtensionInstallBlocklist"] == ["*"] and policy["AudioCaptureAllowed"] is False
    json.dumps(policy)
    assert build_policy("https://kiosk.local/", {"ShowHomeButton": False})["URLAllowlist"] == \
        ["https://kiosk.local:443"]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "javascript:alert(1)", "http://", "http://u:p@h/"])
def test_bad_kiosk_urls_are_refused(url):
    with pytest.raises(PolicyError):
        kiosk_origin(url)


def test_extra_policy_cannot_weaken_the_core():
    with pytest.raises(PolicyError, match="DeveloperToolsAvailability"):
        build_policy("http://127.0.0.1:1/", {"DeveloperToolsAvailability": 0})


def test_shortcut_syntax():
    shortcut = parse_shortcut("ctrl+alt+F1")
    assert shortcut.modifiers == {"ctrl", "alt"} and shortcut.keysym_name == "F1"
    with pytest.raises(ValueError, match="hyper"):
        parse_shortcut("hyper+x")


@pytest.fixture
def world_traversable():
    """A directory another user can reach (pytest's own temporary root is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="invigil-journal-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create another user's journal")
def test_root_replays_another_users_journal_only_with_that_users_rights(world_traversable):
    """A kiosk user who forges a journal entry must not get root to overwrite a root-owned file."""
    nobody = pwd.getpwnam("nobody")
    tmp_path = world_traversable
    protected = tmp_path / "protected.conf"
    protected.write_bytes(b"root only\n")
    state = tmp_path / "state"
    state.mkdir(mode=0o777)
    state.chmod(0o777)
    journal = state / "journal.jsonl"
    forged = {"op": "file", "path": str(protected), "existed": True, "previous_mode": 0o644,
              "previous_b64": base64.b64encode(b"pwned\n").decode(), "written_sha256": "0" * 64}
    journal.write_text(json.dumps(forged) + "\n")
    os.chown(journal, nobody.pw_uid, nobody.pw_gid)
    with pytest.raises(RestoreError, match=f"Permission denied: '{tmp_path}/.protected.conf"):
        restore_pending(journal)
    assert protected.read_bytes() == b"root only\n" and journal.exists()
    with pytest.raises(RestoreError, match="written by uid"):
        RestoreJournal(journal).restore()  # the in-process path refuses outright


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create another user's journal")
def test_root_restores_the_kiosk_users_own_changes(world_traversable):
    nobody = pwd.getpwnam("nobody")
    tmp_path = world_traversable
    state = tmp_path / "state"
    state.mkdir()
    os.chown(state, nobody.pw_uid, nobody.pw_gid)
    target = state / "policy.json"
    target.write_bytes(b"lockdown\n")
    os.chown(target, nobody.pw_uid, nobody.pw_gid)
    journal = state / "journal.jsonl"
    journal.write_text(json.dumps({"op": "file", "path": str(target), "existed": False, "previous_b64": None,
                                   "previous_mode": None, "written_sha256": "0" * 64}) + "\n")
    os.chown(journal, nobody.pw_uid, nobody.pw_gid)
    report = restore_pending(journal)
    assert f"removed {target}" in report.undone
    assert not target.exists() and not journal.exists()
