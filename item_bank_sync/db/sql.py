"""Transactions and the few statements whose SQL differs between SQLite and PostgreSQL.

Every query of the central body is a SQLAlchemy Core expression written once; what the two
engines spell differently goes through here:

- :func:`write` is a short write transaction: ``BEGIN IMMEDIATE`` on SQLite (the database's one
  write lock, taken before the first read, as ``exam_core.store.immediate_transaction`` did), a
  READ COMMITTED transaction on PostgreSQL, where writers run side by side and "once" is held by
  unique constraints and, where a read decides a write, by :func:`lock`.
- :func:`read` is one consistent snapshot (REPEATABLE READ, read only, on PostgreSQL).
- :func:`insert_ignore`, :func:`upsert` and :func:`increment` are ``INSERT ... ON CONFLICT`` in each dialect.
- :func:`lock` serialises the writers of one named thing (an audit chain's head, a form id)
  until the transaction ends: a PostgreSQL advisory transaction lock; on SQLite the IMMEDIATE
  transaction already holds the whole database.

Keep write transactions short: no signing, sealing or network inside them.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Row, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import Executable

from item_bank_sync.db.engine import WRITE_OPTION


@contextlib.contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """One write transaction, committed when the block ends normally, rolled back otherwise."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            yield conn


@contextlib.contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    """One read-only snapshot: every SELECT inside sees the same committed state."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            yield conn


def fetch_all(engine: Engine, statement: Executable) -> list[Row[*tuple[Any, ...]]]:
    """Every row of one SELECT (its own short read)."""
    with engine.connect() as conn:
        return list(conn.execute(statement).all())


def fetch_one(engine: Engine, statement: Executable) -> Row[*tuple[Any, ...]] | None:
    """The first row of one SELECT, or None."""
    with engine.connect() as conn:
        return conn.execute(statement).first()


def scalar(engine: Engine, statement: Executable) -> Any:
    """The first column of the first row of one SELECT, or None."""
    with engine.connect() as conn:
        return conn.execute(statement).scalar()


def insert_ignore(conn: Connection, table: Table, row: Mapping[str, Any]) -> bool:
    """Insert ``row`` unless a unique key already holds it; True when it was inserted."""
    statement = _insert(conn, table).values(dict(row)).on_conflict_do_nothing()
    # psycopg reports an INSERT's row count only when asked to keep it (-1 otherwise)
    return conn.execute(statement.execution_options(preserve_rowcount=True)).rowcount == 1


def insert_ignore_many(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """:func:`insert_ignore` for many rows in one statement execution."""
    if rows:
        conn.execute(_insert(conn, table).on_conflict_do_nothing(), [dict(r) for r in rows])


def upsert(conn: Connection, table: Table, row: Mapping[str, Any], key: Sequence[str]) -> None:
    """Insert ``row``, or replace the non-key columns of the row that has the same ``key``."""
    statement = _insert(conn, table).values(dict(row))
    updates = {column: statement.excluded[column] for column in row if column not in key}
    conn.execute(statement.on_conflict_do_update(index_elements=list(key), set_=updates))


def increment(conn: Connection, table: Table, row: Mapping[str, Any], key: Sequence[str], column: str) -> int:
    """Insert ``row``, or add one to ``column`` of the row with the same ``key``, atomically (one
    ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``); the column's new value."""
    statement = _insert(conn, table).values(dict(row))
    statement = statement.on_conflict_do_update(index_elements=list(key),
                                                set_={column: table.c[column] + 1}).returning(table.c[column])
    return int(conn.execute(statement).scalar_one())


def lock(conn: Connection, name: str) -> None:
    """Hold a lock named ``name`` until this transaction ends (see the module docstring)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%(key)s)", {"key": lock_key(name)})
    elif not conn.get_execution_options().get(WRITE_OPTION):
        raise RuntimeError("lock() needs a write transaction (db.sql.write)")


def lock_key(name: str) -> int:
    """The signed 64-bit advisory-lock key of a name (stable across processes and versions)."""
    return int.from_bytes(hashlib.sha256(b"invigil-lock\x00" + name.encode()).digest()[:8], "big", signed=True)


def _insert(conn: Connection, table: Table) -> Any:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"no insert-on-conflict for dialect {dialect!r}")
