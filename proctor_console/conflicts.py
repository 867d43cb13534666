"""Declared conflicts of interest (the ``conflicts`` table): impartiality at the centre.

A proctor who declares a conflict with a candidate may not act on that candidate's attempt
(admit, start, pause, ...) until a centre admin overrides the declaration with a reason; every
declaration and override is in the audit chain and on the admin page.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from exam_core.audit import AuditLog
from exam_core.store import immediate_transaction
from exam_core.timestamps import utc_text_us
from proctor_console.accounts import User
from proctor_console.errors import Forbidden, NotFound


class Conflicts:
    def __init__(self, db: sqlite_utils.Database, audit: AuditLog) -> None:
        self.db = db
        self.audit = audit

    def check(self, proctor: str, candidate_id: str) -> None:
        """Refuse an action on ``candidate_id`` by a proctor with a declared, not overridden conflict."""
        row = self.db.execute("SELECT override_by FROM conflicts WHERE proctor = ? AND candidate_id = ?",
                              [proctor, candidate_id]).fetchone()
        if row is not None and row[0] is None:
            raise Forbidden(f"{proctor} declared a conflict of interest with candidate {candidate_id}; "
                            "another proctor must act, or a centre admin must override it")

    def declare(self, proctor: str, candidate_id: str, reason: str) -> None:
        with immediate_transaction(self.db) as conn:
            conn.execute("INSERT OR REPLACE INTO conflicts (proctor, candidate_id, reason, declared_at)"
                         " VALUES (?,?,?,?)", [proctor, candidate_id, reason, utc_text_us()])
        self.audit.append(proctor, "conflict.declare", {"candidate_id": candidate_id, "reason": reason})

    def override(self, admin: User, proctor: str, candidate_id: str, reason: str) -> None:
        """A centre admin lets the proctor act despite the declaration, with a reason."""
        if not admin.is_admin:
            raise Forbidden("only a centre admin can override a conflict of interest")
        with immediate_transaction(self.db) as conn:
            cur = conn.execute("UPDATE conflicts SET override_by = ?, override_reason = ?, override_at = ?"
                               " WHERE proctor = ? AND candidate_id = ?",
                               [admin.name, reason, utc_text_us(), proctor, candidate_id])
        if cur.rowcount == 0:
            raise NotFound(f"{proctor} declared no conflict with {candidate_id}")
        self.audit.append(admin.name, "conflict.override", {"proctor": proctor, "candidate_id": candidate_id,
                                                       "reason": reason})

    def listing(self) -> list[tuple[Any, ...]]:
        """proctor, candidate_id, reason, declared_at, override_by, override_reason; newest first."""
        return self.db.execute("SELECT proctor, candidate_id, reason, declared_at, override_by, override_reason"
                               " FROM conflicts ORDER BY declared_at DESC").fetchall()
