"""The candidate roster (the ``candidates`` table), imported from a CSV file or upload.

The roster is a CSV with a header row; every row is validated and the whole file is refused,
naming line and field, if one row is bad. Importing replaces candidates with the same id.

A row's accommodations must be ones its scheme allows: the scheme's policy travels signed in its
form packages (``FormPackageManifest.accommodation_policy``), and a roster granting more than a
package of that scheme held here allows is refused, every such row named with its reason. A scheme
with no package here yet cannot be checked at import; admission checks again against the package
the candidate sits (``proctor_console.actions``), so nothing the scheme does not allow is granted.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from exam_core.audit import AuditLog
from exam_core.errors import ValidationError
from exam_core.model import IDENTIFIER_RE, AccommodationPolicy, Accommodations
from exam_core.store import immediate_transaction
from exam_core.timestamps import utc_text_us
from proctor_console.errors import InvalidRequest

ROSTER_COLUMNS = ("candidate_id", "name", "scheme", "seat", "accommodations")
ROSTER_MAX_BYTES = 5 * 1024 * 1024
ROSTER_MAX_ROWS = 20_000
#: Rows named at most in one refusal (the rest are counted).
MAX_NAMED_REFUSALS = 20

#: ``{scheme_id: [(package_id, policy), ...]}`` of the packages held that carry their scheme's policy.
PolicySource = Callable[[], dict[str, list[tuple[str, AccommodationPolicy]]]]


@dataclass(frozen=True)
class Candidate:
    candidate_id: str
    name: str
    scheme_id: str
    seat: str
    accommodations: Accommodations


def parse_roster(data: bytes, source: str = "roster") -> list[dict[str, Any]]:
    """Validate a roster CSV: candidate_id, name, scheme, seat, accommodations (JSON or empty)."""
    if len(data) > ROSTER_MAX_BYTES:
        raise InvalidRequest(f"{source}: larger than {ROSTER_MAX_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(f"{source}: not UTF-8 (byte {exc.start})") from None
    reader = csv.DictReader(io.StringIO(text))
    header = tuple(reader.fieldnames or ())
    if set(header) - set(ROSTER_COLUMNS) or set(ROSTER_COLUMNS[:4]) - set(header):
        raise InvalidRequest(f"{source}: header must be {', '.join(ROSTER_COLUMNS)} (accommodations optional), "
                             f"got {', '.join(header)}")
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for line, raw in enumerate(reader, start=2):
        if line - 1 > ROSTER_MAX_ROWS:
            raise InvalidRequest(f"{source}: more than {ROSTER_MAX_ROWS} rows")
        try:
            rows.append({**_roster_row(raw), "line": line})
        except ValidationError as exc:
            raise InvalidRequest(f"{source}: line {line}: {exc.field}: {exc.reason}") from None
        if rows[-1]["candidate_id"] in seen:
            raise InvalidRequest(f"{source}: line {line}: candidate_id: {rows[-1]['candidate_id']} appears twice")
        seen.add(rows[-1]["candidate_id"])
    return rows


def _roster_row(raw: dict[str, Any]) -> dict[str, Any]:
    if None in raw:
        raise ValidationError("<row>", "has more fields than the header")
    values = {k: (raw.get(k) or "").strip() for k in ROSTER_COLUMNS}
    if not IDENTIFIER_RE.match(values["candidate_id"]):
        raise ValidationError("candidate_id", "must be an identifier (letters, digits, _ . -)")
    if not values["name"] or len(values["name"]) > 300:
        raise ValidationError("name", "is required (at most 300 characters)")
    if not IDENTIFIER_RE.match(values["scheme"]):
        raise ValidationError("scheme", "must be an identifier")
    if len(values["seat"]) > 50:
        raise ValidationError("seat", "is longer than 50 characters")
    accommodations = Accommodations()
    if values["accommodations"]:
        try:
            accommodations = Accommodations.from_dict(json.loads(values["accommodations"]), "accommodations")
        except json.JSONDecodeError:
            raise ValidationError("accommodations",
                                  "must be a JSON object, e.g. {\"extra_time_percent\": 25}") from None
    return {"candidate_id": values["candidate_id"], "name": values["name"], "scheme_id": values["scheme"],
            "seat": values["seat"], "accommodations": accommodations}


def policy_refusals(scheme_id: str, accommodations: Accommodations,
                    policies: dict[str, list[tuple[str, AccommodationPolicy]]]) -> list[str]:
    """Why the accommodations go beyond what the scheme allows, by each package of the scheme held
    (empty: allowed by all of them, or no package of the scheme carries a policy)."""
    return [f"{reason} (scheme {scheme_id}, package {package_id})"
            for package_id, policy in policies.get(scheme_id, []) for reason in policy.refusals(accommodations)]


class Roster:
    def __init__(self, db: sqlite_utils.Database, audit: AuditLog, policies: PolicySource = dict) -> None:
        self.db = db
        self.audit = audit
        #: The accommodation policies of the packages held, read at each import (packages come and go).
        self.policies = policies

    def check_policies(self, rows: list[dict[str, Any]], source: str) -> None:
        """Refuse the file when a row grants what its scheme does not allow, naming each such row."""
        policies = self.policies()
        refused = [f"line {row['line']}: candidate {row['candidate_id']}: {reason}" for row in rows
                   for reason in policy_refusals(row["scheme_id"], row["accommodations"], policies)]
        if refused:
            more = len(refused) - MAX_NAMED_REFUSALS
            raise InvalidRequest(f"{source}: accommodations the scheme does not allow: "
                                 + "; ".join(refused[:MAX_NAMED_REFUSALS]) + (f"; and {more} more" if more > 0 else ""))

    def import_csv(self, data: bytes, source: str, by: str) -> int:
        rows = parse_roster(data, source)
        self.check_policies(rows, source)
        now = utc_text_us()
        with immediate_transaction(self.db) as conn:
            for row in rows:
                conn.execute("INSERT OR REPLACE INTO candidates (candidate_id, name, scheme_id, seat, accommodations,"
                             " imported_at) VALUES (?,?,?,?,?,?)",
                             [row["candidate_id"], row["name"], row["scheme_id"], row["seat"],
                              json.dumps(row["accommodations"].to_dict()), now])
        self.audit.append(by, "roster.import", {"rows": len(rows), "source": os.path.basename(source)})
        return len(rows)

    # --- candidates from a signed roster, and a centre admin's override (proctor_console.signed_roster) ---
    def signed_ids(self, session_id: str) -> list[str]:
        """The candidates a signed roster of ``session_id`` put here."""
        return [r[0] for r in self.db.execute("SELECT candidate_id FROM candidates WHERE origin = 'signed' AND"
                                              " session_id = ?", [session_id]).fetchall()]

    def write_signed(self, conn: Any, session_id: str, scheme_id: str,
                     rows: list[tuple[str, str, str, Accommodations]], remove: list[str]) -> None:
        """In the caller's transaction: replace the candidates of a signed roster (``rows``: id, name,
        seat, accommodations) and remove those no longer on it (``remove``)."""
        for candidate_id in remove:
            conn.execute("DELETE FROM candidates WHERE candidate_id = ?", [candidate_id])
        now = utc_text_us()
        for candidate_id, name, seat, accommodations in rows:
            conn.execute("INSERT OR REPLACE INTO candidates (candidate_id, name, scheme_id, seat, accommodations,"
                         " imported_at, origin, session_id) VALUES (?,?,?,?,?,?,'signed',?)",
                         [candidate_id, name, scheme_id, seat, json.dumps(accommodations.to_dict()), now, session_id])

    def add_override(self, candidate_id: str, name: str, scheme_id: str, seat: str, by: str, reason: str) -> None:
        """Someone not on the roster, put on it by a centre admin with a reason (no accommodations)."""
        with immediate_transaction(self.db) as conn:
            conn.execute("INSERT INTO candidates (candidate_id, name, scheme_id, seat, accommodations, imported_at,"
                         " origin, override_by, override_reason) VALUES (?,?,?,?,?,?,'override',?,?)",
                         [candidate_id, name, scheme_id, seat, json.dumps(Accommodations().to_dict()), utc_text_us(),
                          by, reason])

    def origin_of(self, candidate_id: str) -> tuple[str, str | None] | None:
        """``(origin, session_id)`` of a candidate on the roster (None: not on it)."""
        row = self.db.execute("SELECT origin, session_id FROM candidates WHERE candidate_id = ?",
                              [candidate_id]).fetchone()
        return None if row is None else (row[0], row[1])

    def origins(self) -> dict[str, dict[str, Any]]:
        """``{candidate_id: {"origin", "session_id", "override_by", "override_reason"}}`` of every candidate."""
        keys = ("origin", "session_id", "override_by", "override_reason")
        rows = self.db.execute("SELECT candidate_id, origin, session_id, override_by, override_reason"
                               " FROM candidates").fetchall()
        return {r[0]: dict(zip(keys, r[1:])) for r in rows}

    def get(self, candidate_id: str) -> Candidate | None:
        row = self.db.execute("SELECT candidate_id, name, scheme_id, seat, accommodations FROM candidates"
                              " WHERE candidate_id = ?", [candidate_id]).fetchone()
        if row is None:
            return None
        return Candidate(row[0], row[1], row[2], row[3], Accommodations.from_dict(json.loads(row[4])))

    def names_and_seats(self, candidate_ids: list[str]) -> dict[str, tuple[str, str]]:
        """``{candidate_id: (name, seat)}`` for those on the roster (reports and tiles)."""
        wanted = sorted(set(candidate_ids))
        if not wanted:
            return {}
        rows = self.db.execute(f"SELECT candidate_id, name, seat FROM candidates WHERE candidate_id IN"  # noqa: S608 - ? marks only, values bound
                               f" ({','.join('?' * len(wanted))})", wanted).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    def candidates(self) -> list[Candidate]:
        """Every candidate with their accommodations, by seat then name (the roster view)."""
        rows = self.db.execute("SELECT candidate_id, name, scheme_id, seat, accommodations FROM candidates"
                               " ORDER BY seat, name").fetchall()
        return [Candidate(r[0], r[1], r[2], r[3], Accommodations.from_dict(json.loads(r[4]))) for r in rows]

    def for_scheme(self, scheme_id: str) -> list[dict[str, Any]]:
        """Candidates registered for a scheme, by seat (a session report's attendance)."""
        rows = self.db.execute("SELECT candidate_id, name, seat FROM candidates WHERE scheme_id = ?"
                               " ORDER BY seat, candidate_id", [scheme_id]).fetchall()
        return [dict(zip(("candidate_id", "name", "seat"), r)) for r in rows]

    def count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM candidates").fetchone()[0])
