"""Incident reports written by proctors (the ``incidents`` table): identity, misconduct,
technical, environment, health or other, about a kiosk's attempt or a whole session.

They go to the session report and, with the attempt's envelope, to the central body's integrity
review (the category only: the free text stays at the centre).
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from exam_core.audit import AuditLog
from exam_core.store import immediate_transaction
from exam_core.timestamps import utc_text_us

INCIDENT_CATEGORIES = ("identity", "misconduct", "technical", "environment", "health", "other")
INCIDENT_KEYS = ("incident_id", "created", "author", "category", "kiosk_id", "attempt_id", "text")


class Incidents:
    def __init__(self, db: sqlite_utils.Database, audit: AuditLog) -> None:
        self.db = db
        self.audit = audit

    def report(self, author: str, category: str, text: str, *, kiosk_id: str | None, attempt_id: str | None,
               package_id: str | None) -> int:
        """Record an incident (``category`` one of ``INCIDENT_CATEGORIES``, checked by the caller)."""
        with immediate_transaction(self.db) as conn:
            cur = conn.execute("INSERT INTO incidents (package_id, attempt_id, kiosk_id, category, text, author,"
                               " created) VALUES (?,?,?,?,?,?,?)",
                               [package_id, attempt_id, kiosk_id, category, text, author, utc_text_us()])
        incident_id = int(cur.lastrowid or 0)
        self.audit.append(author, "incident.report", {"incident_id": incident_id, "category": category,
                                                      "kiosk_id": kiosk_id, "attempt_id": attempt_id})
        return incident_id

    def recent(self, limit: int = 500) -> list[tuple[Any, ...]]:
        """The latest incidents, newest first, as ``INCIDENT_KEYS`` tuples (the Incidents page)."""
        return self.db.execute(f"SELECT {', '.join(INCIDENT_KEYS)} FROM incidents ORDER BY created DESC LIMIT ?",  # noqa: S608 - constant column names, values bound
                               [limit]).fetchall()

    def for_attempt(self, attempt_id: str) -> list[dict[str, Any]]:
        rows = self.db.execute(f"SELECT {', '.join(INCIDENT_KEYS)} FROM incidents WHERE attempt_id = ?",  # noqa: S608 - constant column names, values bound
                               [attempt_id]).fetchall()
        return [dict(zip(INCIDENT_KEYS, r)) for r in rows]

    def for_session(self, package_id: str, attempt_ids: list[str]) -> list[dict[str, Any]]:
        """Incidents about the session or one of its attempts, oldest first (the session report)."""
        marks = ",".join("?" for _ in attempt_ids) or "NULL"
        rows = self.db.execute(f"SELECT {', '.join(INCIDENT_KEYS)} FROM incidents WHERE package_id = ?"  # noqa: S608 - constant column names, values bound
                               f" OR attempt_id IN ({marks}) ORDER BY created", [package_id, *attempt_ids]).fetchall()
        return [dict(zip(INCIDENT_KEYS, r)) for r in rows]
