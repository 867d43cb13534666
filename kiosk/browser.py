"""The kiosk's locked-down browser, in the profile the admitted candidate needs.

Why it restarts: the lockdown starts before anyone is admitted, but whether the screen reader runs
(hardening.screen_reader) depends on the candidate's accommodations, known only at admission. When
the admitted candidate's need differs from the running profile, the browser is closed, the lockdown
undone and started again in the other profile: on the identity screen, before the exam begins, so
the candidate loses nothing (the page comes back where the kiosk is). A candidate without the
accommodation never has a screen reader running; one with it has it from the identity screen on.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from kiosk.runtime import KioskRuntime

log = logging.getLogger("kiosk")
REOPEN_SECONDS = 2.0  # a browser that exited by itself is reopened after this pause


class LockedBrowser:
    """Runs ``hardening.lockdown.run_lockdown`` until ``stopping`` is set, switching the
    screen-reader profile to follow the admitted candidate. ``overrides`` go to
    ``settings_from_policy`` (policy_dir, journal, display: for tests and special installs)."""

    def __init__(self, url: str, policy_file: str | None, runtime: KioskRuntime, stopping: threading.Event,
                 **overrides: Any) -> None:
        self.url = url
        self.policy_file = policy_file
        self.runtime = runtime
        self.stopping = stopping
        self.overrides = overrides
        self.running_reader: bool | None = None
        self._wake = threading.Event()

    def reader_wanted(self) -> bool:
        attempt = self.runtime.attempt
        return bool(attempt is not None and attempt.accommodations.screen_reader)

    def attempt_changed(self) -> None:
        """A candidate was admitted: restart only if they need the other profile."""
        if self.reader_wanted() != self.running_reader:
            self._wake.set()

    def stop(self) -> None:
        """Called with ``stopping`` set: the lockdown ends and is undone."""
        self._wake.set()

    def run(self) -> None:
        from hardening.lockdown import run_lockdown, settings_from_policy
        from hardening.policy import load_policy
        policy = load_policy(self.policy_file)
        while not self.stopping.is_set():
            self._wake.clear()
            self.running_reader = self.reader_wanted()
            settings = settings_from_policy(self.url, policy, screen_reader=self.running_reader, **self.overrides)
            try:
                run_lockdown(settings, policy, stop=self._wake)
            except Exception as exc:  # noqa: BLE001 - logged; the browser is reopened after a pause
                log.error("locked-down browser failed: %s", exc)
            if not self._wake.is_set():
                self.stopping.wait(REOPEN_SECONDS)
        self.running_reader = None
