"""Journal heads from kiosk heartbeats (the ``journal_heads`` table): every distinct head an
attempt's kiosk reported, sent to the central body with the attempt's envelope.

A head that goes back (a lower row number than one seen) or forks (a seen row number with another
hash) is a high alert and an audit entry at once; the central body later checks every head
against the chain the kiosk finally sealed, so a journal cut back and regrown between two
heartbeats is caught there even when the console saw nothing go back.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from exam_core.store import immediate_transaction
from exam_core.timestamps import utc_text_us
from proctor_console.alerts import open_or_repeat_alert
from proctor_console.attempts import Attempts

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

    Every distinct head is kept, not only the latest. Called (on the head writer's own connection)
    only when a heartbeat's head differs from the kiosk's previous one, so most heartbeats cost
    nothing here and a changed one an indexed read before its write.
    """
    latest = db.execute("SELECT seq, hash FROM journal_heads WHERE attempt_id = ? ORDER BY seq DESC LIMIT 1",
                        [attempt_id]).fetchone()
    if latest is not None and (latest[0], latest[1]) == (seq, head_hash):
        return HeadVerdict(False)
    if Attempts(db).kiosk_of(attempt_id) != kiosk_id:
        return HeadVerdict(False, problem=f"attempt {attempt_id} is not admitted on kiosk {kiosk_id}")
    problem = _head_problem(db, attempt_id, latest, seq, head_hash)
    now = utc_text_us()
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


def _journal_alert(conn: sqlite3.Connection, kiosk_id: str, attempt_id: str, evidence: dict[str, Any],
                   now: str) -> int:
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


def highest_head(db: sqlite_utils.Database, attempt_id: str, kiosk_id: str) -> tuple[int, str] | None:
    """The highest head stored for the kiosk's attempt (the first one seen at that row if it forked):
    a kiosk refuses to resume on a journal that does not contain it."""
    row = db.execute("SELECT seq, hash FROM journal_heads WHERE attempt_id = ? AND kiosk_id = ?"
                     " ORDER BY seq DESC, first_seen, rowid LIMIT 1", [attempt_id, kiosk_id]).fetchone()
    return (row[0], row[1]) if row else None
