"""Re-admissions a centre admin allowed (the ``readmissions`` table).

A candidate sits a scheme's exam once per sitting: once an attempt of theirs was started (or its
envelope sealed), admission refuses them again, to the same form or another one, so no one gets a
second look at the questions by accident or by a proctor's favour (issue 13). A real reason to
sit again (a power cut that lost the room, a candidate taken ill and sent home) is decided by a
centre admin, who allows exactly one more admission with a reason; the grant is in the audit chain,
and the attempt that uses it is recorded on it, so the session report shows why that person sat twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlite_utils

from exam_core.audit import AuditLog
from exam_core.errors import ValidationError
from exam_core.store import immediate_transaction
from exam_core.timestamps import utc_text_us
from proctor_console.accounts import User
from proctor_console.conflicts import Conflicts
from proctor_console.errors import Conflict, Forbidden

#: A re-admission reason, as long as the other reasons the console records (end, extend, conflicts).
MAX_REASON = 1000
GRANT_COLUMNS = ("grant_id", "candidate_id", "granted_by", "reason", "granted_at", "attempt_id", "used_by",
                 "used_at")


@dataclass(frozen=True)
class Grant:
    """One allowed re-admission, not used yet."""

    grant_id: int
    candidate_id: str
    granted_by: str
    reason: str


class Readmissions:
    def __init__(self, db: sqlite_utils.Database, audit: AuditLog) -> None:
        self.db = db
        self.audit = audit

    def allow(self, admin: User, candidate_id: str, reason: str) -> int:
        """A centre admin allows one more admission of ``candidate_id``; returns the grant id.

        One open grant per candidate: a second one before the first is used is refused, so the
        count of re-admissions is the count of reasons given. An admin with a declared, not
        overridden conflict with the candidate is refused, as any proctor acting on them is."""
        if not admin.is_admin:
            raise Forbidden("only a centre admin can allow a candidate who has sat to be admitted again")
        Conflicts(self.db, self.audit).check(admin.name, candidate_id)  # impartiality, as for every action
        reason = reason.strip() if isinstance(reason, str) else ""
        if not reason or len(reason) > MAX_REASON:
            raise ValidationError("reason", f"is required (at most {MAX_REASON} characters)")
        if self.pending(candidate_id) is not None:
            raise Conflict(f"candidate {candidate_id} already has a re-admission allowed and not used yet")
        with immediate_transaction(self.db) as conn:
            cur = conn.execute("INSERT INTO readmissions (candidate_id, granted_by, reason, granted_at)"
                               " VALUES (?,?,?,?)", [candidate_id, admin.name, reason, utc_text_us()])
        grant_id = int(cur.lastrowid or 0)
        self.audit.append(admin.name, "readmission.allow", {"grant_id": grant_id, "candidate_id": candidate_id,
                                                            "reason": reason})
        return grant_id

    def pending(self, candidate_id: str) -> Grant | None:
        """The candidate's allowed re-admission not used yet, if any."""
        row = self.db.execute("SELECT grant_id, candidate_id, granted_by, reason FROM readmissions"
                              " WHERE candidate_id = ? AND attempt_id IS NULL ORDER BY grant_id LIMIT 1",
                              [candidate_id]).fetchone()
        return Grant(*row) if row else None

    def use(self, grant: Grant, attempt_id: str, by: str) -> None:
        """The admission of ``attempt_id`` by ``by`` used the grant (it allows nothing more)."""
        with immediate_transaction(self.db) as conn:
            cur = conn.execute("UPDATE readmissions SET attempt_id = ?, used_by = ?, used_at = ?"
                               " WHERE grant_id = ? AND attempt_id IS NULL",
                               [attempt_id, by, utc_text_us(), grant.grant_id])
        if cur.rowcount != 1:
            raise Conflict(f"the re-admission allowed for candidate {grant.candidate_id} was used meanwhile")

    def for_attempts(self, attempt_ids: list[str]) -> dict[str, dict[str, Any]]:
        """``{attempt_id: grant row}`` of attempts admitted again on a grant (the session report)."""
        if not attempt_ids:
            return {}
        rows = self.db.execute(f"SELECT {', '.join(GRANT_COLUMNS)} FROM readmissions WHERE attempt_id IN"  # noqa: S608 - constant column names and ? marks, values bound
                               f" ({','.join('?' for _ in attempt_ids)})", attempt_ids).fetchall()
        return {r[5]: dict(zip(GRANT_COLUMNS, r)) for r in rows}

    def open_grants(self) -> dict[str, dict[str, Any]]:
        """``{candidate_id: grant row}`` of re-admissions allowed and not used yet (the roster view)."""
        rows = self.db.execute(f"SELECT {', '.join(GRANT_COLUMNS)} FROM readmissions WHERE attempt_id IS NULL"  # noqa: S608 - constant column names and ? marks, values bound
                               " ORDER BY grant_id").fetchall()
        return {r[1]: dict(zip(GRANT_COLUMNS, r)) for r in rows}
