"""Fixtures of the results tests: a central world (tests/support/central_world.py) and an intake
over its bank and results databases."""

from __future__ import annotations

from typing import Iterator

import pytest

from item_bank_sync.bank.schema import open_bank
from item_bank_sync.results.intake import Intake
from item_bank_sync.results.schema import open_results, results_path
from tests.support.central_world import World, build_world


@pytest.fixture
def world(tmp_path) -> World:
    return build_world(tmp_path / "central")


@pytest.fixture
def intake(world: World) -> Iterator[Intake]:
    bank = open_bank(world.context.bank_db_path)
    results = open_results(results_path(world.data_dir))
    yield Intake(bank, results, world.keys, [])
    bank.conn.close()
    results.conn.close()
