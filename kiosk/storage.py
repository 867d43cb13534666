"""The kiosk's one database (``DIR/kiosk.db``): journal, outbox, applied commands, small state.

One file opened through :func:`exam_core.store.open_db` with ``synchronous=FULL``: every table here
holds something a candidate or the console cannot afford to lose. Nothing in it is plaintext form
content or a response: the journal is encrypted, the outbox holds events and sealed envelopes,
and ``kiosk_state`` holds the attempt's metadata (who, which form, which seat) and the phase.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlite_utils

from exam_core.jsonio import canonical_dumps, loads_strict
from exam_core.store import Migration, immediate_transaction, open_db

from kiosk import journal

DB_NAME = "kiosk.db"

MIGRATIONS = (
    Migration(1, "journal", journal.create_schema),
    Migration(2, "outbox", """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            seq INTEGER NOT NULL,
            attempt_id TEXT,
            body BLOB NOT NULL,
            created TEXT NOT NULL,
            UNIQUE (kind, seq)
        );
        CREATE UNIQUE INDEX outbox_one_envelope ON outbox (attempt_id) WHERE kind = 'envelope';
        CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    """),
    Migration(3, "state", """
        CREATE TABLE kiosk_state (name TEXT PRIMARY KEY, value BLOB NOT NULL);
        CREATE TABLE applied_commands (command_id TEXT PRIMARY KEY, kind TEXT NOT NULL, applied TEXT NOT NULL);
    """),
)


def open_kiosk_db(data_dir: str | Path) -> sqlite_utils.Database:
    """Open (creating and migrating) ``DIR/kiosk.db`` with synchronous=FULL."""
    return open_db(Path(data_dir) / DB_NAME, synchronous="FULL", migrations=MIGRATIONS)


def get_state(db: sqlite_utils.Database, name: str, default: Any = None) -> Any:
    row = db.execute("SELECT value FROM kiosk_state WHERE name = ?", [name]).fetchone()
    return default if row is None else loads_strict(bytes(row[0]), max_bytes=16 * 1024 * 1024)


def set_state(db: sqlite_utils.Database, name: str, value: Any) -> None:
    """Durably set one named value (JSON)."""
    with immediate_transaction(db) as conn:
        conn.execute("INSERT INTO kiosk_state (name, value) VALUES (?, ?) "
                     "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                     [name, canonical_dumps(value)])


def command_applied(db: sqlite_utils.Database, command_id: str) -> bool:
    return db.execute("SELECT 1 FROM applied_commands WHERE command_id = ?", [command_id]).fetchone() is not None


def mark_command(db: sqlite_utils.Database, command_id: str, kind: str, when: str) -> None:
    with immediate_transaction(db) as conn:
        conn.execute("INSERT OR IGNORE INTO applied_commands (command_id, kind, applied) VALUES (?, ?, ?)",
                     [command_id, kind, when])
