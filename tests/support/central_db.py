"""The central body's database in tests, on either engine: SQLite files (default) or PostgreSQL.

``INVIGIL_TEST_CENTRAL_DB=postgresql`` runs the central tests against a private PostgreSQL cluster
(``simulators.postgres.PrivateCluster``, started once per session by tests/central/conftest.py):
each test gets a database of its own, named in ``INVIGIL_CENTRAL_DB`` for that test, so every
central body the test makes (in-process CLI, worlds, servers, child processes) uses it exactly as
production uses ``--db``. Unset or ``sqlite``, the data directory's SQLite files are used.

Tests read and change rows through :func:`rows`/:func:`value`/:func:`execute`: plain SQL with
``?`` placeholders, run through SQLAlchemy on whichever engine is in use. Product code never
does this (it writes Core expressions); tests that poke at rows keep their SQL readable.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from item_bank_sync.db import DB_ENV, CentralDb, configured_url, open_central
from item_bank_sync.db.audit import CentralAudit

TEST_ENGINE_ENV = "INVIGIL_TEST_CENTRAL_DB"
#: The product's variable, set per test on PostgreSQL (children inherit it).
DB_ENV_FOR_TESTS = DB_ENV
ENGINES = ("sqlite", "postgresql")


def engine_kind() -> str:
    """``sqlite`` or ``postgresql``: the engine this test run puts the central body on."""
    kind = os.environ.get(TEST_ENGINE_ENV, "sqlite").strip().lower() or "sqlite"
    if kind not in ENGINES:
        raise RuntimeError(f"{TEST_ENGINE_ENV}={kind!r}: use one of {', '.join(ENGINES)}")
    return kind


_opened: dict[tuple[str, str | None], CentralDb] = {}


def central_db(data_dir: Path) -> CentralDb:
    """The engines of the central body in ``data_dir`` (the per-test database on PostgreSQL),
    opened once per test and closed by the ``central_database`` fixture (:func:`dispose_all`)."""
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    key = (str(Path(data_dir).resolve()), configured_url())
    if key not in _opened:
        _opened[key] = open_central(data_dir, key[1])
    return _opened[key]


def dispose_all() -> None:
    """Close every engine :func:`central_db` opened (end of a test)."""
    while _opened:
        _opened.popitem()[1].dispose()


def audit_of(data_dir: Path) -> CentralAudit:
    """The central audit chain of ``data_dir``, for verifying or reading entries."""
    return CentralAudit(central_db(data_dir).bank)


_counter = itertools.count()


def _named(sql: str, params: tuple[Any, ...]) -> tuple[str, dict[str, Any]]:
    names = (f"p{next(_counter)}" for _ in itertools.repeat(None))
    bound: dict[str, Any] = {}

    def replace(_match: re.Match[str]) -> str:
        name = next(names)
        bound[name] = params[len(bound)]
        return f":{name}"

    converted = re.sub(r"\?", replace, sql)
    if len(bound) != len(params):
        raise ValueError(f"{len(params)} parameters for {len(bound)} placeholders in {sql!r}")
    return converted, bound


def rows(engine: Engine, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Every row of one SELECT, as tuples (bytes columns as bytes on both engines)."""
    statement, bound = _named(sql, params)
    with engine.connect() as conn:
        return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)
                for r in conn.execute(text(statement), bound)]


def value(engine: Engine, sql: str, *params: Any) -> Any:
    """The first column of the first row of one SELECT, or None."""
    found = rows(engine, sql, *params)
    return found[0][0] if found else None


def execute(engine: Engine, sql: str, *params: Any) -> int:
    """Run one changing statement in its own transaction; returns the rows it touched."""
    statement, bound = _named(sql, params)
    with engine.begin() as conn:
        return conn.execute(text(statement), bound).rowcount


class PostgresDatabases:
    """Databases for tests on one private cluster: each a copy of a template migrated once.

    ``CREATE DATABASE ... TEMPLATE`` copies the migrated schema in milliseconds, so a test pays
    for neither Alembic nor a cluster of its own.
    """

    TEMPLATE = "central_template"

    def __init__(self, cluster: Any, scratch: Path) -> None:
        from sqlalchemy import create_engine

        self.cluster = cluster
        self.admin = create_engine(cluster.url("postgres"), isolation_level="AUTOCOMMIT")
        self._names = itertools.count(1)
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{self.TEMPLATE}"')
        open_central(scratch, cluster.url(self.TEMPLATE)).dispose()

    def create(self) -> str:
        name = f"central_{os.getpid()}_{next(self._names)}"
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{self.TEMPLATE}"')
        return str(self.cluster.url(name))

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1].split("?", 1)[0]
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        self.admin.dispose()


class _Fetched:
    """The rows of one statement, fetched at once (the statement's transaction is already over)."""

    def __init__(self, found: list[tuple[Any, ...]], rowcount: int) -> None:
        self._rows, self.rowcount = found, rowcount

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._rows)

    def __iter__(self) -> Any:
        return iter(self._rows)


class _NoConnection:
    def commit(self) -> None:
        """Every statement of :class:`SqlDb` commits by itself."""

    def close(self) -> None:
        """Engines are closed with their ``CentralDb``."""


class SqlDb:
    """A small sqlite-utils-like face over one engine of the layer, so tests keep their plain SQL
    (``?`` placeholders, ``db["table"].insert(row)``) on SQLite and PostgreSQL alike. Each
    statement runs in its own transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.conn = _NoConnection()

    def execute(self, sql: str, params: Any = ()) -> _Fetched:
        statement, bound = _named(sql, tuple(params))
        with self.engine.begin() as conn:
            result = conn.execute(text(statement), bound)
            found = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)
                     for r in result] if result.returns_rows else []
            return _Fetched(found, result.rowcount)

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        statement, bound = _named(sql, tuple(params))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(text(statement), bound).mappings()]

    def __getitem__(self, table: str) -> _Table:
        return _Table(self, table)


class _Table:
    def __init__(self, db: SqlDb, name: str) -> None:
        self.db, self.name = db, name

    def insert(self, row: dict[str, Any]) -> None:
        columns = list(row)
        quoted = ", ".join(f'"{c}"' for c in columns)
        self.db.execute(f'INSERT INTO "{self.name}" ({quoted}) VALUES ({", ".join("?" for _ in columns)})',
                        [row[c] for c in columns])


def sql(engine: Engine) -> SqlDb:
    """:class:`SqlDb` over ``engine``."""
    return SqlDb(engine)


def bank_of(data_dir: Path) -> SqlDb:
    """The bank store of a central body, with the test face (:class:`SqlDb`)."""
    return SqlDb(central_db(data_dir).bank)


def results_of(data_dir: Path) -> SqlDb:
    """The results store of a central body, with the test face (:class:`SqlDb`)."""
    return SqlDb(central_db(data_dir).results)


def everything_stored(data_dir: Path) -> bytes:
    """Every value in every table of both stores, as bytes: for tests that something never
    reached the database at all (on SQLite the files, on PostgreSQL the rows)."""
    import item_bank_sync.bank.schema
    import item_bank_sync.db.audit
    import item_bank_sync.results.schema
    import item_bank_sync.trust.schema  # noqa: F401
    from sqlalchemy import select

    from item_bank_sync.db.metadata import tables_in

    out: list[bytes] = []
    for store, engine in central_db(data_dir).stores():
        with engine.connect() as conn:
            for table in tables_in(store):
                for row in conn.execute(select(table)):
                    out.extend(v if isinstance(v, bytes) else str(v).encode("utf-8", "surrogatepass") for v in row)
    return b"\n".join(out)


@contextlib.contextmanager
def private_databases(scratch: Path, reason: str) -> Iterator[PostgresDatabases]:
    """A private PostgreSQL cluster for a test session (simulators/postgres.py), removed afterwards.

    Without a PostgreSQL server the tests that need it skip with ``reason`` locally and fail in CI
    (``CI=true``): a suite that silently fell back would claim a coverage it does not have.
    """
    import pytest

    from simulators import postgres

    if not postgres.available():
        message = f"{reason}, but no PostgreSQL server is installed (scripts/bootstrap-deps installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with postgres.PrivateCluster(fsync=False) as cluster:
        databases = PostgresDatabases(cluster, scratch)
        try:
            yield databases
        finally:
            databases.close()
