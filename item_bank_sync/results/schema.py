"""Schema of the central body's results database (``results.db``) and the one way to open it.

Kept apart from ``bank.db`` so the item bank (content, keys, forms) and the results of sittings
(candidates' answers, scores, decisions) can be backed up, retained and access-controlled on
their own schedules. Opened with ``synchronous=FULL``: an envelope acknowledged by a signed
receipt must survive power loss, or the centre would delete the only other copy.

Tables:

``envelopes``       every envelope received (accepted or not), by SHA-256 of its bytes: the
                    idempotency key of uploads. ``status`` is ``accepted`` or ``quarantined``;
                    ``receipt`` is the signed receipt returned (the same bytes every time).
``quarantine``      why an envelope was refused, with its bytes for investigation.
``attempts``        one accepted attempt (attempt ids are unique: a second envelope for the same
                    attempt is a replay and is quarantined), with its total and pass/fail.
``responses``       every journaled answer change of an accepted attempt (integrity analysis
                    needs the history, scoring uses the last value of each slot).
``response_scores`` the score of each response slot; ``score`` NULL while a marker is needed.
``marking_tasks``   responses awaiting human marking; ``marks`` the marks given (two markers
                    each; disagreement beyond the tolerance goes to adjudication).
``attempt_roles``   who acted on an attempt (proctor, marker, adjudicator): decisions check it.
``incidents``       proctor alerts and incidents forwarded with the envelopes.
``decisions``       certification decisions (append-only; the latest one stands).
``sync_nonces``     nonces of authenticated sync requests, kept for the replay window.
``integrity_flags`` integrity findings for human review.
``release_allowlist`` kiosk release measurements the central body accepts; ``attestation_checks``
                    the verdict on each accepted envelope's release attestation (flagged for review).
``kiosk_revocations`` kiosks a centre revoked (its signed statement): envelopes their keys seal
                    from that moment on are quarantined.
``intake_releases`` quarantined envelopes a person released after review (``intake release``):
                    who, why, the quarantine reason and the custody checks waived (append-only).
"""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from exam_core.store import Migration, open_db

RESULTS_DB_FILE = "results.db"

MIGRATIONS = [
    Migration(1, "intake, scoring, marking, decisions, sync nonces", """
        CREATE TABLE envelopes (
            sha256 TEXT PRIMARY KEY,
            centre_id TEXT NOT NULL,
            attempt_id TEXT,
            status TEXT NOT NULL CHECK (status IN ('accepted', 'quarantined')),
            reason TEXT NOT NULL DEFAULT '',
            receipt BLOB NOT NULL,
            received_at TEXT NOT NULL
        );
        CREATE TABLE quarantine (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL,
            centre_id TEXT NOT NULL,
            attempt_id TEXT,
            error TEXT NOT NULL,
            reason TEXT NOT NULL,
            envelope BLOB NOT NULL,
            received_at TEXT NOT NULL
        );
        CREATE TABLE attempts (
            attempt_id TEXT PRIMARY KEY,
            envelope_sha256 TEXT NOT NULL REFERENCES envelopes (sha256),
            candidate_id TEXT NOT NULL,
            form_id TEXT NOT NULL,
            form_version INTEGER NOT NULL,
            package_id TEXT NOT NULL,
            centre_id TEXT NOT NULL,
            kiosk_id TEXT NOT NULL,
            seat TEXT NOT NULL DEFAULT '',
            submitted_at TEXT NOT NULL,
            journal_head TEXT NOT NULL,
            attempt_json TEXT NOT NULL,
            item_time_json TEXT NOT NULL DEFAULT '{}',
            total REAL,
            max_total REAL,
            cut_score REAL,
            passed INTEGER,
            scoring_status TEXT NOT NULL DEFAULT 'unscored'
                CHECK (scoring_status IN ('unscored', 'awaiting_marking', 'scored')),
            scored_at TEXT
        );
        CREATE INDEX attempts_form ON attempts (form_id, form_version);
        CREATE TABLE responses (
            attempt_id TEXT NOT NULL REFERENCES attempts (attempt_id),
            seq INTEGER NOT NULL,
            item_id TEXT NOT NULL,
            response_id TEXT NOT NULL,
            value_json TEXT NOT NULL,
            wall_time TEXT NOT NULL,
            elapsed_ms INTEGER NOT NULL,
            PRIMARY KEY (attempt_id, seq)
        );
        CREATE TABLE response_scores (
            attempt_id TEXT NOT NULL REFERENCES attempts (attempt_id),
            item_id TEXT NOT NULL,
            response_id TEXT NOT NULL,
            template TEXT NOT NULL,
            score REAL,
            max_score REAL NOT NULL,
            PRIMARY KEY (attempt_id, item_id, response_id)
        );
        CREATE TABLE marking_tasks (
            task_id INTEGER PRIMARY KEY,
            attempt_id TEXT NOT NULL REFERENCES attempts (attempt_id),
            item_id TEXT NOT NULL,
            response_id TEXT NOT NULL,
            max_score REAL NOT NULL,
            status TEXT NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'adjudication', 'done')),
            tolerance REAL NOT NULL,
            final_score REAL,
            created_at TEXT NOT NULL,
            UNIQUE (attempt_id, item_id, response_id)
        );
        CREATE TABLE marks (
            task_id INTEGER NOT NULL REFERENCES marking_tasks (task_id),
            marker TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('mark', 'adjudication')),
            score REAL NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            at TEXT NOT NULL,
            PRIMARY KEY (task_id, marker)
        );
        CREATE TABLE attempt_roles (
            attempt_id TEXT NOT NULL,
            person TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('proctor', 'marker', 'adjudicator')),
            PRIMARY KEY (attempt_id, person, role)
        );
        CREATE TABLE incidents (
            id INTEGER PRIMARY KEY,
            attempt_id TEXT NOT NULL,
            centre_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            severity TEXT NOT NULL,
            rule TEXT NOT NULL DEFAULT '',
            at TEXT NOT NULL,
            detail_json TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX incidents_attempt ON incidents (attempt_id);
        CREATE TABLE decisions (
            id INTEGER PRIMARY KEY,
            attempt_id TEXT NOT NULL REFERENCES attempts (attempt_id),
            decided_by TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('pass', 'fail', 'withheld')),
            reason TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX decisions_attempt ON decisions (attempt_id);
        CREATE TABLE sync_nonces (
            centre_id TEXT NOT NULL,
            nonce TEXT NOT NULL,
            seen_at REAL NOT NULL,
            PRIMARY KEY (centre_id, nonce)
        );
        CREATE INDEX sync_nonces_age ON sync_nonces (seen_at);
        CREATE TABLE integrity_flags (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            attempt_id TEXT NOT NULL,
            other_attempt_id TEXT,
            score REAL NOT NULL,
            detail_json TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
    """),
    Migration(2, "quarantine keeps the centre's meta for a retry", """
        ALTER TABLE quarantine ADD COLUMN meta_json TEXT NOT NULL DEFAULT '{}';
    """),
    Migration(3, "marking tolerance as a setting, global ('') or per form", """
        CREATE TABLE marking_tolerance (
            form_id TEXT PRIMARY KEY,
            share REAL NOT NULL CHECK (share >= 0 AND share <= 1),
            set_by TEXT NOT NULL,
            set_at TEXT NOT NULL
        );
    """),
    Migration(4, "kiosk revocations reported by centres (item_bank_sync.trust.kiosk_revocations)", """
        CREATE TABLE kiosk_revocations (
            centre_id TEXT NOT NULL,
            kiosk_id TEXT NOT NULL,
            key_id TEXT NOT NULL,
            cert_serial TEXT NOT NULL,
            revoked_at TEXT NOT NULL,
            revoked_by TEXT NOT NULL,
            reason TEXT NOT NULL,
            document BLOB NOT NULL,
            received_at TEXT NOT NULL,
            PRIMARY KEY (centre_id, kiosk_id, key_id)
        );
    """),
    Migration(5, "central release allow-list and attestation verdicts (item_bank_sync.trust.release_allowlist)", """
        CREATE TABLE release_allowlist (
            measurement TEXT PRIMARY KEY,
            release TEXT NOT NULL,
            added_by TEXT NOT NULL,
            added_at TEXT NOT NULL
        );
        CREATE TABLE attestation_checks (
            envelope_sha256 TEXT PRIMARY KEY,
            attempt_id TEXT NOT NULL,
            status TEXT NOT NULL,
            measurement TEXT,
            release TEXT,
            reason TEXT NOT NULL,
            flagged INTEGER NOT NULL,
            checked_at TEXT NOT NULL
        );
        CREATE INDEX attestation_checks_attempt ON attestation_checks (attempt_id);
    """),
    Migration(6, "releases of quarantined envelopes after review (item_bank_sync.results.release)", """
        CREATE TABLE intake_releases (
            id INTEGER PRIMARY KEY,
            envelope_sha256 TEXT NOT NULL UNIQUE,
            attempt_id TEXT NOT NULL,
            quarantine_reason TEXT NOT NULL,
            waived_json TEXT NOT NULL,
            released_by TEXT NOT NULL,
            reason TEXT NOT NULL,
            released_at TEXT NOT NULL
        );
    """),
]


def open_results(path: str | Path) -> sqlite_utils.Database:
    """Open ``results.db`` durably (FULL: a receipted envelope must survive power loss)."""
    return open_db(path, synchronous="FULL", migrations=MIGRATIONS)


def results_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / RESULTS_DB_FILE
