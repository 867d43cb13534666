"""The proctors' alert queue (the ``alerts`` table): opened by kiosk events, journal heads that go
back and failed release attestation; acknowledged or dismissed by a proctor with a reason.

One open alert per (kiosk, rule, attempt): a repeat raises its count and last seq instead of
queueing a second alert (de-duplication, ``open_or_repeat_alert``). Alerts from events are opened
in the same transaction as the event that raised them, so an acked event and its alert cannot
disagree after a crash; that is why the function takes the caller's connection.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import sqlite_utils

from exam_core.audit import AuditLog
from exam_core.model import SEVERITIES
from exam_core.store import immediate_transaction
from exam_core.timestamps import utc_text_us
from proctor_console.errors import Conflict

SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
ALERT_KEYS = ("alert_id", "kiosk_id", "attempt_id", "rule", "type", "severity", "rank", "thresholds", "evidence",
              "snapshot", "first_seq", "last_seq", "count", "opened", "updated", "status", "resolved_by",
              "resolved_reason", "resolved_at")
ALERT_COLUMNS = ", ".join(ALERT_KEYS)
RESOLUTIONS = ("acknowledged", "dismissed")


def open_or_repeat_alert(conn: sqlite3.Connection, *, kiosk_id: str, attempt_id: str | None, rule: str, kind: str,
                         severity: str, thresholds: dict[str, Any], evidence: dict[str, Any], now: str,
                         snapshot: str | None = None, seq: int = 0, per_attempt: bool = True) -> int:
    """The alert queue's de-duplication, for every source of alerts: one open alert per kiosk, rule
    and (unless ``per_attempt`` is False) attempt. A repeat counts up, keeps the newest thresholds
    and evidence, the highest severity and the latest snapshot; otherwise a new alert opens."""
    rank = SEVERITY_RANK[severity]
    match, params = ("AND attempt_id IS ?", [attempt_id]) if per_attempt else ("", [])
    found = conn.execute(f"SELECT alert_id FROM alerts WHERE status = 'open' AND kiosk_id = ? AND rule = ? {match}",  # noqa: S608 - match is one of two literals, values bound
                         [kiosk_id, rule, *params]).fetchone()
    if found:
        conn.execute(
            "UPDATE alerts SET count = count + 1, last_seq = MAX(last_seq, ?), updated = ?,"
            " rank = MAX(rank, ?), severity = CASE WHEN ? > rank THEN ? ELSE severity END,"
            " thresholds = ?, evidence = ?, snapshot = COALESCE(?, snapshot), attempt_id = ? WHERE alert_id = ?",
            [seq, now, rank, rank, severity, json.dumps(thresholds, sort_keys=True),
             json.dumps(evidence, sort_keys=True), snapshot, attempt_id, found[0]])
        return int(found[0])
    cur = conn.execute(
        "INSERT INTO alerts (kiosk_id, attempt_id, rule, type, severity, rank, thresholds, evidence,"
        " snapshot, first_seq, last_seq, count, opened, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?,1,?,?)",
        [kiosk_id, attempt_id, rule, kind, severity, rank, json.dumps(thresholds, sort_keys=True),
         json.dumps(evidence, sort_keys=True), snapshot, seq, seq, now, now])
    return int(cur.lastrowid or 0)


def alert_dict(row: Any) -> dict[str, Any]:
    """An alert row as the dashboard shows it (evidence image by URL, never inline)."""
    data = dict(zip(ALERT_KEYS, row))
    data["thresholds"] = json.loads(data["thresholds"])
    data["evidence"] = json.loads(data["evidence"])
    data["snapshot_url"] = f"/media/snapshots/{data['snapshot']}" if data["snapshot"] else None
    return data


class Alerts:
    def __init__(self, db: sqlite_utils.Database, audit: AuditLog) -> None:
        self.db = db
        self.audit = audit

    def raise_alert(self, **fields: Any) -> int:
        """Open or repeat an alert in a transaction of its own (see ``open_or_repeat_alert``)."""
        with immediate_transaction(self.db) as conn:
            return open_or_repeat_alert(conn, now=utc_text_us(), **fields)

    def resolve(self, by: str, alert_id: int, status: str, reason: str) -> None:
        """Close an open alert as acknowledged or dismissed, with the proctor's reason."""
        if status not in RESOLUTIONS:
            raise ValueError(f"status must be one of {RESOLUTIONS}")
        with immediate_transaction(self.db) as conn:
            cur = conn.execute("UPDATE alerts SET status = ?, resolved_by = ?, resolved_reason = ?, resolved_at = ?"
                               " WHERE alert_id = ? AND status = 'open'", [status, by, reason, utc_text_us(), alert_id])
        if cur.rowcount == 0:
            raise Conflict(f"alert {alert_id} is not open")
        self.audit.append(by, f"alert.{status}", {"alert_id": alert_id, "reason": reason})

    def get(self, alert_id: int) -> dict[str, Any] | None:
        row = self.db.execute(f"SELECT {ALERT_COLUMNS} FROM alerts WHERE alert_id = ?", [alert_id]).fetchone()  # noqa: S608 - constant column names and ? marks, values bound
        return alert_dict(row) if row else None

    def open_alerts(self) -> list[dict[str, Any]]:
        rows = self.db.execute(f"SELECT {ALERT_COLUMNS} FROM alerts WHERE status = 'open'"  # noqa: S608 - constant column names and ? marks, values bound
                               " ORDER BY rank DESC, updated DESC LIMIT 500").fetchall()
        return [alert_dict(r) for r in rows]

    def count_open(self, kiosk_id: str, attempt_id: str | None) -> int:
        """Open alerts of one attempt on the kiosk and of the kiosk itself (no attempt): what its
        tile counts. Another attempt's open alerts stay with that attempt."""
        row = self.db.execute("SELECT COUNT(*) FROM alerts WHERE kiosk_id = ? AND status = 'open'"
                              " AND (attempt_id IS NULL OR attempt_id IS ?)", [kiosk_id, attempt_id]).fetchone()
        return int(row[0])

    def for_attempt(self, attempt_id: str) -> list[dict[str, Any]]:
        """rule, type, severity, opened, count, status, resolved_by of an attempt's alerts (sync meta)."""
        keys = ("rule", "type", "severity", "opened", "count", "status", "resolved_by")
        rows = self.db.execute(f"SELECT {', '.join(keys)} FROM alerts WHERE attempt_id = ?", [attempt_id])  # noqa: S608 - constant column names and ? marks, values bound
        return [dict(zip(keys, r)) for r in rows]

    def for_attempts(self, attempt_ids: list[str]) -> list[dict[str, Any]]:
        """Every alert of these attempts, oldest first (a session report)."""
        marks = ",".join("?" for _ in attempt_ids) or "NULL"
        return [alert_dict(r) for r in self.db.execute(
            f"SELECT {ALERT_COLUMNS} FROM alerts WHERE attempt_id IN ({marks}) ORDER BY opened", attempt_ids)]  # noqa: S608 - constant column names and ? marks, values bound

    def forget_snapshots(self, kept: set[str]) -> None:
        """Drop references to evidence snapshots no longer on disk (the retention purge removed them)."""
        with immediate_transaction(self.db) as conn:
            for (name,) in conn.execute("SELECT DISTINCT snapshot FROM alerts WHERE snapshot IS NOT NULL").fetchall():
                if name not in kept:
                    conn.execute("UPDATE alerts SET snapshot = NULL WHERE snapshot = ?", [name])
