"""How long the console keeps webcam thumbnails and evidence snapshots, and their purge.

The period lives in the ``settings`` table (``retention_days``; this module is its only reader and
writer). A centre admin sets it on the admin page, an operator with ``purge --days``; both go
through ``Retention.set_days`` and so leave the same audit entry. The server's sweeper purges
every few hours; snapshot references in alerts and events are cleared once their file is gone.
"""

from __future__ import annotations

import time
from pathlib import Path

import sqlite_utils

from exam_core.audit import AuditLog
from exam_core.store import immediate_transaction
from proctor_console.alerts import Alerts
from proctor_console.errors import InvalidRequest
from proctor_console.eventlog import EventLog

DEFAULT_RETENTION_DAYS = 30
MAX_RETENTION_DAYS = 3650
MEDIA_KINDS = ("thumbnails", "snapshots")


class Retention:
    def __init__(self, db: sqlite_utils.Database, audit: AuditLog, media_dir: Path, alerts: Alerts,
                 events: EventLog) -> None:
        self.db = db
        self.audit = audit
        self.media_dir = media_dir
        self.alerts = alerts
        self.events = events

    def days(self) -> int:
        row = self.db.execute("SELECT value FROM settings WHERE key = 'retention_days'").fetchone()
        return int(row[0]) if row else DEFAULT_RETENTION_DAYS

    def set_days(self, days: int, by: str) -> None:
        if not 1 <= days <= MAX_RETENTION_DAYS:
            raise InvalidRequest(f"retention must be 1 to {MAX_RETENTION_DAYS} days")
        with immediate_transaction(self.db) as conn:
            conn.execute("INSERT OR REPLACE INTO settings (key, value) VALUES ('retention_days', ?)", [str(days)])
        self.audit.append(by, "retention.set", {"days": days})

    def purge(self, by: str, days: int | None = None, now: float | None = None) -> dict[str, int]:
        """Delete thumbnails and evidence snapshots older than the retention period (or ``days``)."""
        keep_days = self.days() if days is None else days
        cutoff = (now or time.time()) - keep_days * 86_400
        removed = {kind: self._purge_folder(self.media_dir / kind, cutoff) for kind in MEDIA_KINDS}
        if removed["snapshots"]:
            kept = {p.name for p in (self.media_dir / "snapshots").iterdir()}
            self.alerts.forget_snapshots(kept)
            self.events.forget_snapshots(kept)
        self.audit.append(by, "retention.purge", {"days": keep_days, **removed})
        return removed

    @staticmethod
    def _purge_folder(folder: Path, cutoff: float) -> int:
        if not folder.is_dir():
            return 0
        removed = 0
        for path in folder.iterdir():
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        return removed
