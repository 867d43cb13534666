"""The durable outbox: events and sealed envelopes waiting for the console's acknowledgement.

Why: once an exam has started it must go on without the console, and nothing the console should
know (a monitoring alert, a submitted envelope) may be lost because the LAN was down or the kiosk
crashed. Everything meant for the console is first committed here (synchronous=FULL), then sent
by the console link; a row is deleted only when the console acknowledges it, after storing it.
Events carry a per-kiosk sequence number, so a resend after a lost ack is a duplicate the console
drops, never a second event.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

import sqlite_utils

from exam_core.jsonio import canonical_dumps, loads_strict
from exam_core.model import SEVERITIES, Event
from exam_core.store import immediate_transaction
from exam_core.timestamps import utc_text_ms

KIND_EVENT = "event"
KIND_ENVELOPE = "envelope"


@dataclass(frozen=True)
class OutboxEntry:
    kind: str
    seq: int
    attempt_id: str | None
    body: bytes


class Outbox:
    """Durable queue toward the console. ``on_added`` wakes the sender; it must not block."""

    def __init__(self, db: sqlite_utils.Database, kiosk_id: str,
                 on_added: Callable[[], None] | None = None) -> None:
        self.db = db
        self.kiosk_id = kiosk_id
        self.on_added = on_added
        self._lock = threading.Lock()

    def _next_seq(self, conn: Any, kind: str) -> int:
        conn.execute("INSERT INTO counters (name, value) VALUES (?, 0) ON CONFLICT(name) DO NOTHING", [kind])
        conn.execute("UPDATE counters SET value = value + 1 WHERE name = ?", [kind])
        return int(conn.execute("SELECT value FROM counters WHERE name = ?", [kind]).fetchone()[0])

    def add_event(self, type: str, severity: str = "info", *, attempt_id: str | None = None,
                  rule: str = "", thresholds: dict[str, Any] | None = None,
                  evidence: dict[str, Any] | None = None, data: dict[str, Any] | None = None,
                  wall_time: str | None = None, mono_time: float | None = None) -> Event:
        """Validate an event, give it the next sequence number and commit it; returns the event."""
        if severity not in SEVERITIES:
            severity = "info"
        with immediate_transaction(self.db) as conn:
            seq = self._next_seq(conn, KIND_EVENT)
            event = Event.from_dict({
                "kiosk_id": self.kiosk_id, "seq": seq, "type": type, "severity": severity,
                "wall_time": wall_time or utc_text_ms(),
                "mono_time": time.monotonic() if mono_time is None else mono_time,
                "attempt_id": attempt_id, "rule": rule, "thresholds": thresholds or {},
                "evidence": evidence or {}, "data": data or {},
            })
            conn.execute("INSERT INTO outbox (kind, seq, attempt_id, body, created) VALUES (?, ?, ?, ?, ?)",
                         [KIND_EVENT, seq, attempt_id, canonical_dumps(event.to_dict()), event.wall_time])
        self._wake()
        return event

    def emit(self, event: Any = None, **fields: Any) -> Event:
        """Callback for the monitors hub: accepts an ``Event``, an event dict, or keyword fields.

        The hub's own ``kiosk_id``/``seq`` are replaced: sequence numbers belong to the outbox.
        """
        if event is not None:
            fields = {**(event.to_dict() if hasattr(event, "to_dict") else dict(event)), **fields}
        for ignored in ("kiosk_id", "seq"):
            fields.pop(ignored, None)
        return self.add_event(**fields)

    def add_envelope(self, attempt_id: str, message: dict[str, Any]) -> OutboxEntry:
        """Queue one attempt's sealed envelope message; idempotent per attempt (first one wins)."""
        with immediate_transaction(self.db) as conn:
            row = conn.execute("SELECT seq, body FROM outbox WHERE kind = ? AND attempt_id = ?",
                               [KIND_ENVELOPE, attempt_id]).fetchone()
            if row is None:
                seq = self._next_seq(conn, KIND_ENVELOPE)
                body = canonical_dumps(message)
                conn.execute("INSERT INTO outbox (kind, seq, attempt_id, body, created) VALUES (?, ?, ?, ?, ?)",
                             [KIND_ENVELOPE, seq, attempt_id, body, utc_text_ms()])
            else:
                seq, body = int(row[0]), bytes(row[1])
        self._wake()
        return OutboxEntry(KIND_ENVELOPE, seq, attempt_id, body)

    def envelope_for(self, attempt_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT body FROM outbox WHERE kind = ? AND attempt_id = ?",
                              [KIND_ENVELOPE, attempt_id]).fetchone()
        return None if row is None else loads_strict(bytes(row[0]), max_bytes=64 * 1024 * 1024)

    def pending(self, limit: int = 100) -> list[OutboxEntry]:
        """Oldest first; envelopes before events so a submission is never stuck behind alerts."""
        rows = self.db.execute(
            "SELECT kind, seq, attempt_id, body FROM outbox ORDER BY kind = 'event', id LIMIT ?", [limit])
        return [OutboxEntry(k, int(s), a, bytes(b)) for k, s, a, b in rows]

    def ack(self, kind: str, seq: int) -> bool:
        """The console has stored it: delete it. Returns whether a row was deleted."""
        with immediate_transaction(self.db) as conn:
            deleted = conn.execute("DELETE FROM outbox WHERE kind = ? AND seq = ?", [kind, seq]).rowcount
        return bool(deleted)

    def count(self) -> dict[str, int]:
        rows = self.db.execute("SELECT kind, COUNT(*) FROM outbox GROUP BY kind").fetchall()
        counts = {KIND_EVENT: 0, KIND_ENVELOPE: 0}
        counts.update({k: int(n) for k, n in rows})
        return counts

    def _wake(self) -> None:
        if self.on_added is not None:
            self.on_added()
