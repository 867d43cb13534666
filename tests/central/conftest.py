"""Fixtures of the central body's tests: the shared QTI samples, an initialised central body
driven through its real CLI (helpers in tests/support/central_cli.py), and the engine under the
central body: SQLite files by default, PostgreSQL with ``INVIGIL_TEST_CENTRAL_DB=postgresql``
(one private cluster per session, one database per test; tests/support/central_db.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.central_cli import SAMPLES, Central
from tests.support.central_db import (DB_ENV_FOR_TESTS, TEST_ENGINE_ENV, PostgresDatabases, dispose_all, engine_kind,
                                      private_databases)


@pytest.fixture(scope="session")
def postgres_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresDatabases | None]:
    """The session's private PostgreSQL cluster when the run is on PostgreSQL, else None (a missing
    server fails in CI, skips elsewhere: tests/support/central_db.py ``private_databases``)."""
    if engine_kind() != "postgresql":
        yield None
        return
    with private_databases(tmp_path_factory.mktemp("pg-template"), f"{TEST_ENGINE_ENV}=postgresql") as databases:
        yield databases


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
