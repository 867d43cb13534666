"""Lock the candidate into the exam: managed browser policy, kiosk-mode Chromium, shortcut grabs.

Order matters. The restore journal is owned (and a crashed predecessor cleaned up) before any
change; the policy file is written before the browser starts (Chromium reads it at start); the
grabs are taken before the browser can take focus; and whatever happens afterwards, including
a signal, every journaled change is undone before ``run_lockdown`` returns.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable, Sequence

from hardening.chromium_policy import POLICY_FILE_NAME, kiosk_origin, policy_bytes
from hardening.errors import HardeningError
from hardening.restore_journal import RestoreJournal, RestoreReport
from hardening.keygrab import GrabStatus, ShortcutGrab
from hardening.policy import Policy
from hardening.screen_reader import CHROMIUM_ACCESSIBILITY_FLAGS, start_screen_reader

log = logging.getLogger(__name__)

CHROMIUM_FLAGS = ("--kiosk", "--no-first-run", "--no-default-browser-check", "--noerrdialogs",
                  "--disable-session-crashed-bubble", "--password-store=basic",
                  "--disable-features=Translate,MediaRouter", "--autoplay-policy=no-user-gesture-required")


@dataclass
class LockdownSettings:
    url: str
    policy_dir: Path
    journal: Path
    chromium: str
    shortcuts: list[str]
    display: str | None = None
    extra_flags: Sequence[str] = ()
    screen_reader: bool = False          # the candidate's accommodation: Orca runs with the browser
    screen_reader_command: Sequence[str] = ("orca", "--replace")


@dataclass
class LockdownResult:
    browser_exit: int | None
    grabs: GrabStatus | None
    restore: RestoreReport = field(default_factory=RestoreReport)


def settings_from_policy(url: str, policy: Policy, policy_dir: str | None = None,
                         journal: str | None = None, display: str | None = None,
                         screen_reader: bool = False) -> LockdownSettings:
    """``screen_reader``: the screen-reader profile (hardening.screen_reader), for a candidate
    whose accommodation grants it."""
    rules = policy["lockdown"]
    kiosk_origin(url)  # validate before anything changes
    return LockdownSettings(url=url, policy_dir=Path(policy_dir or rules["policy_dir"]),
                            journal=Path(journal or rules["journal"]), chromium=rules["chromium_binary"],
                            shortcuts=list(rules["shortcuts"]),
                            display=display if display is not None else os.environ.get("DISPLAY"),
                            screen_reader=screen_reader, screen_reader_command=tuple(rules["screen_reader_command"]))


def chromium_command(settings: LockdownSettings, profile: Path) -> list[str]:
    argv = [settings.chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *settings.extra_flags]
    if settings.screen_reader:
        argv += CHROMIUM_ACCESSIBILITY_FLAGS
    if os.geteuid() == 0:
        # Chromium refuses to start as root with its sandbox; a provisioned kiosk never runs as
        # root (the preflight "user" check fails it), this is for test machines only.
        log.warning("running the exam browser as root without its sandbox")
        argv.append("--no-sandbox")
    return [*argv, settings.url]


def _install_browser_policy(journal: RestoreJournal, settings: LockdownSettings, policy: Policy) -> None:
    """Write the managed policy unless the provisioned machine already has exactly this one.

    On a provisioned kiosk the policy is installed by root and lockdown runs unprivileged, so an
    identical file is left alone (nothing to journal); a different or missing one must be written,
    and if that is not permitted the lockdown fails before the browser starts.
    """
    target = settings.policy_dir / POLICY_FILE_NAME
    data = policy_bytes(settings.url, policy["lockdown"]["chromium_extra"])
    if target.is_file() and target.read_bytes() == data:
        log.info("managed browser policy %s already installed", target)
        return
    try:
        journal.write_file(target, data, 0o644)
    except PermissionError:
        raise HardeningError(f"{target}: cannot write the browser policy; install the provisioning "
                             "bundle's policy for this URL or run lockdown with the right to write it") from None


class Lockdown:
    """One locked-down browser session, for a caller (the kiosk) that runs its own event loop.

    ``start()`` owns the journal (restoring a crashed predecessor's changes first), installs the
    policy, takes the grabs and starts the browser; ``stop()`` ends the browser and undoes every
    change. Usable as a context manager, so an exception between the two still restores.
    """

    def __init__(self, settings: LockdownSettings, policy: Policy,
                 on_swallowed: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.policy = policy
        self.on_swallowed = on_swallowed
        self.journal = RestoreJournal(settings.journal)
        self.grab: ShortcutGrab | None = None
        self.browser: subprocess.Popen | None = None
        self._owned = False

    def start(self) -> subprocess.Popen:
        self.journal.acquire()
        self._owned = True
        try:
            if self.journal.path.exists():
                self.journal.restore()
            _install_browser_policy(self.journal, self.settings, self.policy)
            profile = self.journal.make_temp_dir()
            if self.settings.display:
                self.grab = ShortcutGrab(self.settings.shortcuts, self.settings.display, self.on_swallowed)
                self.grab.start()
            else:
                log.warning("no X display: shortcut grabs skipped (a Wayland compositor must offer none)")
            env = dict(os.environ, **({"DISPLAY": self.settings.display} if self.settings.display else {}))
            if self.settings.screen_reader:
                env.update(start_screen_reader(self.journal, self.settings.screen_reader_command,
                                               self.settings.display))
            self.browser = self.journal.spawn(chromium_command(self.settings, profile),
                                              marker=f"--user-data-dir={profile}", env=env,
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except BaseException:
            self.stop()
            raise
        return self.browser

    @property
    def grabs(self) -> GrabStatus | None:
        return self.grab.status if self.grab else None

    def wait(self, timeout: float | None = None) -> int | None:
        """The browser's exit status once it exits (None on timeout): the candidate left the exam."""
        if self.browser is None:
            return None
        try:
            return self.browser.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> RestoreReport:
        if not self._owned:
            return RestoreReport()
        try:
            if self.browser is not None and self.browser.poll() is None:
                self.browser.terminate()
                try:
                    self.browser.wait(5)
                except subprocess.TimeoutExpired:
                    self.browser.kill()
                    self.browser.wait()
            if self.grab is not None:
                self.grab.stop()
            return self.journal.restore()
        finally:
            self.journal.release()
            self._owned = False

    def __enter__(self) -> Lockdown:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def run_lockdown(settings: LockdownSettings, policy: Policy,
                 stop: threading.Event | None = None) -> LockdownResult:
    """Run the exam browser locked down until it exits, ``stop`` is set, or (when called from the
    main thread) SIGTERM/SIGINT/SIGHUP arrives; then undo every change.

    Signal handlers can only be installed from the main thread; a caller running this in a worker
    thread (the kiosk) ends it through ``stop`` instead.
    """
    session = Lockdown(settings, policy)
    stopping = stop if stop is not None else threading.Event()

    def on_signal(signum, _frame):
        stopping.set()

    in_main = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, on_signal)
                for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)} if in_main else {}
    result = LockdownResult(None, None)
    try:
        session.start()
        result.grabs = session.grabs
        while result.browser_exit is None and not stopping.is_set():
            result.browser_exit = session.wait(timeout=0.25)
    finally:
        result.restore = session.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if result.browser_exit is None and session.browser is not None:
        result.browser_exit = session.browser.returncode
    return result
