"""The durable event log (the ``events`` table): kiosk events stored, with the alerts they raise,
before they are acked.

Events are written in batches, one ``synchronous=FULL`` transaction per batch (group commit):
every handler waiting in the batch is acked only after that commit returned, so the guarantee is
unchanged while the fsync cost is shared by all events that arrived during the previous one.
``(kiosk_id, seq)`` is the primary key: a resent event is recognised and acked again, never
stored twice, whatever order it arrives in. An event at or above ``ALERT_MIN_SEVERITY`` opens (or
repeats) its alert in the same transaction (``alerts.open_or_repeat_alert``).
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from exam_core.jsonio import b64d
from exam_core.model import Event
from exam_core.store import immediate_transaction
from exam_core.timestamps import utc_text_us
from proctor_console.alerts import SEVERITY_RANK, open_or_repeat_alert

#: Events at or above this severity open (or repeat) an alert for the proctors.
ALERT_MIN_SEVERITY = "medium"


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
            "received": utc_text_us(), "body": json.dumps(body, sort_keys=True), "snapshot": snapshot}


class EventLog:
    """The server writes through a connection of its own (the group-commit writer runs in a worker
    thread); reads use whichever connection the log was built with."""

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

    def last_seq(self, kiosk_id: str) -> int | None:
        """The highest sequence number stored for the kiosk (its hello ack carries it)."""
        return self.db.execute("SELECT MAX(seq) FROM events WHERE kiosk_id = ?", [kiosk_id]).fetchone()[0]

    def for_attempt(self, attempt_id: str, limit: int = 2000) -> list[dict[str, Any]]:
        """wall_time, type, severity, rule, snapshot of an attempt's events, in order (the timeline)."""
        rows = self.db.execute("SELECT wall_time, type, severity, body, snapshot FROM events WHERE attempt_id = ?"
                               " ORDER BY seq LIMIT ?", [attempt_id, limit]).fetchall()
        return [{"wall_time": wall, "type": kind, "severity": severity, "rule": json.loads(body).get("rule", ""),
                 "snapshot": snapshot} for wall, kind, severity, body, snapshot in rows]

    def submissions(self, attempt_ids: list[str]) -> dict[str, dict[str, Any]]:
        """``{attempt_id: {"reason", "at"}}`` from each attempt's ``attempt.submitted`` event: what
        ended it on the kiosk (``candidate``, ``timeout``, ``proctor_end``) and the kiosk's time."""
        if not attempt_ids:
            return {}
        rows = self.db.execute(f"SELECT attempt_id, wall_time, body FROM events WHERE type = 'attempt.submitted'"  # noqa: S608 - ? marks only, values bound
                               f" AND attempt_id IN ({','.join('?' for _ in attempt_ids)}) ORDER BY seq",
                               attempt_ids).fetchall()
        out: dict[str, dict[str, Any]] = {}
        for attempt_id, wall, body in rows:
            reason = json.loads(body).get("data", {}).get("reason")
            out.setdefault(attempt_id, {"reason": reason if isinstance(reason, str) else "", "at": wall})
        return out

    def forget_snapshots(self, kept: set[str]) -> None:
        """Drop references to evidence snapshots no longer on disk (the retention purge removed them)."""
        with immediate_transaction(self.db) as conn:
            for (name,) in conn.execute("SELECT snapshot FROM events WHERE snapshot IS NOT NULL").fetchall():
                if name not in kept:
                    conn.execute("UPDATE events SET snapshot = NULL WHERE snapshot = ?", [name])


def _raise_alert(conn: sqlite3.Connection, event: Event, snapshot: str | None, now: str) -> int | None:
    if SEVERITY_RANK[event.severity] < SEVERITY_RANK[ALERT_MIN_SEVERITY]:
        return None
    evidence = {k: v for k, v in event.evidence.items() if k != "snapshot_jpeg"}
    return open_or_repeat_alert(conn, kiosk_id=event.kiosk_id, attempt_id=event.attempt_id,
                                rule=event.rule or event.type, kind=event.type, severity=event.severity,
                                thresholds=event.thresholds, evidence=evidence, now=now, snapshot=snapshot,
                                seq=event.seq)
