"""Moving and keeping the central body's data: copy to another database, backup, verify, restore.

All three work table by table through the layer, so they work between any two engines
(SQLite -> PostgreSQL is the move to production; PostgreSQL -> SQLite a portable extract):

- **Content digest** of a table: the SHA-256 over the sorted SHA-256 of every row, each row the
  canonical JSON of its values in column order (bytes as base64, numbers and text as stored).
  Sorting the row digests makes it independent of the order either engine returns rows in (and of
  PostgreSQL's collation), so the same rows give the same digest on SQLite and PostgreSQL.
- :func:`copy_database` reads each store in one snapshot (online: writers go on) and writes the
  target in one transaction per store, then compares row counts and digests of every table.
- :func:`write_backup` writes a gzip'd JSON-lines file: a header (format, schema revisions, time),
  each table's rows with its count and digest, and a last line holding the SHA-256 of everything
  before it. :func:`verify_backup` re-reads it all and refuses it on the first mismatch;
  :func:`restore_backup` verifies first and touches nothing when the file is damaged.

A restore or copy goes into an empty database only (a new PostgreSQL database, or a data
directory without ``bank.db`` and ``results.db``): merging two histories would break the audit
chain and the idempotency of uploads. The data directory's files (``keys/``, ``media/``,
``packages/``, ``centres/``) are not in the database and are backed up as files
(docs/OPERATIONS.md).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Iterable, Iterator

from sqlalchemy import Connection, Integer, MetaData, Table, func, inspect, insert, select, text

from exam_core.errors import InvigilError
from exam_core.files import write_atomic
from exam_core.timestamps import utc_text
from item_bank_sync.db.engine import CentralDb
from item_bank_sync.db.metadata import STORES, tables_in
from item_bank_sync.db.migrate import VERSION_TABLE, revision_of, upgrade, upgrade_to
from item_bank_sync.db.sql import read, write

BACKUP_FORMAT = "invigil-central-backup"
BACKUP_VERSION = 1
#: Rows read and inserted per round trip.
BATCH_ROWS = 1000
#: Largest single line of a backup (one row); rows hold at most an envelope or a certificate.
LINE_MAX_BYTES = 64 * 1024 * 1024


class DataOpsError(InvigilError):
    """A copy, backup or restore was refused or did not verify; the message says which table and why."""


@dataclass
class TableCheck:
    rows: int
    sha256: str


@dataclass
class DatabaseCheck:
    """Row counts and content digests of every table of both stores."""

    tables: dict[str, TableCheck] = field(default_factory=dict)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {name: {"rows": t.rows, "sha256": t.sha256} for name, t in sorted(self.tables.items())}


# --- digests ---------------------------------------------------------------------------------------

def _cell(value: Any) -> Any:
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        return {"$b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, bool):
        return int(value)
    return value


def _uncell(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) != {"$b64"}:
            raise DataOpsError("backup holds a cell that is neither a value nor base64 bytes")
        return base64.b64decode(value["$b64"], validate=True)
    return value


def _row_json(values: list[Any]) -> bytes:
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


class _Digest:
    """The order-independent digest of a table's rows (module docstring)."""

    def __init__(self) -> None:
        self.row_digests: list[bytes] = []

    def add(self, encoded_row: bytes) -> None:
        self.row_digests.append(hashlib.sha256(encoded_row).digest())

    def check(self) -> TableCheck:
        outer = hashlib.sha256()
        for digest in sorted(self.row_digests):
            outer.update(digest)
        return TableCheck(len(self.row_digests), outer.hexdigest())


def _rows(conn: Connection, table: Table) -> Iterator[list[Any]]:
    result = conn.execution_options(yield_per=BATCH_ROWS).execute(select(table))
    for row in result:
        yield [_cell(v) for v in row]


def check_store(conn: Connection, store: str) -> dict[str, TableCheck]:
    """Counts and digests of one store's tables, read through ``conn`` (one snapshot)."""
    out = {}
    for table in tables_in(store):
        digest = _Digest()
        for values in _rows(conn, table):
            digest.add(_row_json(values))
        out[table.name] = digest.check()
    return out


def check_database(db: CentralDb) -> DatabaseCheck:
    """Counts and digests of every table, each store read in one snapshot."""
    found = DatabaseCheck()
    for store, engine in db.stores():
        with read(engine) as conn:
            _refuse_unknown_tables(conn, store)
            found.tables.update(check_store(conn, store))
    return found


def _refuse_unknown_tables(conn: Connection, store: str) -> None:
    """Every table in the store must be one the layer defines: a copy must leave nothing behind."""
    known = {t.name for s in STORES for t in tables_in(s)} | {VERSION_TABLE}
    unknown = sorted(set(inspect(conn).get_table_names()) - known)
    if unknown:
        raise DataOpsError(f"the {store} store holds tables this code does not define: {', '.join(unknown)} "
                           "(load every owner's schema module first, or upgrade Invigil)")
    if not tables_in(store):
        raise DataOpsError(f"no tables of the {store} store are loaded (import the owners' schema modules)")


def _refuse_non_empty(db: CentralDb) -> None:
    for store, engine in db.stores():
        with engine.connect() as conn:
            for table in tables_in(store):
                if conn.execute(select(func.count()).select_from(table)).scalar_one():
                    raise DataOpsError(f"the target already holds rows in {table.name}; copy and restore go "
                                       "into an empty database only")


def _reset_sequences(conn: Connection, tables: Iterable[Table]) -> None:
    """After rows came in with their ids, PostgreSQL's serial counters must continue after them
    (a table without a serial counter gets NULL from pg_get_serial_sequence, and setval(NULL) is NULL)."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        key = list(table.primary_key.columns)
        if len(key) == 1 and isinstance(key[0].type, Integer):
            column = conn.dialect.identifier_preparer.quote(key[0].name)
            name = conn.dialect.identifier_preparer.quote(table.name)
            # identifiers quoted by the dialect; they come from the schema, never from input
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence(:table, :column), "  # noqa: S608
                              f"COALESCE((SELECT MAX({column}) FROM {name}), 0) + 1, false)"),
                         {"table": table.name, "column": key[0].name})


# --- copy ------------------------------------------------------------------------------------------

def copy_database(source: CentralDb, target: CentralDb) -> dict[str, Any]:
    """Copy every table of ``source`` into the empty ``target`` and verify counts and digests."""
    upgrade(source)
    upgrade(target)
    _refuse_non_empty(target)
    for store, engine in source.stores():
        with read(engine) as src, write(target.engine(store)) as dst:
            _refuse_unknown_tables(src, store)
            for table in tables_in(store):
                batch: list[dict[str, Any]] = []
                for row in src.execution_options(yield_per=BATCH_ROWS).execute(select(table)):
                    batch.append(dict(row._mapping))
                    if len(batch) >= BATCH_ROWS:
                        dst.execute(insert(table), batch)
                        batch = []
                if batch:
                    dst.execute(insert(table), batch)
            _reset_sequences(dst, tables_in(store))
    before, after = check_database(source), check_database(target)
    _compare(before.tables, after.tables, "the copy")
    return {"tables": after.to_dict(), "rows": sum(t.rows for t in after.tables.values())}


def _compare(expected: dict[str, TableCheck], found: dict[str, TableCheck], what: str) -> None:
    for name in sorted(set(expected) | set(found)):
        want, got = expected.get(name), found.get(name)
        if want is None or got is None:
            raise DataOpsError(f"{what}: table {name} is missing on one side")
        if want.rows != got.rows:
            raise DataOpsError(f"{what}: table {name} has {got.rows} rows, expected {want.rows}")
        if want.sha256 != got.sha256:
            raise DataOpsError(f"{what}: the content of table {name} differs (digest {got.sha256[:16]}..., "
                               f"expected {want.sha256[:16]}...)")


# --- backup ----------------------------------------------------------------------------------------

def write_backup(db: CentralDb, out: Path) -> dict[str, Any]:
    """Write a verified backup of every table to ``out`` (atomically); returns its summary."""
    upgrade(db)
    checksum = hashlib.sha256()
    body = io.BytesIO()
    tables: dict[str, TableCheck] = {}
    with gzip.GzipFile(fileobj=body, mode="wb", mtime=0) as gz:
        def emit(line: bytes) -> None:
            checksum.update(line + b"\n")
            gz.write(line + b"\n")

        revisions = {}
        for store, engine in db.stores():
            with engine.connect() as conn:
                revisions[store] = revision_of(conn, store)
        emit(_row_json([{"format": BACKUP_FORMAT, "v": BACKUP_VERSION, "created": utc_text(),
                         "dialect": db.dialect, "revisions": revisions}]))
        for store, engine in db.stores():
            with read(engine) as conn:
                _refuse_unknown_tables(conn, store)
                for table in tables_in(store):
                    tables[table.name] = _backup_table(conn, table, store, emit)
        final = checksum.hexdigest()
        gz.write(_row_json([{"sha256": final}]) + b"\n")
    write_atomic(out, body.getvalue(), 0o600)
    return {"file": str(out), "bytes": len(body.getvalue()), "sha256": final,
            "revisions": revisions, "tables": {n: {"rows": t.rows, "sha256": t.sha256} for n, t in tables.items()}}


def _backup_table(conn: Connection, table: Table, store: str, emit: Any) -> TableCheck:
    emit(_row_json([{"table": table.name, "store": store, "columns": [c.name for c in table.columns]}]))
    digest = _Digest()
    for values in _rows(conn, table):
        encoded = _row_json(values)
        digest.add(encoded)
        emit(encoded)
    check = digest.check()
    emit(_row_json([{"end": table.name, "rows": check.rows, "sha256": check.sha256}]))
    return check


@dataclass
class BackupContents:
    header: dict[str, Any]
    tables: dict[str, tuple[str, list[str], list[list[Any]], TableCheck]]
    sha256: str


def read_backup(path: Path) -> BackupContents:
    """Parse and check a backup file whole: its checksum, every table's row count and digest.

    Raises :class:`DataOpsError` naming the first thing wrong; nothing is trusted before the
    checksum line at the end has matched everything before it.
    """
    try:
        lines = _lines(path)
        checksum = hashlib.sha256()
        parsed = []
        for raw in lines[:-1]:
            checksum.update(raw)
            parsed.append(json.loads(raw))
        trailer = json.loads(lines[-1]) if lines else None
    except (OSError, EOFError, gzip.BadGzipFile, ValueError, UnicodeDecodeError) as exc:
        raise DataOpsError(f"{path}: not a readable backup ({type(exc).__name__})") from None
    if not (isinstance(trailer, list) and len(trailer) == 1 and isinstance(trailer[0], dict)
            and set(trailer[0]) == {"sha256"}):
        raise DataOpsError(f"{path}: the checksum line is missing (the file is cut short)")
    if trailer[0]["sha256"] != checksum.hexdigest():
        raise DataOpsError(f"{path}: checksum mismatch: the backup was changed or damaged; it is refused")
    return _contents(path, parsed, checksum.hexdigest())


def _lines(path: Path) -> list[bytes]:
    with gzip.open(path, "rb") as stream:
        lines = []
        for raw in stream:
            if len(raw) > LINE_MAX_BYTES:
                raise ValueError("line too long")
            lines.append(raw)
    return lines


def _contents(path: Path, parsed: list[Any], checksum: str) -> BackupContents:
    if not parsed or not isinstance(parsed[0], list) or not isinstance(parsed[0][0], dict):
        raise DataOpsError(f"{path}: no backup header")
    header = parsed[0][0]
    if header.get("format") != BACKUP_FORMAT or header.get("v") != BACKUP_VERSION:
        raise DataOpsError(f"{path}: not an {BACKUP_FORMAT} v{BACKUP_VERSION} file")
    tables: dict[str, tuple[str, list[str], list[list[Any]], TableCheck]] = {}
    index = 1
    while index < len(parsed):
        start = parsed[index][0] if isinstance(parsed[index], list) and parsed[index] else None
        if not isinstance(start, dict) or "table" not in start:
            raise DataOpsError(f"{path}: line {index + 1} is not the start of a table")
        name, digest, rows = start["table"], _Digest(), []
        index += 1
        while index < len(parsed) and not (isinstance(parsed[index], list) and len(parsed[index]) == 1
                                           and isinstance(parsed[index][0], dict)):
            digest.add(_row_json(parsed[index]))
            rows.append(parsed[index])
            index += 1
        end = parsed[index][0] if index < len(parsed) else {}
        found = digest.check()
        if end.get("end") != name or end.get("rows") != found.rows or end.get("sha256") != found.sha256:
            raise DataOpsError(f"{path}: table {name} does not match its recorded count and digest")
        tables[name] = (str(start["store"]), list(start["columns"]), rows, found)
        index += 1
    return BackupContents(header, tables, checksum)


def verify_backup(path: Path) -> dict[str, Any]:
    """What ``backup verify`` prints: the file's checksum, revisions and every table's count."""
    contents = read_backup(path)
    return {"file": str(path), "sha256": contents.sha256, "created": contents.header.get("created"),
            "dialect": contents.header.get("dialect"), "revisions": contents.header.get("revisions"),
            "tables": {n: {"rows": t[3].rows, "sha256": t[3].sha256} for n, t in sorted(contents.tables.items())}}


def restore_backup(path: Path, target: CentralDb) -> dict[str, Any]:
    """Verify ``path``, then load it into the empty ``target`` at the backup's revisions, check
    every table against the backup, and upgrade to this code's newest schema.

    The target's tables are read from the database itself at that revision (not from this code's
    newest definitions), so a backup made by an older version restores and is migrated after.
    """
    contents = read_backup(path)
    revisions = contents.header.get("revisions") or {}
    if set(revisions) != set(STORES) or any(not isinstance(r, str) for r in revisions.values()):
        raise DataOpsError(f"{path}: the backup does not name the schema revision of both stores")
    upgrade_to(target, revisions)
    loaded: dict[str, TableCheck] = {}
    for store, engine in target.stores():
        names = [name for name, found in contents.tables.items() if found[0] == store]
        with write(engine) as conn:
            tables = _reflected(conn, names, path)
            for name in names:
                _restore_table(conn, tables[name], contents.tables[name], path)
            _reset_sequences(conn, tables.values())
        with read(engine) as conn:
            tables = _reflected(conn, names, path)
            loaded.update({name: _check_columns(conn, tables[name], contents.tables[name][1]) for name in names})
    _compare({n: t[3] for n, t in contents.tables.items()}, loaded, "the restore")
    migrated = upgrade(target)
    return {"file": str(path), "sha256": contents.sha256, "rows": sum(t.rows for t in loaded.values()),
            "tables": {n: {"rows": t.rows, "sha256": t.sha256} for n, t in sorted(loaded.items())},
            "schema": migrated, "backup_revisions": revisions}


def _reflected(conn: Connection, names: list[str], path: Path) -> dict[str, Table]:
    found = MetaData()
    found.reflect(conn)
    missing = [n for n in names if n not in found.tables]
    if missing:
        raise DataOpsError(f"{path}: tables {', '.join(missing)} are not in the schema at the backup's revision")
    return {n: found.tables[n] for n in names}


def _restore_table(conn: Connection, table: Table, found: tuple[str, list[str], list[list[Any]], TableCheck],
                   path: Path) -> None:
    _, columns, rows, _ = found
    if sorted(columns) != sorted(c.name for c in table.columns):
        raise DataOpsError(f"{path}: table {table.name} has columns {columns}, the database "
                           f"{[c.name for c in table.columns]}")
    if conn.execute(select(func.count()).select_from(table)).scalar_one():
        raise DataOpsError(f"the target already holds rows in {table.name}; restore goes into an empty database only")
    for start in range(0, len(rows), BATCH_ROWS):
        conn.execute(insert(table), [dict(zip(columns, map(_uncell, row))) for row in rows[start:start + BATCH_ROWS]])


def _check_columns(conn: Connection, table: Table, columns: list[str]) -> TableCheck:
    digest = _Digest()
    for row in conn.execution_options(yield_per=BATCH_ROWS).execute(select(*(table.c[c] for c in columns))):
        digest.add(_row_json([_cell(v) for v in row]))
    return digest.check()
