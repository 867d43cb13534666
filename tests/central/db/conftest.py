"""A PostgreSQL for the copy tests in every run: the session's cluster when the run is on
PostgreSQL, else one started for these tests (SQLite -> PostgreSQL is the move to production and
is tested on the SQLite run too). Missing PostgreSQL skips locally and fails in CI."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from simulators import postgres
from tests.support.central_db import PostgresDatabases


@pytest.fixture(scope="session")
def pg(postgres_databases: PostgresDatabases | None,
       tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresDatabases]:
    if postgres_databases is not None:
        yield postgres_databases
        return
    if not postgres.available():
        message = "no PostgreSQL server installed (scripts/bootstrap-deps installs Debian's postgresql)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with postgres.PrivateCluster(fsync=False) as cluster:
        databases = PostgresDatabases(cluster, tmp_path_factory.mktemp("pg-copy-template"))
        yield databases
        databases.close()
