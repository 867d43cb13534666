"""Finding processes by what their command line carries, to prove that a test's children are gone.

Tests that start a browser or a lockdown give it a unique marker (a profile path, a journal path),
then read ``/proc`` for it: a process left behind is found even if it changed its name.
"""

from __future__ import annotations

import os
from pathlib import Path


def marker_processes(marker: str) -> list[int]:
    """Pids of the live processes whose command line contains ``marker``."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and marker.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                found.append(int(entry))
        except OSError:
            pass  # the process ended while we looked
    return found
