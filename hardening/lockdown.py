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
from typing import Callable, Sequence

from hardening.chromium_policy import POLICY_FILE_NAME, kiosk_origin, policy_bytes
from hardening.errors import HardeningError
from hardening.journal import RestoreJournal, RestoreReport
from hardening.keygrab import GrabStatus, ShortcutGrab
from hardening.policy import Policy

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


@dataclass
class LockdownResult:
    browser_exit: int | None
    grabs: GrabStatus | None
    restore: RestoreReport = field(default_factory=RestoreReport)


def settings_from_policy(url: str, policy: Policy, policy_dir: str | None = None,
                         journal: str | None = None, display: str | None = None) -> LockdownSettings:
    rules = policy["lockdown"]
    kiosk_origin(url)  # validate before anything changes
    return LockdownSettings(url=url, policy_dir=Path(policy_dir or rules["policy_dir"]),
                            journal=Path(journal or rules["journal"]), chromium=rules["chromium_binary"],
                            shortcuts=list(rules["shortcuts"]),
                            display=display if display is not None else os.environ.get("DISPLAY"))


def chromium_command(settings: LockdownSettings, profile: Path) -> list[str]:
    argv = [settings.chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *settings.extra_flags]
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


def run_lockdown(settings: LockdownSettings, policy: Policy,
                 on_started: Callable[[subprocess.Popen, GrabStatus | None], None] | None = None
                 ) -> LockdownResult:
    """Run the exam browser locked down until it exits (or SIGTERM/SIGINT/SIGHUP), then restore."""
    journal = RestoreJournal(settings.journal)
    result = LockdownResult(None, None)
    with journal.owned():
        grab = None
        stopping = threading.Event()
        browser: subprocess.Popen | None = None

        def on_signal(signum, _frame):
            stopping.set()
            if browser is not None and browser.poll() is None:
                browser.terminate()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        try:
            _install_browser_policy(journal, settings, policy)
            profile = journal.make_temp_dir()
            if settings.display:
                grab = ShortcutGrab(settings.shortcuts, settings.display)
                result.grabs = grab.start()
            else:
                log.warning("no X display: shortcut grabs skipped (Wayland compositors must block them)")
            env = dict(os.environ, **({"DISPLAY": settings.display} if settings.display else {}))
            command = chromium_command(settings, profile)
            browser = journal.spawn(command, marker=f"--user-data-dir={profile}", env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if on_started is not None:
                on_started(browser, result.grabs)
            if not stopping.is_set():
                result.browser_exit = browser.wait()
            else:
                browser.terminate()
                result.browser_exit = browser.wait()
        finally:
            if grab is not None:
                grab.stop()
            result.restore = journal.restore()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    return result
