"""The durable event log: store kiosk events (and the alerts they raise) before acking them.

Events are written in batches, one ``synchronous=FULL`` transaction per batch (group commit):
every handler waiting in the batch is acked only after that commit returned, so the guarantee is
unchanged while the fsync cost is shared by all events that arrived during the previous one.
``(kiosk_id, seq)`` is the primary key: a resent event is recognised and acked again, never
stored twice, whatever order it arrives in.

Alerts are opened in the same transaction as the event that raised them, so an acked event and
its alert cannot disagree after a crash. One open alert per (kiosk, attempt, rule): a repeat
raises its count and last seq instead of queueing a second alert (de-duplication).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from exam_core.jsonio import b64d
from exam_core.model import SEVERITIES, Event
from exam_core.store import immediate_transaction
from proctor_console.context import now_text

#: Events at or above this severity open (or repeat) an alert for the proctors.
ALERT_MIN_SEVERITY = "medium"
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class StoredEvent:
    event: Event
    duplicate: bool
    alert_id: int | None = None
    snapshot: str | None = None


def event_row(event: Event, snapshot: str | None) -> dict[str, Any]:
    body = event.to_dict()
    if snapshot is not None:  # the image lives in a file under the retention policy, not in the log
        body["evidence"] = {**body["evidence"], "snapshot_jpeg": None, "snapshot_file": snapshot}
    return {"kiosk_id": event.kiosk_id, "seq": event.seq, "attempt_id": event.attempt_id,
            "type": event.type, "severity": event.severity, "wall_time": event.wall_time,
            "received": now_text(), "body": json.dumps(body, sort_keys=True), "snapshot": snapshot}


class EventLog:
    """Writes through its own connection (the group-commit writer runs in a worker thread)."""

    def __init__(self, db: sqlite_utils.Database, snapshot_dir: Path) -> None:
        self.db = db
        self.snapshot_dir = snapshot_dir

    def _save_snapshot(self, event: Event) -> str | None:
        data = event.evidence.get("snapshot_jpeg")
        if not data:
            return None
        name = f"{event.kiosk_id}-{event.seq}.jpg"
        path = self.snapshot_dir / name
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            with open(tmp, "wb") as fh:
                fh.write(b64d(data, "evidence.snapshot_jpeg"))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        return name

    def store_batch(self, events: list[Event]) -> list[StoredEvent]:
        """Store events in one transaction; return, in order, whether each was new."""
        snapshots = [self._save_snapshot(e) for e in events]
        results: list[StoredEvent] = []
        with immediate_transaction(self.db) as conn:
            for event, snapshot in zip(events, snapshots):
                row = event_row(event, snapshot)
                cur = conn.execute(
                    "INSERT OR IGNORE INTO events (kiosk_id, seq, attempt_id, type, severity, wall_time,"
                    " received, body, snapshot) VALUES (:kiosk_id, :seq, :attempt_id, :type, :severity,"
                    " :wall_time, :received, :body, :snapshot)", row)
                if cur.rowcount == 0:
                    results.append(StoredEvent(event, True))
                    continue
                alert_id = _raise_alert(conn, event, snapshot, row["received"])
                results.append(StoredEvent(event, False, alert_id, snapshot))
        return results


def _raise_alert(conn: Any, event: Event, snapshot: str | None, now: str) -> int | None:
    if SEVERITY_RANK[event.severity] < SEVERITY_RANK[ALERT_MIN_SEVERITY]:
        return None
    evidence = {k: v for k, v in event.evidence.items() if k != "snapshot_jpeg"}
    return open_or_repeat_alert(conn, kiosk_id=event.kiosk_id, attempt_id=event.attempt_id,
                                rule=event.rule or event.type, kind=event.type, severity=event.severity,
                                thresholds=event.thresholds, evidence=evidence, now=now, snapshot=snapshot,
                                seq=event.seq)


def open_or_repeat_alert(conn: Any, *, kiosk_id: str, attempt_id: str | None, rule: str, kind: str,
                         severity: str, thresholds: dict[str, Any], evidence: dict[str, Any], now: str,
                         snapshot: str | None = None, seq: int = 0, per_attempt: bool = True) -> int:
    """The alert queue's de-duplication, for every source of alerts: one open alert per kiosk, rule
    and (unless ``per_attempt`` is False) attempt. A repeat counts up, keeps the newest thresholds
    and evidence, the highest severity and the latest snapshot; otherwise a new alert opens."""
    rank = SEVERITY_RANK[severity]
    match, params = ("AND attempt_id IS ?", [attempt_id]) if per_attempt else ("", [])
    found = conn.execute(f"SELECT alert_id FROM alerts WHERE status = 'open' AND kiosk_id = ? AND rule = ? {match}",
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
    return int(cur.lastrowid)


def alert_dict(row: Any) -> dict[str, Any]:
    """An alert row as the dashboard shows it (evidence image by URL, never inline)."""
    keys = ("alert_id", "kiosk_id", "attempt_id", "rule", "type", "severity", "rank", "thresholds",
            "evidence", "snapshot", "first_seq", "last_seq", "count", "opened", "updated", "status",
            "resolved_by", "resolved_reason", "resolved_at")
    data = dict(zip(keys, row))
    data["thresholds"] = json.loads(data["thresholds"])
    data["evidence"] = json.loads(data["evidence"])
    data["snapshot_url"] = f"/media/snapshots/{data['snapshot']}" if data["snapshot"] else None
    return data


ALERT_COLUMNS = ("alert_id, kiosk_id, attempt_id, rule, type, severity, rank, thresholds, evidence,"
                 " snapshot, first_seq, last_seq, count, opened, updated, status, resolved_by,"
                 " resolved_reason, resolved_at")


# --- journal heads from heartbeats -----------------------------------------------------------------

#: Alert rule and severity when a kiosk's journal head goes back or forks (docs/PROTOCOL.md).
JOURNAL_ALERT_RULE = "journal_head_regressed"
JOURNAL_ALERT_SEVERITY = "high"
#: Heads sent to the central body per attempt (one per changed heartbeat: ~2,000 for a 3-hour exam).
MAX_SYNCED_HEADS = 10_000


@dataclass(frozen=True)
class HeadVerdict:
    """What recording one heartbeat's journal head did: ``alert_id`` when it went back or forked."""

    stored: bool
    alert_id: int | None = None
    problem: str | None = None


def record_journal_head(db: sqlite_utils.Database, kiosk_id: str, attempt_id: str, seq: int,
                        head_hash: str) -> HeadVerdict:
    """Remember a journal head the kiosk reported for its attempt; alert if it contradicts one seen before.

    Every distinct head is kept (``journal_heads``), not only the latest: the central body checks
    each against the chain the kiosk finally sealed, so a journal cut back and regrown between
    two heartbeats is caught there even when the console saw nothing go back. Called only when a
    heartbeat's head differs from the latest stored, so most heartbeats cost one indexed read.
    """
    latest = db.execute("SELECT seq, hash FROM journal_heads WHERE attempt_id = ? ORDER BY seq DESC LIMIT 1",
                        [attempt_id]).fetchone()
    if latest is not None and (latest[0], latest[1]) == (seq, head_hash):
        return HeadVerdict(False)
    owner = db.execute("SELECT kiosk_id FROM attempts WHERE attempt_id = ?", [attempt_id]).fetchone()
    if owner is None or owner[0] != kiosk_id:
        return HeadVerdict(False, problem=f"attempt {attempt_id} is not admitted on kiosk {kiosk_id}")
    problem = _head_problem(db, attempt_id, latest, seq, head_hash)
    now = now_text()
    with immediate_transaction(db) as conn:
        conn.execute("INSERT OR IGNORE INTO journal_heads (attempt_id, seq, hash, kiosk_id, first_seen)"
                     " VALUES (?, ?, ?, ?, ?)", [attempt_id, seq, head_hash, kiosk_id, now])
        if problem is None:
            return HeadVerdict(True)
        evidence = {"attempt_id": attempt_id, "problem": problem, "reported": {"seq": seq, "hash": head_hash},
                    "latest_seen": {"seq": latest[0], "hash": latest[1]} if latest else None}
        return HeadVerdict(True, _journal_alert(conn, kiosk_id, attempt_id, evidence, now), problem)


def _head_problem(db: sqlite_utils.Database, attempt_id: str, latest: Any, seq: int, head_hash: str) -> str | None:
    """``went back`` (lower seq than a head seen), ``forked`` (a seen seq with another hash), or None."""
    if latest is not None and seq < latest[0]:
        return (f"journal went back: row {seq} reported after row {latest[0]} was seen "
                "(rows cut off the journal's tail)")
    other = db.execute("SELECT hash FROM journal_heads WHERE attempt_id = ? AND seq = ? AND hash != ?",
                       [attempt_id, seq, head_hash]).fetchone()
    if other is not None:
        return f"journal forked: row {seq} reported with another hash than the one seen before"
    return None


def _journal_alert(conn: Any, kiosk_id: str, attempt_id: str, evidence: dict[str, Any], now: str) -> int:
    """One open alert per attempt for this rule; a repeat counts up and keeps the newest evidence."""
    thresholds = {"rule": "a later journal head must not have a lower row number, nor the same row number "
                          "with another hash"}
    return open_or_repeat_alert(conn, kiosk_id=kiosk_id, attempt_id=attempt_id, rule=JOURNAL_ALERT_RULE,
                                kind="journal.regressed", severity=JOURNAL_ALERT_SEVERITY, thresholds=thresholds,
                                evidence=evidence, now=now)


def journal_heads_seen(db: sqlite_utils.Database, attempt_id: str) -> list[dict[str, Any]]:
    """Every head recorded for an attempt, oldest row first (at most ``MAX_SYNCED_HEADS``, the latest)."""
    rows = db.execute("SELECT seq, hash FROM journal_heads WHERE attempt_id = ? ORDER BY seq DESC, first_seen DESC"
                      " LIMIT ?", [attempt_id, MAX_SYNCED_HEADS]).fetchall()
    return [{"seq": seq, "hash": head_hash} for seq, head_hash in reversed(rows)]
