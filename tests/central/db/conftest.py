"""A PostgreSQL for the copy tests in every run: the session's cluster when the run is on
PostgreSQL, else one started for these tests (SQLite -> PostgreSQL is the move to production and
is tested on the SQLite run too). Missing PostgreSQL skips locally and fails in CI."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.central_db import PostgresDatabases, private_databases


@pytest.fixture(scope="session")
def pg(postgres_databases: PostgresDatabases | None,
       tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresDatabases]:
    if postgres_databases is not None:
        yield postgres_databases
        return
    scratch = tmp_path_factory.mktemp("pg-copy-template")
    with private_databases(scratch, "the copy tests need PostgreSQL") as databases:
        yield databases
