"""Where the central body's data lives, and the one way to open it: SQLite files or PostgreSQL.

The store is chosen once per process, in this order:

1. ``--db URL`` on the central CLI's group (``python -m item_bank_sync --db URL ...``);
2. the environment variable ``INVIGIL_CENTRAL_DB`` (what several worker processes share);
3. without either, the data directory's SQLite files, as before the data layer: ``bank.db``
   (item bank, forms, centres, the audit chain) and ``results.db`` (envelopes, scores, decisions).

A URL names one database holding both stores: ``postgresql+psycopg://user@host/db`` (production;
``postgresql://`` means the same, through psycopg 3), or ``sqlite:////path/central.db`` (one file).
Any other driver is refused: the layer is tested on exactly these two.

Every connection is set up the same way, so no caller has to remember a setting:

- **SQLite**: WAL (readers never block the writer), ``synchronous=FULL`` (a committed row
  survives power loss: a receipted envelope must), foreign keys ON, a busy timeout; pysqlite's
  own transaction handling is switched off and the layer issues ``BEGIN IMMEDIATE`` for writes
  (the write lock is taken before anything is read, so read-then-write cannot deadlock between
  processes) and a plain ``BEGIN`` for reads (:func:`item_bank_sync.db.sql.write` / ``read``).
- **PostgreSQL**: psycopg 3 with a connection pool per process (``PG_POOL``), connections
  checked before use (a failed-over server is noticed on the next checkout, not by a request),
  and recycled every half hour.

Engines are per process: a worker that forks after opening must call :meth:`CentralDb.after_fork`
(pooled connections must never be shared across processes).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import QueuePool

from exam_core.errors import InvigilError
from item_bank_sync.db.metadata import BANK, RESULTS, STORES

DB_ENV = "INVIGIL_CENTRAL_DB"
BANK_DB_FILE = "bank.db"
RESULTS_DB_FILE = "results.db"
SQLITE_BUSY_TIMEOUT_MS = 5000
#: SQLite connections kept per engine (a sync server thread holds one while it writes).
SQLITE_POOL = {"pool_size": 8, "max_overflow": 56, "pool_timeout": 30}
#: PostgreSQL pool per process; several worker processes each keep their own (see OPERATIONS.md).
PG_POOL = {"pool_size": 5, "max_overflow": 15, "pool_timeout": 30, "pool_recycle": 1800, "pool_pre_ping": True}
#: Execution option the layer sets on write transactions (SQLite begins them IMMEDIATE).
WRITE_OPTION = "invigil_write"


class DatabaseUrlError(InvigilError):
    """``--db`` / ``INVIGIL_CENTRAL_DB`` is not a URL the central body can use; says why."""


@dataclass
class CentralDb:
    """The engines of one central body: one per store, the same engine when the URL names one database."""

    bank: Engine
    results: Engine
    label: str

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.bank.dialect.name

    @property
    def single(self) -> bool:
        """Whether both stores are one database (PostgreSQL, or one SQLite file)."""
        return self.bank is self.results

    def engine(self, store: str) -> Engine:
        if store not in STORES:
            raise ValueError(f"unknown store {store!r}")
        return self.bank if store == BANK else self.results

    def stores(self) -> Iterator[tuple[str, Engine]]:
        """(store, engine) pairs: both stores, each once, bank first."""
        yield BANK, self.bank
        yield RESULTS, self.results

    def after_fork(self) -> None:
        """Forget connections inherited from the parent process (leave them open for the parent)."""
        for engine in {id(e): e for e in (self.bank, self.results)}.values():
            engine.dispose(close=False)

    def dispose(self) -> None:
        """Close every pooled connection (the end of a command, a test or a server)."""
        for engine in {id(e): e for e in (self.bank, self.results)}.values():
            engine.dispose()


def configured_url(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> str | None:
    """The URL this process should use: ``--db``, else ``INVIGIL_CENTRAL_DB``, else None (SQLite files)."""
    env = os.environ if environ is None else environ
    url = explicit if explicit else env.get(DB_ENV) or None
    return url.strip() if url else None


def open_engines(data_dir: str | os.PathLike[str], url: str | None = None) -> CentralDb:
    """Engines for a data directory and an optional URL (not migrated: see ``db.migrate``)."""
    if url is None:
        directory = Path(data_dir)
        if not directory.is_dir():
            raise DatabaseUrlError(f"{directory}: data directory does not exist")
        bank = _sqlite_engine(make_url(f"sqlite:///{directory / BANK_DB_FILE}"))
        results = _sqlite_engine(make_url(f"sqlite:///{directory / RESULTS_DB_FILE}"))
        return CentralDb(bank, results, f"sqlite files in {directory}")
    engine = engine_for_url(url)
    return CentralDb(engine, engine, safe_label(url))


def engine_for_url(url: str) -> Engine:
    """One engine for a whole database named by ``url`` (checked; see the module docstring)."""
    parsed = parse_url(url)
    return _sqlite_engine(parsed) if parsed.get_backend_name() == "sqlite" else _postgresql_engine(parsed)


def parse_url(url: str) -> URL:
    """The URL parsed and normalised (``postgresql://`` -> psycopg 3), or DatabaseUrlError."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUrlError("the database URL cannot be parsed (expected e.g. "
                               "postgresql+psycopg://user@host/db or sqlite:////path/central.db)") from None
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend == "postgresql" and driver in ("psycopg", "psycopg2") and "+" not in parsed.drivername:
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "postgresql" and driver == "psycopg":
        return parsed
    if backend == "sqlite" and driver == "pysqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise DatabaseUrlError("a SQLite URL must name a file (WAL and durability need one)")
        return parsed
    raise DatabaseUrlError(f"database driver {parsed.drivername!r} is not supported; "
                           "use postgresql+psycopg://... or sqlite:///FILE")


def safe_label(url: str) -> str:
    """The URL without its password, for messages and ``--json`` output."""
    try:
        return parse_url(url).render_as_string(hide_password=True)
    except DatabaseUrlError:
        return "<unparsable URL>"


def _sqlite_engine(url: URL) -> Engine:
    target = Path(str(url.database))
    if not target.parent.is_dir():
        raise DatabaseUrlError(f"{target}: directory {str(target.parent)!r} does not exist")
    engine = create_engine(url, poolclass=QueuePool, **SQLITE_POOL,
                           connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """Pragmas of every SQLite connection, read back: a pragma SQLite ignores would fail silently."""
    dbapi_connection.isolation_level = None  # the layer issues BEGIN itself (see _sqlite_begin)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        checks = {"journal_mode": (str(mode).lower(), "wal"),
                  "synchronous": (cursor.execute("PRAGMA synchronous").fetchone()[0], 2),
                  "foreign_keys": (cursor.execute("PRAGMA foreign_keys").fetchone()[0], 1)}
    finally:
        cursor.close()
    for pragma, (got, wanted) in checks.items():
        if got != wanted:
            raise DatabaseUrlError(f"SQLite refused PRAGMA {pragma} (is {got!r}, expected {wanted!r})")


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "BEGIN")


def _postgresql_engine(url: URL) -> Engine:
    return create_engine(url, poolclass=QueuePool, **PG_POOL,
                         connect_args={"application_name": "invigil-central"})
