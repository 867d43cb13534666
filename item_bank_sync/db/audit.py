"""The central body's audit chain, stored through the data layer (SQLite or PostgreSQL).

The chain is ``exam_core.audit``'s: the same entry hash, the same signed checkpoint documents and
the same verifier (:class:`exam_core.audit.HashChain`); only the storage differs from the kiosk's
and console's :class:`~exam_core.audit.AuditLog`. Its two tables are defined here once, in the
bank store, with the columns ``AuditLog`` has always created (a ``bank.db`` made before the data
layer already holds them and keeps its chain).

One chain under several writers. Appending reads the head and writes the next entry; two writers
doing that at once would both link to the same head and fork the chain. On SQLite the write
transaction is ``BEGIN IMMEDIATE`` (one writer per file). On PostgreSQL each append first takes an
advisory transaction lock named after the chain (:func:`item_bank_sync.db.sql.lock`), so appends
from any number of processes queue at the head for the few milliseconds of one insert, and the
primary key on ``seq`` turns any writer that bypassed the lock into an error, never a fork.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Column, Connection, Engine, Integer, LargeBinary, Table, Text, func, insert, select

from exam_core.audit import GENESIS_HASH, CheckpointRow, EntryRow, HashChain
from item_bank_sync.db.metadata import BANK, central_table
from item_bank_sync.db.sql import lock, read, write

AUDIT_TABLE = "audit_log"

audit_log = central_table(
    AUDIT_TABLE, BANK,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("time", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("data", Text, nullable=False),
    Column("prev_hash", Text, nullable=False),
    Column("hash", Text, nullable=False),
)

audit_log_checkpoints = central_table(
    f"{AUDIT_TABLE}_checkpoints", BANK,
    Column("id", Integer, primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("head", Text, nullable=False),
    Column("count", Integer, nullable=False),
    Column("time", Text, nullable=False),
    Column("signed", LargeBinary, nullable=False),
)

_ENTRY_COLUMNS = ("seq", "time", "actor", "action", "data", "prev_hash", "hash")
_CHECKPOINT_COLUMNS = ("seq", "head", "count", "time", "signed")


class CentralAudit(HashChain):
    """The central audit chain (``audit_log``) in the bank store of ``engine``.

    Options are :class:`~exam_core.audit.HashChain`'s (``checkpoint_key`` signs checkpoints
    in the same transaction as the entry that makes them due).
    """

    def __init__(self, engine: Engine, **options: Any) -> None:
        super().__init__(AUDIT_TABLE, **options)
        self.engine = engine
        self.entries_table: Table = audit_log
        self.checkpoints_table: Table = audit_log_checkpoints

    @contextlib.contextmanager
    def _locked_write(self) -> Iterator[Connection]:
        with write(self.engine) as conn:
            lock(conn, f"audit-head:{self.table}")
            yield conn

    def _write(self) -> AbstractContextManager[Connection]:
        return self._locked_write()

    def _snapshot(self) -> AbstractContextManager[Connection]:
        return read(self.engine)

    def _head_row(self, tx: Connection | None) -> tuple[int, bytes]:
        query = select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
        row = self._first(tx, query)
        return (int(row[0]), bytes.fromhex(row[1])) if row else (0, GENESIS_HASH)

    def _last_checkpoint(self, tx: Connection) -> tuple[int, Any] | None:
        table = audit_log_checkpoints
        row = tx.execute(select(table.c.seq, table.c.time).order_by(table.c.id.desc()).limit(1)).first()
        return (int(row[0]), row[1]) if row else None

    def _insert_entry(self, tx: Connection, row: EntryRow) -> None:
        tx.execute(insert(audit_log).values(dict(zip(_ENTRY_COLUMNS, row))))

    def _insert_checkpoint(self, tx: Connection, row: CheckpointRow) -> None:
        tx.execute(insert(audit_log_checkpoints).values(dict(zip(_CHECKPOINT_COLUMNS, row))))

    def _entry_rows(self, tx: Connection | None, start_seq: int) -> Iterable[EntryRow]:
        query = select(*(audit_log.c[c] for c in _ENTRY_COLUMNS)).where(audit_log.c.seq >= start_seq)
        return self._all(tx, query.order_by(audit_log.c.seq))

    def _checkpoint_rows(self, tx: Connection | None) -> Iterable[CheckpointRow]:
        table = audit_log_checkpoints
        return self._all(tx, select(*(table.c[c] for c in _CHECKPOINT_COLUMNS)).order_by(table.c.id))

    def count(self) -> int:
        """How many entries the chain holds."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())

    def _first(self, tx: Connection | None, query: Any) -> Any:
        if tx is not None:
            return tx.execute(query).first()
        with self.engine.connect() as conn:
            return conn.execute(query).first()

    def _all(self, tx: Connection | None, query: Any) -> list[Any]:
        if tx is not None:
            return [tuple(r) for r in tx.execute(query)]
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(query)]
