"""Fixtures of the results tests: a central world (tests/support/central_world.py) and an intake
over its bank and results databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from item_bank_sync.results.intake import Intake
from tests.support.central_db import central_db
from tests.support.central_world import World, build_world


@pytest.fixture
def world(tmp_path) -> World:
    return build_world(tmp_path / "central")


@pytest.fixture
def intake(world: World) -> Iterator[Intake]:
    db = central_db(world.data_dir)
    yield Intake(db.bank, db.results, world.keys, [])
