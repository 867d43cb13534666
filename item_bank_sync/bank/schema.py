"""Schema of the central body's bank database (``bank.db``) and the one way to open it.

Tables (all written by this package; issue-8 modules keep their own tables in ``results.db``):

``items``            one row per item *version*: content (``item_json``, an ``exam_core.model.Item``),
                     answer key (``key_json``, an ``AnswerKey``), content hash, document-control status,
                     and provenance: the import ``namespace`` (``--namespace``; '' for none) and the
                     ``source_key`` (the file, relative to the folder or zip imported, with that
                     folder's or zip's name; NULL for versions stored before it was recorded).
``item_status``      every status change of an item version: who, when, note (the document history).
                     It is also the outbox of the audit chain: ``audit_cursor`` holds the last
                     ``item_status.id`` copied into the chain (see ``ItemBank.drain_audit``).
``media``            content-addressed media files (bytes live in ``DIR/media``).
``schemes``          certification schemes with their blueprint (parsed YAML, see docs/ITEM-FORMATS.md).
``forms``            assembled forms (``form_json``, an ``exam_core.model.Form``), with seed and build id.
``item_stats``       classical item statistics per item version: ``p`` (proportion correct, 0..1)
                     and ``n`` (responses). Written by item analysis (issue 8) through
                     :func:`item_bank_sync.forms.store.record_item_stats`; read by form assembly to
                     balance mean difficulty.
``centres``          enrolled test centres and the certificates issued to them; revocation state.
``packages``         published form packages (which form, which centre, window, file path relative
                     to the data directory, SHA-256 of the file).
``revocation_lists`` every signed revocation list issued (sequence grows by one each time); the
                     latest is also written to ``DIR/centres/revocations.signed`` for sync.

The audit chain (``exam_core.audit.AuditLog``) lives in the same file, in its own tables.
"""

from __future__ import annotations

import json
from pathlib import Path

import sqlite_utils

from exam_core.store import Migration, open_db

MIGRATIONS = [
    Migration(1, "item bank, schemes, forms, centres, packages", """
        CREATE TABLE items (
            item_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            content_hash TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'draft'
                CHECK (status IN ('draft', 'reviewed', 'approved', 'retired')),
            title TEXT NOT NULL,
            interaction_types TEXT NOT NULL,
            competency_area TEXT,
            source TEXT NOT NULL,
            source_format TEXT NOT NULL,
            item_json TEXT NOT NULL,
            key_json TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            PRIMARY KEY (item_id, version)
        );
        CREATE INDEX items_status ON items (status);
        CREATE INDEX items_area ON items (competency_area);
        CREATE TABLE item_status (
            id INTEGER PRIMARY KEY,
            item_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            from_status TEXT,
            to_status TEXT NOT NULL,
            by TEXT NOT NULL,
            at TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            FOREIGN KEY (item_id, version) REFERENCES items (item_id, version)
        );
        CREATE INDEX item_status_item ON item_status (item_id, version);
        CREATE TABLE media (
            sha256 TEXT PRIMARY KEY,
            mime TEXT NOT NULL,
            name TEXT NOT NULL,
            size INTEGER NOT NULL,
            width INTEGER,
            height INTEGER,
            created_at TEXT NOT NULL
        );
        CREATE TABLE schemes (
            scheme_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            title TEXT NOT NULL,
            scheme_json TEXT NOT NULL,
            source_text TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (scheme_id, version)
        );
        CREATE TABLE forms (
            form_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            scheme_id TEXT NOT NULL,
            scheme_version INTEGER NOT NULL,
            build_id TEXT NOT NULL,
            seed INTEGER NOT NULL,
            form_json TEXT NOT NULL,
            mean_p REAL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (form_id, version),
            FOREIGN KEY (scheme_id, scheme_version) REFERENCES schemes (scheme_id, version)
        );
        CREATE TABLE item_stats (
            item_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            p REAL NOT NULL CHECK (p >= 0 AND p <= 1),
            n INTEGER NOT NULL CHECK (n >= 0),
            point_biserial REAL,
            updated_at TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (item_id, version)
        );
        CREATE TABLE centres (
            centre_id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            signing_key_id TEXT NOT NULL,
            hpke_key_id TEXT NOT NULL,
            request_json TEXT NOT NULL,
            cert_serial TEXT NOT NULL,
            certificate BLOB NOT NULL,
            not_after TEXT NOT NULL,
            enrolled_at TEXT NOT NULL,
            revoked_at TEXT,
            revoked_reason TEXT
        );
        CREATE TABLE packages (
            package_id TEXT PRIMARY KEY,
            form_id TEXT NOT NULL,
            form_version INTEGER NOT NULL,
            centre_id TEXT NOT NULL REFERENCES centres (centre_id),
            opens TEXT NOT NULL,
            closes TEXT NOT NULL,
            release_code_required INTEGER NOT NULL,
            path TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            created_at TEXT NOT NULL,
            FOREIGN KEY (form_id, form_version) REFERENCES forms (form_id, version)
        );
    """),
    Migration(2, "signed revocation lists", """
        CREATE TABLE revocation_lists (
            sequence INTEGER PRIMARY KEY,
            issued_at TEXT NOT NULL,
            serials_json TEXT NOT NULL,
            signed BLOB NOT NULL
        );
    """),
    Migration(3, "audit cursor over item_status", """
        CREATE TABLE audit_cursor (
            name TEXT PRIMARY KEY,
            last_id INTEGER NOT NULL
        );
    """),
    Migration(4, "item provenance: import namespace and source key", """
        ALTER TABLE items ADD COLUMN namespace TEXT NOT NULL DEFAULT '';
        ALTER TABLE items ADD COLUMN source_key TEXT;
        CREATE INDEX items_namespace ON items (namespace);
    """),
]


def open_bank(path: str | Path) -> sqlite_utils.Database:
    """Open ``bank.db`` durably (FULL: item versions and certificates are records under ISO 17024)."""
    return open_db(path, synchronous="FULL", migrations=MIGRATIONS)


_VERSIONED_JSON = {"forms": ("form_id", "form_json"), "schemes": ("scheme_id", "scheme_json")}


def versioned_json(db: sqlite_utils.Database, table: str, ident: str, version: int | None = None) -> dict | None:
    """The parsed JSON document of one version of a form or scheme (the newest if ``version`` is
    None), or None when there is no such row. Table and column names come from a fixed map, never
    from the caller's text."""
    id_column, json_column = _VERSIONED_JSON[table]
    sql, params = f"SELECT {json_column} FROM {table} WHERE {id_column} = ?", [ident]
    if version is not None:
        sql += " AND version = ?"
        params.append(version)
    row = db.execute(sql + " ORDER BY version DESC LIMIT 1", params).fetchone()
    return None if row is None else json.loads(row[0])
