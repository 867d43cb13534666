"""Certification decisions, made by someone who took no part in the assessment, and results export.

ISO/IEC 17024 (4.2 impartiality, 9.4 decision on certification) requires that the person who
decides on certification did not take part in assessing the candidate. Everyone who proctored,
marked or adjudicated an attempt is in ``attempt_roles``; :func:`decide` refuses them.

A decision must also agree with the scored result: ``pass`` needs a fully scored attempt at or
above the cut score, ``fail`` a fully scored attempt below it. ``withheld`` (for example pending
an integrity review) is always possible. Decisions are append-only; the latest one stands and the
history remains as the record.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from exam_core.errors import InvigilError, ValidationError
from exam_core.timestamps import format_time, utc_now
from exam_core.store import immediate_transaction
from item_bank_sync.results.marking import person_key

OUTCOMES = ("pass", "fail", "withheld")


class DecisionRefused(InvigilError):
    """The decision cannot be recorded (partial decider, unscored attempt, contradiction)."""


@dataclass(frozen=True)
class Decision:
    attempt_id: str
    decided_by: str
    outcome: str
    reason: str
    at: str


def decide(db: sqlite_utils.Database, attempt_id: str, by: str, outcome: str, reason: str) -> Decision:
    decider = person_key(by)
    if outcome not in OUTCOMES:
        raise ValidationError("outcome", f"must be one of {', '.join(OUTCOMES)}")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 2000:
        raise ValidationError("reason", "must be given (1-2000 characters)")
    now = format_time(utc_now())
    with immediate_transaction(db) as conn:
        row = conn.execute("SELECT scoring_status, passed FROM attempts WHERE attempt_id = ?",
                           (attempt_id,)).fetchone()
        if row is None:
            raise DecisionRefused(f"attempt {attempt_id} is not in the results")
        roles = [r[0] for r in conn.execute(
            "SELECT role FROM attempt_roles WHERE attempt_id = ? AND person = ? ORDER BY role",
            (attempt_id, decider))]
        if roles:
            raise DecisionRefused(f"{by} acted as {' and '.join(roles)} on attempt {attempt_id} and cannot "
                                  "decide its certification (ISO/IEC 17024 impartiality)")
        status, result = row
        if outcome != "withheld":
            if status != "scored":
                raise DecisionRefused(f"attempt {attempt_id} is {status.replace('_', ' ')}; only 'withheld' "
                                      "can be decided before scoring is complete")
            if result is None:
                raise DecisionRefused(f"attempt {attempt_id} has no cut score to compare with")
            if (outcome == "pass") != bool(result):
                raise DecisionRefused(f"attempt {attempt_id} scored {'at or above' if result else 'below'} "
                                      f"the cut score; '{outcome}' contradicts it (use 'withheld' to hold it)")
        conn.execute("INSERT INTO decisions (attempt_id, decided_by, outcome, reason, at) VALUES (?, ?, ?, ?, ?)",
                     (attempt_id, decider, outcome, reason.strip(), now))
    return Decision(attempt_id, decider, outcome, reason.strip(), now)


RESULT_COLUMNS = ("attempt_id", "candidate_id", "form_id", "form_version", "centre_id", "submitted_at",
                  "scoring_status", "total", "max_total", "cut_score", "passed", "integrity_flags", "decision",
                  "decided_by", "decided_at")


def results_rows(db: sqlite_utils.Database, form_id: str | None = None) -> list[dict[str, Any]]:
    """One row per accepted attempt: score, pass/fail, how many integrity flags await review, and
    the decision that stands (the latest)."""
    where, params = ("WHERE a.form_id = ?", [form_id]) if form_id else ("", [])
    sql = f"""
        SELECT a.attempt_id, a.candidate_id, a.form_id, a.form_version, a.centre_id, a.submitted_at,
               a.scoring_status, a.total, a.max_total, a.cut_score, a.passed,
               (SELECT COUNT(*) FROM integrity_flags f WHERE a.attempt_id IN (f.attempt_id, f.other_attempt_id))
                   AS integrity_flags,
               d.outcome AS decision, d.decided_by, d.at AS decided_at
        FROM attempts a
        LEFT JOIN decisions d ON d.id = (SELECT MAX(id) FROM decisions WHERE attempt_id = a.attempt_id)
        {where} ORDER BY a.attempt_id"""
    return list(db.query(sql, params))


def results_csv(rows: list[dict[str, Any]]) -> str:
    """CSV text; cells that a spreadsheet would run as a formula are prefixed with a quote."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=RESULT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _safe_cell(row.get(k)) for k in RESULT_COLUMNS})
    return out.getvalue()


def _safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value
