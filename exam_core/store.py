"""One way to open SQLite for the console and the kiosk: WAL, a chosen durability, versioned migrations.

The console and the kiosk keep their state in SQLite through sqlite-utils (the central body uses its
own data layer, ``item_bank_sync.db``, on SQLite or PostgreSQL; docs/OPERATIONS.md says why). Opening a
database through :func:`open_db` gives each of them the same guarantees, so no caller has to
remember a pragma:

- **WAL journal**: readers (the proctors' dashboard, a report) never block the writer that is
  journaling a candidate's answer, and a commit is one append to the WAL file.
- **synchronous by name**: ``FULL`` fsyncs the WAL at every commit, so a row whose commit returned
  survives power loss. Use it wherever a loss would hurt a candidate: the kiosk journal and outbox,
  the console's event log and envelope store. ``NORMAL`` only fsyncs at
  checkpoints: a commit survives a crash of the process (kill -9) but the last few may be lost on
  power failure; it is for data that can be rebuilt (caches, analysis results).
- **busy timeout**: a second connection waits for the write lock instead of failing at once.
- **foreign keys ON**: SQLite leaves them off by default, which would silently accept orphans.
- **migrations**: an ordered list of :class:`Migration`, each applied once in its own transaction,
  the schema version kept in ``PRAGMA user_version`` (written in the same transaction, so a crash
  mid-migration leaves the previous version intact). A database written by newer code is refused
  rather than misread.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from collections.abc import Callable, Iterator, Mapping, Sequence

import sqlite_utils

from exam_core.errors import InvigilError

_WRITE_LOCK_ATTR = "_invigil_write_lock"
_WRITE_LOCK_GUARD = threading.Lock()

SYNCHRONOUS_LEVELS: Mapping[str, int] = {"NORMAL": 1, "FULL": 2}
"""The accepted ``synchronous`` names and the value SQLite reports back for each."""


class StoreError(InvigilError):
    """The database could not be opened or configured as required (path and reason given)."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class SchemaTooNewError(StoreError):
    """The database was migrated by newer code than this one; reading it could misinterpret rows."""

    def __init__(self, path: str | os.PathLike[str], db_version: int, code_version: int) -> None:
        self.db_version = db_version
        self.code_version = code_version
        super().__init__(
            path,
            f"schema version {db_version} is newer than this code knows ({code_version}); "
            "upgrade Invigil before opening this database",
        )


@dataclass(frozen=True)
class Migration:
    """One schema step: ``version`` n turns a version n-1 database into version n.

    ``apply`` is either SQL (one or more statements) or a callable given the database; it runs
    inside the migration's transaction, so it must not commit by itself.
    """

    version: int
    name: str
    apply: str | Callable[[sqlite_utils.Database], None]


def open_db(
    path: str | os.PathLike[str],
    *,
    synchronous: str = "FULL",
    migrations: Sequence[Migration] = (),
    busy_timeout_ms: int = 5000,
) -> sqlite_utils.Database:
    """Open (creating if needed) the SQLite database at ``path`` with Invigil's settings.

    ``synchronous`` defaults to ``FULL`` because the common case is data a candidate cannot afford
    to lose; pass ``NORMAL`` only for data that can be rebuilt. The connection may be used from
    several threads (``check_same_thread=False``); callers that share it serialise their own
    transactions (see :class:`exam_core.audit.AuditLog` for an example with a lock).

    Raises :class:`StoreError` for a bad argument or a database that refuses the settings, and
    :class:`SchemaTooNewError` when the database's schema is newer than ``migrations``.
    """
    level = _synchronous_level(synchronous)
    ordered = _checked_migrations(migrations)
    if isinstance(busy_timeout_ms, bool) or not isinstance(busy_timeout_ms, int) or busy_timeout_ms < 0:
        raise StoreError(path, f"busy_timeout_ms must be a non-negative integer, got {busy_timeout_ms!r}")
    conn = _connect(path, busy_timeout_ms)
    try:
        db = sqlite_utils.Database(conn, execute_plugins=False)
        _configure(db, path, level, busy_timeout_ms)
        _migrate(db, path, ordered)
    except BaseException:
        conn.close()
        raise
    return db


def schema_version(db: sqlite_utils.Database) -> int:
    """The schema version recorded in the database (0 for a new one)."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def write_lock(db: sqlite_utils.Database) -> threading.RLock:
    """The lock that serialises write transactions on this connection between threads.

    One sqlite3 connection has one transaction at a time: two threads writing through it would
    interleave their statements into each other's transaction. Everything in Invigil that writes
    through a shared connection (``insert_durably``, ``AuditLog.append``) holds this lock; other
    processes are kept out by SQLite's own lock (``BEGIN IMMEDIATE`` plus the busy timeout).
    """
    with _WRITE_LOCK_GUARD:
        lock = getattr(db, _WRITE_LOCK_ATTR, None)
        if lock is None:
            lock = threading.RLock()
            setattr(db, _WRITE_LOCK_ATTR, lock)
        return lock


def immediate_transaction(db: sqlite_utils.Database) -> contextlib.AbstractContextManager[sqlite3.Connection]:
    """Hold the write lock and one ``BEGIN IMMEDIATE`` transaction, committed on normal exit.

    IMMEDIATE takes SQLite's write lock at the start, so what is read inside (the last sequence
    number, the head hash) cannot change before the write. Refuses to nest in an open transaction,
    because then the commit (and so the durability the caller reports) would belong to someone else.
    """
    return _locked_transaction(db, "BEGIN IMMEDIATE", commit=True)


def read_snapshot(db: sqlite_utils.Database) -> contextlib.AbstractContextManager[sqlite3.Connection]:
    """Hold the write lock and one read transaction: every SELECT inside sees the same state.

    In WAL mode a reader never blocks writers in other processes; they simply are not seen
    until the snapshot ends (it is rolled back: a snapshot never writes).
    """
    return _locked_transaction(db, "BEGIN DEFERRED", commit=False)


@contextlib.contextmanager
def _locked_transaction(db: sqlite_utils.Database, begin: str, *, commit: bool) -> Iterator[sqlite3.Connection]:
    with write_lock(db):
        if db.conn.in_transaction:
            raise StoreError(_db_path(db), "a transaction was started inside an open transaction")
        db.conn.execute(begin)
        try:
            yield db.conn
            if commit:
                db.conn.execute("COMMIT")
        finally:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")


def insert_durably(db: sqlite_utils.Database, table: str, row: Mapping[str, Any]) -> int:
    """Insert one row in its own transaction and return its rowid once the commit has returned.

    With ``synchronous=FULL`` the row is on stable storage when this returns, so the caller may
    acknowledge it (to a candidate, a kiosk, a console). Safe to call from several threads.
    """
    columns = list(row)
    if not columns:
        raise StoreError(_db_path(db), f"insert_durably() into {table!r} with an empty row")
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - identifiers quoted by _quote(), values bound
        _quote(table), ", ".join(_quote(c) for c in columns), ", ".join("?" for _ in columns)
    )
    with immediate_transaction(db) as conn:
        rowid = conn.execute(sql, [row[c] for c in columns]).lastrowid
    if rowid is None:  # sqlite3 sets it after every successful INSERT
        raise StoreError(_db_path(db), f"insert_durably() into {table!r}: no row id")
    return rowid


def _synchronous_level(name: str) -> int:
    if not isinstance(name, str) or name.upper() not in SYNCHRONOUS_LEVELS:
        raise StoreError(
            "<open_db>",
            f"synchronous must be one of {', '.join(SYNCHRONOUS_LEVELS)}, got {name!r}",
        )
    return SYNCHRONOUS_LEVELS[name.upper()]


def _checked_migrations(migrations: Sequence[Migration]) -> list[Migration]:
    """Migrations sorted by version, which must run 1, 2, ... n without gaps or repeats."""
    for migration in migrations:
        if not isinstance(migration, Migration) or isinstance(migration.version, bool):
            raise StoreError("<open_db>", f"migrations must be Migration objects, got {migration!r}")
    ordered = sorted(migrations, key=lambda m: m.version)
    for expected, migration in enumerate(ordered, start=1):
        if migration.version != expected:
            versions = [m.version for m in ordered]
            raise StoreError("<open_db>", f"migration versions must be 1..{len(ordered)} once each, got {versions}")
    return ordered


def _connect(path: str | os.PathLike[str], busy_timeout_ms: int) -> sqlite3.Connection:
    target = Path(path)
    if str(path) == ":memory:" or str(path).startswith("file:"):
        raise StoreError(path, "open_db() needs a file path: WAL and durability need a real file")
    if not target.parent.is_dir():
        raise StoreError(path, f"directory {str(target.parent)!r} does not exist")
    try:
        return sqlite3.connect(str(target), timeout=busy_timeout_ms / 1000, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreError(path, f"cannot open: {exc}") from exc


def _configure(db: sqlite_utils.Database, path: str | os.PathLike[str], level: int, busy_ms: int) -> None:
    """Set the pragmas and read each back: a pragma SQLite ignores would otherwise fail silently."""
    conn = db.conn
    try:
        conn.execute(f"PRAGMA busy_timeout = {busy_ms}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        conn.execute(f"PRAGMA synchronous = {level}")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as exc:
        raise StoreError(path, f"cannot configure: {exc}") from exc
    actual = {
        "journal_mode": (str(mode).lower(), "wal"),
        "synchronous": (conn.execute("PRAGMA synchronous").fetchone()[0], level),
        "foreign_keys": (conn.execute("PRAGMA foreign_keys").fetchone()[0], 1),
        "busy_timeout": (conn.execute("PRAGMA busy_timeout").fetchone()[0], busy_ms),
    }
    for pragma, (got, wanted) in actual.items():
        if got != wanted:
            raise StoreError(path, f"PRAGMA {pragma} is {got!r}, expected {wanted!r}")


def _migrate(db: sqlite_utils.Database, path: str | os.PathLike[str], migrations: list[Migration]) -> None:
    """Apply each missing migration in its own IMMEDIATE transaction, re-reading the version inside it.

    Re-reading under the write lock makes two processes opening the same new database at once
    safe: the second one sees the first one's work and skips it.
    """
    code_version = len(migrations)
    current = schema_version(db)
    if current > code_version:
        raise SchemaTooNewError(path, current, code_version)
    for migration in migrations[current:]:
        try:
            with immediate_transaction(db):
                version_now = schema_version(db)
                if version_now > code_version:
                    raise SchemaTooNewError(path, version_now, code_version)
                if version_now < migration.version:
                    _apply(db, migration)
                    db.conn.execute(f"PRAGMA user_version = {migration.version}")
        except sqlite3.Error as exc:
            raise StoreError(path, f"migration {migration.version} ({migration.name}) failed: {exc}") from exc


def _apply(db: sqlite_utils.Database, migration: Migration) -> None:
    if isinstance(migration.apply, str):
        db.executescript(migration.apply)  # inside a transaction sqlite-utils runs it statement by statement
    else:
        migration.apply(db)
    if not db.conn.in_transaction:
        raise sqlite3.OperationalError("the migration ended its own transaction; it must not commit")


def _db_path(db: sqlite_utils.Database) -> str:
    row = db.conn.execute("PRAGMA database_list").fetchone()
    return str(row[2]) if row else "<database>"


def _quote(identifier: str) -> str:
    if not isinstance(identifier, str) or not identifier or "\x00" in identifier:
        raise ValueError(f"bad SQL identifier {identifier!r}")
    return '"' + identifier.replace('"', '""') + '"'
