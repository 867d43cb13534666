"""Fixtures of the cross-tier runs: ``real``, the real console and a real kiosk process.

What it is built from is in tests/support/kiosk_real_console.py; the demo's runner is in
tests/support/demo_run.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.kiosk_process import KioskProcess
from tests.support.kiosk_real_console import real_console


@pytest.fixture
def real(tmp_path) -> Iterator[tuple[Any, KioskProcess, Any, Any]]:
    """The real console serving on 127.0.0.1 and a real kiosk process set to pair with it (not yet
    started): (console, kiosk, central results key, central signing key)."""
    with real_console(tmp_path) as rig:
        yield rig
