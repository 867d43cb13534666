"""The lockdown's screen-reader profile: Orca under the kiosk's X session, for a candidate whose
accommodation grants it, and only then.

Why it is part of the lockdown rather than always on: a screen reader reads the screen out loud
and publishes the page over the accessibility bus, where any client of that bus can read it too.
So the profile gives the reader its own private session bus (a ``dbus-daemon`` whose socket lives
in a temporary directory owned by the lockdown), starts Orca and the browser on it, and journals
both: whatever happens to the kiosk, the restore journal stops every process of the profile,
including the helpers Orca starts on its own (the accessibility bus launcher, speech-dispatcher),
which all carry the profile's directory in their command line or run in its process groups.

Chromium publishes its accessibility tree only when asked (``--force-renderer-accessibility``);
the profile adds that flag, and nothing else about the lockdown changes: the same policy, the same
shortcut grabs (Orca's own keys use Insert or Caps Lock, which are not grabbed).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from collections.abc import Sequence

from hardening.errors import HardeningError
from hardening.restore_journal import PROFILE_PREFIX as LOCKDOWN_PREFIX, RestoreJournal

CHROMIUM_ACCESSIBILITY_FLAGS = ("--force-renderer-accessibility",)
PROFILE_PREFIX = f"{LOCKDOWN_PREFIX}screen-reader-"  # a lockdown temporary directory, so restore removes it
BUS_WAIT_SECONDS = 10.0


def _environment(home: Path, display: str | None) -> dict[str, str]:
    """The profile's environment: its own bus, runtime and settings directories (nothing shared
    with the kiosk user's desktop settings, nothing left behind)."""
    env = dict(os.environ, XDG_RUNTIME_DIR=str(home), XDG_CONFIG_HOME=str(home / "config"),
               XDG_DATA_HOME=str(home / "data"), XDG_CACHE_HOME=str(home / "cache"),
               DBUS_SESSION_BUS_ADDRESS=f"unix:path={home / 'bus'}", ACCESSIBILITY_ENABLED="1")
    env.pop("NO_AT_BRIDGE", None)
    if display:
        env["DISPLAY"] = display
    return env


def start_screen_reader(journal: RestoreJournal, command: Sequence[str], display: str | None) -> dict[str, str]:
    """Start the private session bus and the screen reader; returns the environment the browser
    must run in to be read. Raises HardeningError if the bus does not come up."""
    home = journal.make_temp_dir(PROFILE_PREFIX)
    env = _environment(home, display)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    journal.spawn(["dbus-daemon", "--session", "--nofork", "--nopidfile", f"--address=unix:path={home / 'bus'}"],
                  marker=str(home), **quiet)
    deadline = time.monotonic() + BUS_WAIT_SECONDS
    while not (home / "bus").exists():
        if time.monotonic() > deadline:
            raise HardeningError("the screen reader's session bus did not start (is dbus-daemon installed?)")
        time.sleep(0.05)
    # ``env NAME=DIR`` puts the profile's directory in the command line the journal marks it by.
    journal.spawn(["env", f"INVIGIL_SCREEN_READER={home}", *command], marker=str(home), **quiet)
    return {name: env[name] for name in ("DBUS_SESSION_BUS_ADDRESS", "ACCESSIBILITY_ENABLED")}
