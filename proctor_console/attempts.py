"""Attempts at this centre (the ``attempts`` table): one row per admission of a candidate to a kiosk.

The one module that reads or writes ``attempts``. Admission creates the row; the state then moves
with the kiosk commands the kiosk acknowledged (``apply_command``) and with the sealed envelope it
delivered (``mark_submitted``); those two run inside their callers' transactions, so the command
or envelope row and the attempt's new state are committed together.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import sqlite_utils

from exam_core.model import Attempt
from exam_core.store import immediate_transaction
from exam_core.timestamps import utc_text_us

#: States of an attempt that still holds its kiosk.
ACTIVE_STATES = ("waiting", "admitted", "agreement", "instructions", "in_progress", "paused")
#: States after which the attempt is over (a kiosk may then be admitted again). ``cancelled``: the
#: admission was undone before the start (no sitting; the candidate may be admitted again).
FINISHED_STATES = ("ended", "submitted", "cancelled")
#: What an acked command does to the attempt's state on the console side.
STATE_AFTER = {"admit": "admitted", "start": "in_progress", "pause": "paused", "resume": "in_progress",
               "resume_approved": "in_progress", "end": "ended", "cancel_admission": "cancelled"}

ATTEMPT_COLUMNS = ("attempt_id", "candidate_id", "kiosk_id", "package_id", "state", "admitted_by", "admitted_at",
                   "started_at", "ended_at", "end_reason", "extra_seconds")


class Attempts:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    # --- admission and changes ----------------------------------------------------------------
    def create(self, attempt: Attempt, admitted_by: str) -> None:
        with immediate_transaction(self.db) as conn:
            conn.execute("INSERT INTO attempts (attempt_id, candidate_id, kiosk_id, package_id, state, body,"
                         " admitted_by, admitted_at) VALUES (?,?,?,?,?,?,?,?)",
                         [attempt.attempt_id, attempt.candidate_id, attempt.kiosk_id, attempt.package_id,
                          attempt.state, json.dumps(attempt.to_dict()), admitted_by, utc_text_us()])

    def add_extra_seconds(self, attempt_id: str, seconds: int) -> None:
        with immediate_transaction(self.db) as conn:
            conn.execute("UPDATE attempts SET extra_seconds = extra_seconds + ? WHERE attempt_id = ?",
                         [seconds, attempt_id])

    def set_end_reason(self, attempt_id: str, reason: str) -> None:
        with immediate_transaction(self.db) as conn:
            conn.execute("UPDATE attempts SET end_reason = ? WHERE attempt_id = ?", [reason, attempt_id])

    @staticmethod
    def apply_command(conn: sqlite3.Connection, kind: str, attempt_id: str) -> None:
        """The state an acked command leaves the attempt in (inside the caller's transaction)."""
        now = utc_text_us()
        if kind in STATE_AFTER:
            conn.execute("UPDATE attempts SET state = ? WHERE attempt_id = ?", [STATE_AFTER[kind], attempt_id])
        if kind == "start":
            conn.execute("UPDATE attempts SET started_at = COALESCE(started_at, ?) WHERE attempt_id = ?",
                         [now, attempt_id])
        if kind in ("end", "cancel_admission"):
            conn.execute("UPDATE attempts SET ended_at = COALESCE(ended_at, ?) WHERE attempt_id = ?",
                         [now, attempt_id])

    @staticmethod
    def mark_submitted(conn: sqlite3.Connection, attempt_id: str) -> None:
        """The kiosk delivered the attempt's sealed envelope (inside the envelope's transaction):
        the attempt is over, at that moment unless a proctor's end came first."""
        conn.execute("UPDATE attempts SET state = 'submitted' WHERE attempt_id = ? AND state != 'ended'",
                     [attempt_id])
        conn.execute("UPDATE attempts SET ended_at = COALESCE(ended_at, ?) WHERE attempt_id = ?",
                     [utc_text_us(), attempt_id])

    def sat_packages(self, candidate_ids: list[str]) -> dict[str, set[str]]:
        """``{candidate_id: {package_id, ...}}``: the packages each candidate has an attempt of (an
        admission cancelled before the start is none)."""
        if not candidate_ids:
            return {}
        rows = self.db.execute(f"SELECT candidate_id, package_id FROM attempts WHERE state != 'cancelled'"  # noqa: S608 - ? marks only, values bound
                               f" AND candidate_id IN ({','.join('?' for _ in candidate_ids)})",
                               candidate_ids).fetchall()
        out: dict[str, set[str]] = {}
        for candidate_id, package_id in rows:
            out.setdefault(candidate_id, set()).add(package_id)
        return out

    # --- lookups ------------------------------------------------------------------------------
    def active_on(self, kiosk_id: str, states: tuple[str, ...] = ACTIVE_STATES) -> dict[str, Any] | None:
        """The kiosk's latest attempt in one of ``states``: attempt_id, candidate_id, package_id, state."""
        marks = ",".join("?" for _ in states)
        row = self.db.execute(
            f"SELECT attempt_id, candidate_id, package_id, state FROM attempts WHERE kiosk_id = ?"  # noqa: S608 - ? marks only, values bound
            f" AND state IN ({marks}) ORDER BY admitted_at DESC LIMIT 1", [kiosk_id, *states]).fetchone()
        return dict(zip(("attempt_id", "candidate_id", "package_id", "state"), row)) if row else None

    def admitted_elsewhere(self, candidate_id: str) -> str | None:
        """The kiosk on which the candidate already holds an active attempt, of any package: one
        person sits one exam at a time (a second form on another kiosk is refused as well)."""
        marks = ",".join("?" for _ in ACTIVE_STATES)
        row = self.db.execute(f"SELECT kiosk_id FROM attempts WHERE candidate_id = ?"  # noqa: S608 - ? marks only, values bound
                              f" AND state IN ({marks})", [candidate_id, *ACTIVE_STATES]).fetchone()
        return row[0] if row else None

    def sittings(self, candidate_ids: list[str] | None = None) -> dict[str, list[dict[str, Any]]]:
        """Each candidate's attempts that count as having sat (the exam was started, or an envelope
        was sealed), oldest first: ``{candidate_id: [attempt row, ...]}``. An admission ended
        before the start is no sitting (the proctor moved the candidate to another kiosk)."""
        where, params = ("", []) if candidate_ids is None else (
            f" AND candidate_id IN ({','.join('?' for _ in candidate_ids)})", list(candidate_ids))
        rows = self.db.execute(f"SELECT {', '.join(ATTEMPT_COLUMNS)} FROM attempts"  # noqa: S608 - constant column names and ? marks, values bound
                               f" WHERE (started_at IS NOT NULL OR state = 'submitted'){where}"
                               " ORDER BY admitted_at", params).fetchall()
        out: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            attempt = dict(zip(ATTEMPT_COLUMNS, row))
            out.setdefault(attempt["candidate_id"], []).append(attempt)
        return out

    def latest_on(self, kiosk_id: str) -> dict[str, Any] | None:
        """The kiosk's most recent attempt, whatever its state (tiles and the timeline)."""
        row = self.db.execute(f"SELECT {', '.join(ATTEMPT_COLUMNS)} FROM attempts WHERE kiosk_id = ?"  # noqa: S608 - constant column names and ? marks, values bound
                              " ORDER BY admitted_at DESC LIMIT 1", [kiosk_id]).fetchone()
        return dict(zip(ATTEMPT_COLUMNS, row)) if row else None

    def kiosk_of(self, attempt_id: str) -> str | None:
        row = self.db.execute("SELECT kiosk_id FROM attempts WHERE attempt_id = ?", [attempt_id]).fetchone()
        return row[0] if row else None

    def admitted_by(self, attempt_id: str) -> str | None:
        row = self.db.execute("SELECT admitted_by FROM attempts WHERE attempt_id = ?", [attempt_id]).fetchone()
        return row[0] if row else None

    def in_progress(self) -> list[tuple[str, str]]:
        """``(kiosk_id, attempt_id)`` of every attempt in progress (a mass pause)."""
        return [(r[0], r[1]) for r in
                self.db.execute("SELECT kiosk_id, attempt_id FROM attempts WHERE state = 'in_progress'").fetchall()]

    def uses_package(self, kiosk_id: str, package_id: str) -> bool:
        """True when an attempt on the kiosk that is not over uses the package (it may download it)."""
        marks = ",".join("?" for _ in FINISHED_STATES)
        return self.db.execute(f"SELECT 1 FROM attempts WHERE kiosk_id = ? AND package_id = ?"  # noqa: S608 - ? marks only, values bound
                               f" AND state NOT IN ({marks})", [kiosk_id, package_id, *FINISHED_STATES]
                               ).fetchone() is not None

    def for_package(self, package_id: str) -> list[dict[str, Any]]:
        """Every attempt of a session (a package), for its report."""
        rows = self.db.execute(f"SELECT {', '.join(ATTEMPT_COLUMNS)} FROM attempts WHERE package_id = ?",  # noqa: S608 - constant column names and ? marks, values bound
                               [package_id]).fetchall()
        return [dict(zip(ATTEMPT_COLUMNS, r)) for r in rows]

    def get(self, attempt_id: str) -> dict[str, Any] | None:
        """One attempt by its id, whatever its state (an incident names the attempt it is about)."""
        row = self.db.execute(f"SELECT {', '.join(ATTEMPT_COLUMNS)} FROM attempts WHERE attempt_id = ?",  # noqa: S608 - constant column names and ? marks, values bound
                              [attempt_id]).fetchone()
        return dict(zip(ATTEMPT_COLUMNS, row)) if row else None

    def candidates_of(self, attempt_ids: list[str]) -> dict[str, str]:
        """``{attempt_id: candidate_id}``: whose attempt each alert or incident belongs to."""
        wanted = sorted(set(attempt_ids))
        if not wanted:
            return {}
        rows = self.db.execute(f"SELECT attempt_id, candidate_id FROM attempts WHERE attempt_id IN"  # noqa: S608 - ? marks only, values bound
                               f" ({','.join('?' * len(wanted))})", wanted).fetchall()
        return {r[0]: r[1] for r in rows}

    def accommodations_of(self, attempt_ids: list[str]) -> dict[str, dict[str, Any]]:
        """``{attempt_id: accommodations}`` as admission applied them (the attempt's own record,
        not the roster's current row, which may have changed since)."""
        wanted = sorted(set(attempt_ids))
        if not wanted:
            return {}
        rows = self.db.execute(f"SELECT attempt_id, body FROM attempts WHERE attempt_id IN"  # noqa: S608 - ? marks only, values bound
                               f" ({','.join('?' * len(wanted))})", wanted).fetchall()
        return {r[0]: json.loads(r[1]).get("accommodations") or {} for r in rows}
