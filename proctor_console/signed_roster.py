"""Session rosters signed by the central body: imported, verified, kept; and the admin's override.

A centre run with a central body receives each session's roster signed (``exam_core.roster_wire``)
with its packages: from the sync (``GET ROSTERS_PATH``) or an air-gap bundle. :meth:`SignedRosters.
import_document` takes it in only after the signature verifies against the central key of the
installed root certificate, the roster names this centre, its version is newer than the one held
for the session (an older roster replayed from a stale bundle never replaces a newer one; the
same bytes again change nothing), and every candidate's accommodations are allowed by the scheme:
by the policy the roster carries (checked by the reader) and by each package of the scheme held
here (the same check as a CSV import, ``Roster.check_policies``). Candidates then join the
``candidates`` table with ``origin = 'signed'``; a later version removes those no longer booked
(unless they already sat: their record stays), and their photos are kept for the identity check at
admission (``photo``).

Admission keeps to the session's time: a candidate of a signed roster is admitted from
``EARLY_ADMISSION`` (60 minutes) before the session's ``starts_at`` until its admission window
closes (``starts_at`` plus the roster's ``window_minutes``, the late-admission rule the central body
set for the session: after it, the body publishes no roster either). Outside it admission is refused
with the times in the centre's zone; a centre admin may allow one admission outside the window with
a reason (:meth:`SignedRosters.allow_outside_window`, audited, used by one attempt), as for someone
not on the roster.

Admission refuses anyone not on the roster. Someone who is not (a booking made too late to
travel) is admitted only after a centre admin adds them with a reason (:meth:`SignedRosters.
override`), which the audit chain records with the admin's name; the candidate is marked
``override`` everywhere the roster is shown. The CSV roster (``proctor_console.roster``) stays for
centres used without a central body.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from collections.abc import Callable

import sqlite_utils
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exam_core import roster_wire
from exam_core.audit import AuditLog
from exam_core.errors import ValidationError
from exam_core.model import IDENTIFIER_RE
from exam_core.store import immediate_transaction
from exam_core.timestamps import parse_time, utc_now, utc_text_us
from proctor_console.accounts import User
from proctor_console.attempts import Attempts
from proctor_console.conflicts import Conflicts
from proctor_console.errors import Conflict, Forbidden
from proctor_console.roster import Roster
from proctor_console.wording import local_time

SIGNED, OVERRIDE = "signed", "override"
MAX_REASON = 1000
#: How long before a session's start its candidates may be admitted (identity checks, seating).
EARLY_ADMISSION = timedelta(minutes=60)


@dataclass(frozen=True)
class WindowGrant:
    """An admission outside the session's window a centre admin allowed, not used yet."""

    grant_id: int
    session_id: str
    granted_by: str
    reason: str


@dataclass(frozen=True)
class Imported:
    """What one import did: ``imported`` (a newer version), or ``present`` (these bytes held)."""

    session_id: str
    version: int
    status: str
    candidates: int
    removed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class SignedRosters:
    def __init__(self, db: sqlite_utils.Database, audit: AuditLog, roster: Roster, attempts: Attempts,
                 centre_id: str, central_key: Callable[[], Ed25519PublicKey | None], zone: str = "UTC") -> None:
        self.db = db
        #: The centre's time zone (IANA name): refusals state the window's times in it.
        self.zone = zone
        self.audit = audit
        self.roster = roster
        self.attempts = attempts
        self.centre_id = centre_id
        #: The central body's key from the installed root certificate (None before it is installed).
        self.central_key = central_key

    # --- import ----------------------------------------------------------------------------------
    def import_document(self, data: bytes, source: str, by: str) -> Imported:
        """Verify and take in one signed roster (see the module docstring for every check)."""
        central = self.central_key()
        if central is None:
            raise Conflict("install the centre certificate first: a signed roster is verified against it")
        roster = roster_wire.open_roster(data, central, self.centre_id)
        digest = hashlib.sha256(data).hexdigest()
        held = self.db.execute("SELECT version, sha256 FROM signed_rosters WHERE session_id = ?",
                               [roster.session_id]).fetchone()
        if held is not None and held[1] == digest:
            return Imported(roster.session_id, roster.version, "present", len(roster.candidates))
        if held is not None and held[0] >= roster.version:
            raise Conflict(f"roster of session {roster.session_id}: version {roster.version} is not newer than "
                           f"version {held[0]} held here; refused")
        self.roster.check_policies([_row(roster, c, i) for i, c in enumerate(roster.candidates)],
                                   f"roster of session {roster.session_id}")
        removed = self._store(roster, data, digest, source, by)
        self.audit.append(by, "roster.signed_import", {"session_id": roster.session_id, "version": roster.version,
                                                       "candidates": len(roster.candidates), "removed": removed,
                                                       "sha256": digest, "source": source[:100]})
        return Imported(roster.session_id, roster.version, "imported", len(roster.candidates), removed)

    def _store(self, roster: roster_wire.SessionRoster, data: bytes, digest: str, source: str, by: str) -> int:
        keep = {c.candidate_id for c in roster.candidates}
        gone = [c for c in self.roster.signed_ids(roster.session_id) if c not in keep]
        sat = (set(self.attempts.sittings(gone)) | {c for c in gone if self.attempts.admitted_elsewhere(c)}
               if gone else set())
        gone = [c for c in gone if c not in sat]                 # who sat keeps their record
        rows = [(c.candidate_id, c.name, c.seat, c.accommodations) for c in roster.candidates]
        with immediate_transaction(self.db) as conn:
            self.roster.write_signed(conn, roster.session_id, roster.scheme_id, rows, gone)
            conn.execute("DELETE FROM roster_photos WHERE session_id = ?", [roster.session_id])
            for c in roster.candidates:
                if c.photo is not None:
                    conn.execute("INSERT OR REPLACE INTO roster_photos (candidate_id, session_id, sha256, photo)"
                                 " VALUES (?,?,?,?)", [c.candidate_id, roster.session_id, c.photo_sha256, c.photo])
            conn.execute("INSERT OR REPLACE INTO signed_rosters (session_id, version, scheme_id, starts_at, forms,"
                         " document, sha256, source, imported_at, imported_by, window_minutes)"
                         " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                         [roster.session_id, roster.version, roster.scheme_id, roster.starts_at,
                          json.dumps(list(roster.forms)), data, digest, source[:200], utc_text_us(), by,
                          roster.window_minutes])
        return len(gone)

    # --- reading ---------------------------------------------------------------------------------
    def photo(self, candidate_id: str) -> bytes | None:
        """The candidate's identity photo from the signed roster (JPEG), if it carried one."""
        row = self.db.execute("SELECT photo FROM roster_photos WHERE candidate_id = ?", [candidate_id]).fetchone()
        return None if row is None else bytes(row[0])

    def origins(self) -> dict[str, dict[str, Any]]:
        """``{candidate_id: {"origin", "session_id", "photo", "override_by", "override_reason"}}``."""
        photos = {r[0] for r in self.db.execute("SELECT candidate_id FROM roster_photos").fetchall()}
        return {cid: {**row, "photo": cid in photos} for cid, row in self.roster.origins().items()}

    def sessions(self) -> list[dict[str, Any]]:
        """The signed rosters held, by start time (never the document itself)."""
        rows = self.db.execute("SELECT session_id, version, scheme_id, starts_at, forms, sha256, imported_at, source"
                               " FROM signed_rosters ORDER BY starts_at, session_id").fetchall()
        keys = ("session_id", "version", "scheme_id", "starts_at", "forms", "sha256", "imported_at", "source")
        return [self._with_window({**dict(zip(keys, r)), "forms": json.loads(r[4])}) for r in rows]

    def _with_window(self, session: dict[str, Any]) -> dict[str, Any]:
        """A session row with its start and admission window as the centre's clock shows them."""
        window = self.admission_window(session["session_id"])
        opens, closes = (self._local(w) for w in window) if window else ("", "")
        return {**session, "starts_local": local_time(session["starts_at"], self.zone, seconds=False),
                "admission_opens": opens, "admission_closes": closes}

    def _local(self, moment: datetime) -> str:
        return local_time(moment.strftime("%Y-%m-%dT%H:%M:%SZ"), self.zone, seconds=False)

    def check_form(self, candidate_id: str, form_id: str) -> None:
        """Refuse admitting a candidate of a signed roster to a form their session does not deliver
        (a candidate from a CSV roster or an override is not bound to a session's forms)."""
        origin = self.roster.origin_of(candidate_id)
        if origin is None or origin[0] != SIGNED:
            return
        row = self.db.execute("SELECT forms FROM signed_rosters WHERE session_id = ?", [origin[1]]).fetchone()
        forms = json.loads(row[0]) if row else []
        if form_id not in forms:
            raise Conflict(f"candidate {candidate_id} is booked for session {origin[1]}, which delivers "
                           f"{', '.join(forms) or 'no form'}; this package is form {form_id}")

    def purge_photos(self, closed_before: datetime) -> int:
        """Delete the roster photos of every session whose admission window closed before
        ``closed_before`` (``Retention.purge``: the identity check they served is long over).

        The signed document carries the photos too, so it is emptied as well: what stays is its
        version, hash, start and window (enough to refuse an older roster and to recognise the same
        bytes again, which then change nothing). Returns the number of photos deleted."""
        closed = {}
        held = self.db.execute("SELECT session_id, starts_at, window_minutes FROM signed_rosters"
                               " WHERE length(document) > 0").fetchall()
        for session_id, starts_at, stored in held:
            minutes = self._window_minutes(session_id, stored)
            if parse_time(starts_at, "starts_at") + timedelta(minutes=minutes) < closed_before:
                closed[session_id] = minutes
        if not closed:
            return 0
        removed = 0
        with immediate_transaction(self.db) as conn:
            for session_id, minutes in closed.items():
                removed += conn.execute("DELETE FROM roster_photos WHERE session_id = ?", [session_id]).rowcount or 0
                conn.execute("UPDATE signed_rosters SET document = X'', window_minutes = ? WHERE session_id = ?",
                             [minutes, session_id])
        return removed

    # --- the session's time window ----------------------------------------------------------------
    def admission_window(self, session_id: str) -> tuple[datetime, datetime] | None:
        """When the session's candidates may be admitted: ``EARLY_ADMISSION`` before its start until
        its admission window closes; None for a session without a signed roster here."""
        row = self.db.execute("SELECT starts_at, window_minutes FROM signed_rosters WHERE session_id = ?",
                              [session_id]).fetchone()
        if row is None:
            return None
        start = parse_time(row[0], "starts_at")
        return start - EARLY_ADMISSION, start + timedelta(minutes=self._window_minutes(session_id, row[1]))

    def _window_minutes(self, session_id: str, stored: int | None) -> int:
        """The session's ``window_minutes``: the stored column, or for a roster imported before the
        column existed, from its signed document (read only then: it carries every photo; verified
        again, as the stored bytes were trusted)."""
        if stored is not None:
            return int(stored)
        central = self.central_key()
        if central is None:
            raise Conflict("install the centre certificate first: a signed roster is verified against it")
        row = self.db.execute("SELECT document FROM signed_rosters WHERE session_id = ?", [session_id]).fetchone()
        return roster_wire.open_roster(bytes(row[0]), central, self.centre_id, session_id).window_minutes

    def check_window(self, candidate_id: str, now: datetime | None = None) -> WindowGrant | None:
        """None when the candidate may be admitted now (inside their session's window, or not bound
        to a signed session); the centre admin's grant when outside it with one; else refused,
        naming the window in the centre's time zone and how to go on."""
        origin = self.roster.origin_of(candidate_id)
        if origin is None or origin[0] != SIGNED or origin[1] is None:
            return None
        window = self.admission_window(origin[1])
        moment = now or utc_now()
        if window is None or window[0] <= moment < window[1]:
            return None
        grant = self.pending_window_grant(candidate_id, origin[1])
        if grant is not None:
            return grant
        opens, closes = self._local(window[0]), self._local(window[1])
        when = "has not opened yet" if moment < window[0] else "is closed"
        early = EARLY_ADMISSION.seconds // 60
        raise Conflict(f"candidate {candidate_id} is booked for session {origin[1]}, whose admission {when}: "
                       f"admission from {opens} ({early} minutes before the start) until {closes}; a centre "
                       "admin can allow this admission with a reason (Roster page, or `roster allow-outside-window`)")

    def pending_window_grant(self, candidate_id: str, session_id: str) -> WindowGrant | None:
        """The unused grant for the candidate's booking in ``session_id``: one given for an earlier
        session (the body moved the booking since) does not open another session's window."""
        row = self.db.execute("SELECT grant_id, session_id, granted_by, reason FROM window_overrides"
                              " WHERE candidate_id = ? AND session_id = ? AND attempt_id IS NULL",
                              [candidate_id, session_id]).fetchone()
        return WindowGrant(*row) if row else None

    def allow_outside_window(self, admin: User, candidate_id: str, reason: str) -> int:
        """A centre admin allows one admission of a signed roster's candidate outside their
        session's window (a late train, a session moved on the day), with a reason; audited. An
        admin with a declared, not overridden conflict with the candidate is refused."""
        if not admin.is_admin:
            raise Forbidden("only a centre admin can allow an admission outside the session's time")
        Conflicts(self.db, self.audit).check(admin.name, candidate_id)  # impartiality, as for every action
        if not isinstance(candidate_id, str) or not IDENTIFIER_RE.match(candidate_id):
            raise ValidationError("candidate_id", "must be an identifier")
        reason = _text(reason, "reason", MAX_REASON)
        origin = self.roster.origin_of(candidate_id)
        if origin is None or origin[0] != SIGNED or origin[1] is None:
            raise Conflict(f"candidate {candidate_id} is not on a signed session roster: no session time applies")
        if self.pending_window_grant(candidate_id, origin[1]) is not None:
            raise Conflict(f"candidate {candidate_id} already has an admission outside the window allowed, "
                           "not used yet")
        with immediate_transaction(self.db) as conn:
            cur = conn.execute("INSERT INTO window_overrides (candidate_id, session_id, granted_by, reason, granted_at)"
                               " VALUES (?,?,?,?,?)", [candidate_id, origin[1], admin.name, reason, utc_text_us()])
            grant_id = int(cur.lastrowid or 0)
        self.audit.append(admin.name, "roster.window_override", {"grant_id": grant_id, "candidate_id": candidate_id,
                                                                 "session_id": origin[1], "reason": reason})
        return grant_id

    def use_window_grant(self, grant: WindowGrant, attempt_id: str) -> None:
        """The admission the grant allowed was made (inside the admission's flow; audited there)."""
        with immediate_transaction(self.db) as conn:
            conn.execute("UPDATE window_overrides SET attempt_id = ?, used_at = ? WHERE grant_id = ?"
                         " AND attempt_id IS NULL", [attempt_id, utc_text_us(), grant.grant_id])

    # --- override --------------------------------------------------------------------------------
    def override(self, admin: User, *, candidate_id: str, name: str, scheme_id: str, seat: str,
                 reason: str) -> None:
        """A centre admin puts someone not on the roster on it, with a reason, for this sitting only:
        no accommodations (those come only from the body's approval), ``origin = 'override'``."""
        if not admin.is_admin:
            raise Forbidden("only a centre admin can admit someone who is not on the roster")
        fields = {"candidate_id": candidate_id, "scheme_id": scheme_id}
        for field_name, value in fields.items():
            if not isinstance(value, str) or not IDENTIFIER_RE.match(value):
                raise ValidationError(field_name, "must be an identifier")
        name, seat, reason = (_text(name, "name", 300), _text(seat, "seat", 50, required=False),
                              _text(reason, "reason", MAX_REASON))
        if self.roster.get(candidate_id) is not None:
            raise Conflict(f"candidate {candidate_id} is already on the roster")
        self.roster.add_override(candidate_id, name, scheme_id, seat, admin.name, reason)
        self.audit.append(admin.name, "roster.override", {"candidate_id": candidate_id, "scheme_id": scheme_id,
                                                          "seat": seat, "reason": reason})


def _row(roster: roster_wire.SessionRoster, c: roster_wire.RosterCandidate, index: int) -> dict[str, Any]:
    """A roster entry as ``Roster.check_policies`` reads a CSV row (``line``: its place on the roster)."""
    return {"candidate_id": c.candidate_id, "scheme_id": roster.scheme_id, "accommodations": c.accommodations,
            "line": index + 1}


def _text(value: Any, name: str, max_len: int, *, required: bool = True) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if (required and not text) or len(text) > max_len or any(ch < " " for ch in text):
        raise ValidationError(name, f"is required, one line of at most {max_len} characters" if required
                              else f"must be one line of at most {max_len} characters")
    return text
