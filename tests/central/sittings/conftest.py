"""Fixtures of the sittings tests (the body itself: tests/central/registry/body.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.registry_body import Body, make_body


@pytest.fixture
def body(tmp_path: Path) -> Iterator[Body]:
    made = make_body(tmp_path)
    yield made
    made.close()
