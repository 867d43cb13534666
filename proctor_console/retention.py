"""How long the console keeps webcam thumbnails, evidence snapshots and roster photos, and their purge.

The periods live in the ``settings`` table (``retention_days``, ``photo_retention_days``; this
module is their only reader and writer). A centre admin sets them on the admin page, an operator
with ``purge --days`` / ``--photo-days``; both go through ``Retention.set_days`` /
``set_photo_days`` and so leave the same audit entry. The server's sweeper purges every few hours;
snapshot references in alerts and events are cleared once their file is gone.

Roster photos (the identity photos a signed roster carries, for the check at admission) are kept
only for the sitting: deleted ``photo_retention_days`` (default 7) after their session's admission
window closed, by the photos purger the composition hands in (``SignedRosters.purge_photos``, the
owner of that table); a newer roster of the session that drops a candidate drops their photo at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

from exam_core.audit import AuditLog
from exam_core.store import immediate_transaction
from proctor_console.alerts import Alerts
from proctor_console.errors import InvalidRequest
from proctor_console.eventlog import EventLog

DEFAULT_RETENTION_DAYS = 30
MAX_RETENTION_DAYS = 3650
#: Days a roster photo outlives its session's admission window (the identity check is over by then;
#: a week leaves time for an incident about who sat to be looked into at the centre).
DEFAULT_PHOTO_RETENTION_DAYS = 7
MAX_PHOTO_RETENTION_DAYS = 365
MEDIA_KINDS = ("thumbnails", "snapshots")
#: Deletes the roster photos of sessions whose admission window closed before the moment; returns how many.
PhotoPurger = Callable[[datetime], int]


class Retention:
    def __init__(self, db: sqlite_utils.Database, audit: AuditLog, media_dir: Path, alerts: Alerts,
                 events: EventLog, photos: PhotoPurger) -> None:
        self.db = db
        self.photos = photos
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

    def photo_days(self) -> int:
        row = self.db.execute("SELECT value FROM settings WHERE key = 'photo_retention_days'").fetchone()
        return int(row[0]) if row else DEFAULT_PHOTO_RETENTION_DAYS

    def set_photo_days(self, days: int, by: str) -> None:
        if not 1 <= days <= MAX_PHOTO_RETENTION_DAYS:
            raise InvalidRequest(f"roster photo retention must be 1 to {MAX_PHOTO_RETENTION_DAYS} days")
        with immediate_transaction(self.db) as conn:
            conn.execute("INSERT OR REPLACE INTO settings (key, value) VALUES ('photo_retention_days', ?)",
                         [str(days)])
        self.audit.append(by, "retention.set_photos", {"days": days})

    def purge(self, by: str, days: int | None = None, now: float | None = None) -> dict[str, int]:
        """Delete thumbnails and evidence snapshots older than the retention period (or ``days``),
        and the roster photos of sessions closed longer ago than the photo retention period."""
        keep_days = self.days() if days is None else days
        moment = now or time.time()
        cutoff = moment - keep_days * 86_400
        removed = {kind: self._purge_folder(self.media_dir / kind, cutoff) for kind in MEDIA_KINDS}
        photo_days = self.photo_days()
        removed["photos"] = self.photos(datetime.fromtimestamp(moment, UTC) - timedelta(days=photo_days))
        if removed["snapshots"]:
            kept = {p.name for p in (self.media_dir / "snapshots").iterdir()}
            self.alerts.forget_snapshots(kept)
            self.events.forget_snapshots(kept)
        self.audit.append(by, "retention.purge", {"days": keep_days, "photo_days": photo_days, **removed})
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
