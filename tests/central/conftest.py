"""Fixtures of the central body's tests: the shared QTI samples, an initialised central body
driven through its real CLI (helpers in tests/support/central_cli.py), and the engine under the
central body: SQLite files by default, PostgreSQL with ``INVIGIL_TEST_CENTRAL_DB=postgresql``
(one private cluster per session, one database per test; tests/support/central_db.py)."""

from __future__ import annotations

import os
from pathlib import Path
from collections.abc import Iterator

import pytest

from simulators import postgres
from tests.support.central_cli import SAMPLES, Central
from tests.support.central_db import DB_ENV_FOR_TESTS, TEST_ENGINE_ENV, PostgresDatabases, dispose_all, engine_kind


@pytest.fixture(scope="session")
def postgres_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresDatabases | None]:
    """The session's private PostgreSQL cluster when the run is on PostgreSQL, else None.

    In CI (``CI=true``) a missing PostgreSQL server fails the run: a suite that silently fell
    back to SQLite would claim a coverage it does not have. Outside CI it skips, with the reason.
    """
    if engine_kind() != "postgresql":
        yield None
        return
    if not postgres.available():
        message = (f"{TEST_ENGINE_ENV}=postgresql but no PostgreSQL server is installed "
                   "(scripts/bootstrap-deps installs Debian's postgresql)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with postgres.PrivateCluster(fsync=False) as cluster:
        databases = PostgresDatabases(cluster, tmp_path_factory.mktemp("pg-template"))
        yield databases
        databases.close()


@pytest.fixture(autouse=True)
def central_database(postgres_databases: PostgresDatabases | None,
                     monkeypatch: pytest.MonkeyPatch) -> Iterator[str | None]:
    """Each test's own PostgreSQL database, named in ``INVIGIL_CENTRAL_DB`` (None on SQLite)."""
    if postgres_databases is None:
        monkeypatch.delenv(DB_ENV_FOR_TESTS, raising=False)
        yield None
        dispose_all()
        return
    url = postgres_databases.create()
    monkeypatch.setenv(DB_ENV_FOR_TESTS, url)
    yield url
    dispose_all()
    postgres_databases.drop(url)


@pytest.fixture(scope="session")
def samples() -> Path:
    """../shared/qti-samples next to the repository; skipped with the reason when absent."""
    if not SAMPLES.is_dir():
        pytest.skip(f"QTI samples not found at {SAMPLES.resolve()} (the repo's ../shared/qti-samples); "
                    "they are shared material, not part of the repository")
    return SAMPLES.resolve()


@pytest.fixture
def central(tmp_path: Path) -> Central:
    """A freshly initialised central body (x25519 results key: quicker, same code paths)."""
    c = Central(tmp_path / "central")
    c.json("init", "--body-id", "test-body", "--name", "Test Body")
    return c
