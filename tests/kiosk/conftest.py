"""Fixtures of the kiosk tests: a kiosk database in a temp dir, a journal key, and a clock that
moves only when told.

What they are built from is in tests/support/kiosk_session.py; test modules import helpers from
there, never from this file.
"""

from __future__ import annotations

import os

import pytest

from kiosk.storage import open_kiosk_db
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

