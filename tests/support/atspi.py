"""What a screen reader gets from the accessibility bus (AT-SPI), read the way Orca reads it.

pyatspi is Debian's ``python3-pyatspi`` (a dependency of orca), importable by the system Python
only, so the query runs in ``/usr/bin/python3`` on the screen-reader profile's private bus.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from tests.support.tools import missing_tool

SYSTEM_PYTHON = "/usr/bin/python3"
_QUERY = r"""
import json, pyatspi
out = []
def walk(node, depth):
    if node is None or depth > 40:
        return
    try:
        role, name = node.getRoleName(), node.name
    except Exception:
        return
    if role in ("document web", "heading", "radio button", "push button", "check box", "dialog") and name:
        out.append([role, name])
    for i in range(node.childCount):
        walk(node.getChildAtIndex(i), depth + 1)
for app in pyatspi.Registry.getDesktop(0):
    if app is not None and "hromium" in (app.name or ""):
        walk(app, 0)
print(json.dumps(out))
"""


def require_atspi() -> None:
    done = subprocess.run([SYSTEM_PYTHON, "-c", "import pyatspi"], capture_output=True)
    if done.returncode != 0:
        missing_tool("pyatspi", "apt-get install orca (it brings python3-pyatspi)")


def accessible_names(bus_dir: Path, display: str) -> list[list[str]]:
    """(role, name) of every document, heading and control Chromium publishes on the bus."""
    env = dict(os.environ, DISPLAY=display, DBUS_SESSION_BUS_ADDRESS=f"unix:path={bus_dir / 'bus'}")
    done = subprocess.run([SYSTEM_PYTHON, "-c", _QUERY], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def wait_for_name(bus_dir: Path, display: str, role: str, name: str, timeout: float = 60) -> list[list[str]]:
    """Poll the bus until Chromium publishes ``role`` named ``name`` (the page has loaded)."""
    deadline = time.monotonic() + timeout
    seen: list[list[str]] = []
    while time.monotonic() < deadline:
        seen = accessible_names(bus_dir, display)
        if [role, name] in seen:
            return seen
        time.sleep(0.5)
    raise AssertionError(f"{role} {name!r} never published on the accessibility bus; saw {seen[:20]}")
