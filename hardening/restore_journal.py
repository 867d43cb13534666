"""The restore journal: every change lockdown makes is written down, durably, before it is made.

Lockdown changes the machine (a managed browser policy, a browser profile, a running browser).
Those changes must disappear when the exam ends, and also after a crash, a ``kill -9`` or a power
cut, which is where today's lockdown browsers leave machines broken. So each change is first
appended to a JSON-lines journal and fsynced, and only then carried out. ``restore`` undoes the
entries in reverse order; each undo is idempotent, so a change that was journaled but never
carried out (a crash in between) is simply found already undone.

The journal directory is locked (``flock``) by the process that owns the changes. The kernel drops
the lock when that process dies however it dies, so ``restore`` can tell a live lockdown (refuse
to pull the rug from under it) from a dead one (clean up after it).
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Iterator, Sequence

from exam_core.files import fsync_dir, write_atomic
from hardening.errors import HardeningError, RestoreError

JOURNAL_MAX_BYTES = 16 * 1024 * 1024
PROFILE_PREFIX = "invigil-kiosk-profile-"
KILL_GRACE_SECONDS = 3.0


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown"


def _start_ticks(pid: int) -> int | None:
    """Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def _processes_to_stop(marker: str, pgid: int | None, leader_ticks: int | None) -> list[int]:
    """Processes carrying ``marker`` in their command line, plus the rest of the recorded group."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        pid = int(entry)
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            in_group = pgid is not None and os.getpgid(pid) == pgid
        except (OSError, ProcessLookupError):
            continue
        ticks = _start_ticks(pid)
        late_enough = leader_ticks is not None and ticks is not None and ticks >= leader_ticks
        if marker in cmdline or (in_group and late_enough):
            found.append(pid)
    return found


def stop_processes(pids: Sequence[int], grace: float = KILL_GRACE_SECONDS) -> None:
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [pid for pid in alive if _start_ticks(pid) is not None and not _is_zombie(pid)]
    for pid in alive:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@dataclass
class RestoreReport:
    undone: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, list[str]]:
        return {"undone": self.undone, "notes": self.notes, "errors": self.errors}


class RestoreJournal:
    """A journal file plus the lock on its directory; one lockdown owns it at a time."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock_fd: int | None = None

    # -- ownership ----------------------------------------------------------------------------
    def acquire(self) -> None:
        """Take the lock; raises HardeningError if a live process already holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise HardeningError(f"{self.path}: a running lockdown holds this journal") from None
        self._lock_fd = fd

    def release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    @contextmanager
    def owned(self) -> Iterator[RestoreJournal]:
        """Own the journal; undo whatever a crashed predecessor left behind first."""
        self.acquire()
        try:
            if self.path.exists():
                self.restore()
            yield self
        finally:
            self.release()

    # -- recording ----------------------------------------------------------------------------
    def record(self, entry: dict[str, Any]) -> None:
        if self._lock_fd is None:
            raise HardeningError("record() without owning the journal")
        created = not self.path.exists()
        line = json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            fsync_dir(self.path.parent)

    def write_file(self, path: str | Path, data: bytes, mode: int = 0o644) -> None:
        """Replace (or create) a file, journaling its previous content and any directory created."""
        path = Path(path).absolute()
        missing = [p for p in reversed(path.parents) if not p.exists()]
        for directory in missing:
            self.record({"op": "mkdir", "path": str(directory)})
            directory.mkdir(mode=0o755)
        previous = path.read_bytes() if path.is_file() else None
        self.record({"op": "file", "path": str(path), "existed": previous is not None,
                     "previous_b64": base64.b64encode(previous).decode() if previous is not None else None,
                     "previous_mode": path.stat().st_mode & 0o7777 if previous is not None else None,
                     "written_sha256": hashlib.sha256(data).hexdigest()})
        write_atomic(path, data, mode)

    def make_temp_dir(self, prefix: str = PROFILE_PREFIX) -> Path:
        path = Path(tempfile.gettempdir()) / f"{prefix}{secrets.token_hex(8)}"
        self.record({"op": "tempdir", "path": str(path)})
        path.mkdir(mode=0o700)
        return path

    def spawn(self, argv: Sequence[str], marker: str, **popen: Any) -> subprocess.Popen:
        """Start a process in its own group; journaled first by a marker in its command line."""
        if marker not in " ".join(argv):
            raise HardeningError("the process marker must appear in its command line")
        self.record({"op": "process", "marker": marker, "boot_id": _boot_id()})
        process = subprocess.Popen(list(argv), start_new_session=True, **popen)
        self.record({"op": "process_group", "pgid": process.pid, "boot_id": _boot_id(),
                     "leader_ticks": _start_ticks(process.pid), "marker": marker})
        return process

    # -- undoing ------------------------------------------------------------------------------
    def entries(self, report: RestoreReport | None = None) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        if self.path.stat().st_size > JOURNAL_MAX_BYTES:
            raise RestoreError(f"{self.path}: journal larger than {JOURNAL_MAX_BYTES} bytes")
        lines = self.path.read_bytes().split(b"\n")
        result = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                if not isinstance(entry, dict) or "op" not in entry:
                    raise ValueError("not an entry")
                result.append(entry)
            except ValueError:
                # A torn last line is a change that was never carried out (we fsync before acting).
                where = "last line (torn write)" if number >= len(lines) - 1 else f"line {number}"
                if report is not None:
                    report.notes.append(f"{self.path}: skipped unreadable {where}")
        return result

    def owner(self) -> int | None:
        """The uid that wrote the journal (None when there is none)."""
        try:
            return self.path.stat().st_uid
        except FileNotFoundError:
            return None

    def restore(self) -> RestoreReport:
        """Undo every journaled change, newest first; the journal is removed only if all succeed.

        Only the journal's owner may replay it: a journal written by the unprivileged kiosk user
        and replayed by root would let that user have root write any file ("restore" its
        "previous content"). ``restore_pending`` run as root therefore drops to the owner first.
        """
        owner = self.owner()
        if owner is not None and owner != os.geteuid():
            raise RestoreError(f"{self.path}: written by uid {owner}; restore it as that user "
                               "(`hardening restore` run as root does so)")
        report = RestoreReport()
        entries = self.entries(report)
        groups = {e["marker"]: e for e in entries if e["op"] == "process_group"}
        for entry in reversed(entries):
            try:
                self._undo(entry, groups, report)
            except (OSError, ValueError, KeyError) as exc:
                report.errors.append(f"{entry.get('op')} {entry.get('path', entry.get('marker', ''))}: {exc}")
        if report.errors:
            raise RestoreError("; ".join(report.errors))
        if self.path.exists():
            self.path.unlink()
            fsync_dir(self.path.parent)
        return report

    def _undo(self, entry: dict[str, Any], groups: dict[str, dict], report: RestoreReport) -> None:
        op = entry["op"]
        if op == "process":
            if entry.get("boot_id") != _boot_id():
                report.notes.append(f"process {entry['marker']}: machine rebooted since, nothing runs")
                return
            group = groups.get(entry["marker"], {})
            pids = _processes_to_stop(entry["marker"], group.get("pgid"), group.get("leader_ticks"))
            stop_processes(pids)
            report.undone.append(f"stopped {len(pids)} process(es) marked {entry['marker']}")
        elif op == "tempdir":
            path = Path(entry["path"])
            if not path.name.startswith(PROFILE_PREFIX) or path.parent != Path(tempfile.gettempdir()):
                raise ValueError(f"refusing to remove {path}: not a lockdown temporary directory")
            if path.exists():
                shutil.rmtree(path)
            report.undone.append(f"removed {path}")
        elif op == "file":
            self._undo_file(entry, report)
        elif op == "mkdir":
            path = Path(entry["path"])
            try:
                path.rmdir()
                report.undone.append(f"removed directory {path}")
            except FileNotFoundError:
                pass
            except OSError:
                report.notes.append(f"kept directory {path}: no longer empty")
        elif op != "process_group":
            raise ValueError(f"unknown journal operation {op!r}")

    def _undo_file(self, entry: dict[str, Any], report: RestoreReport) -> None:
        path = Path(entry["path"])
        current = path.read_bytes() if path.is_file() else None
        if current is not None and hashlib.sha256(current).hexdigest() != entry["written_sha256"]:
            report.notes.append(f"{path} was changed by someone else during lockdown; restored anyway")
        if entry["existed"]:
            write_atomic(path, base64.b64decode(entry["previous_b64"]), entry["previous_mode"])
            report.undone.append(f"restored previous content of {path}")
        elif current is not None:
            path.unlink()
            fsync_dir(path.parent)
            report.undone.append(f"removed {path}")


def restore_pending(path: str | Path) -> RestoreReport:
    """Undo what a crashed or killed lockdown left behind; a no-op when nothing is journaled.

    Call it at every start of the kiosk (and the provisioned unit runs it as root before each
    start), so a hard reboot in the middle of an exam does not leave the machine locked down.
    Run as root on another user's journal, it replays the journal with that user's rights only.
    """
    journal = RestoreJournal(path)
    owner = journal.owner()
    if owner is not None and owner != os.geteuid() and os.geteuid() == 0:
        return _restore_as(owner, journal)
    return _restore_here(journal)


def _restore_here(journal: RestoreJournal) -> RestoreReport:
    journal.acquire()
    try:
        return journal.restore()
    finally:
        journal.release()


def _restore_as(uid: int, journal: RestoreJournal) -> RestoreReport:
    """Fork, drop to ``uid`` (and its primary group, no supplementary groups), restore there."""
    try:
        gid = pwd.getpwuid(uid).pw_gid
    except KeyError:
        gid = uid
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns
        os.close(read_end)
        try:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            outcome: dict[str, Any] = {"report": _restore_here(journal).to_dict()}
        except (HardeningError, OSError) as exc:
            outcome = {"error": str(exc), "held": isinstance(exc, HardeningError)
                       and not isinstance(exc, RestoreError)}
        with os.fdopen(write_end, "w") as pipe:
            json.dump(outcome, pipe)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        text = pipe.read()
    os.waitpid(pid, 0)
    try:
        outcome = json.loads(text)
    except ValueError:
        raise RestoreError(f"{journal.path}: restore as uid {uid} died without an answer") from None
    if "error" in outcome:
        raise (HardeningError if outcome["held"] else RestoreError)(outcome["error"])
    return RestoreReport(**outcome["report"])
