"""Fixtures of the kiosk tests: a kiosk database in a temp dir, a journal key, a clock that moves
only when told, and ``real`` (the real console and a real kiosk process).

What they are built from is in tests/support/ (kiosk_session, kiosk_real_console); test modules
import helpers from there, never from this file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from kiosk.storage import open_kiosk_db
from tests.support.kiosk_process import KioskProcess
from tests.support.kiosk_real_console import real_console
from tests.support.kiosk_session import ManualMonotonic


@pytest.fixture
def clock() -> ManualMonotonic:
    return ManualMonotonic()


@pytest.fixture
def kiosk_db(tmp_path):
    db = open_kiosk_db(tmp_path)
    yield db
    db.conn.close()


@pytest.fixture
def journal_key() -> bytes:
    return os.urandom(32)


@pytest.fixture
def real(tmp_path) -> Iterator[tuple[Any, KioskProcess, Any, Any]]:
    """The real console serving on 127.0.0.1 and a real kiosk process set to pair with it (not yet
    started): (console, kiosk, central results key, central signing key)."""
    with real_console(tmp_path) as rig:
        yield rig
