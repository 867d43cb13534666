"""Certification decisions, made by someone who took no part in the assessment, and results export.

ISO/IEC 17024 (4.2 impartiality, 9.4 decision on certification) requires that the person who
decides on certification did not take part in assessing the candidate. Everyone who proctored,
marked or adjudicated an attempt is in ``attempt_roles``, and whoever released its envelope from
quarantine in ``intake_releases``; :func:`decide` refuses them.

A decision must also agree with the scored result: ``pass`` needs a fully scored attempt at or
above the cut score, ``fail`` a fully scored attempt below it. ``withheld`` (for example pending
an integrity review) is always possible. Decisions are append-only; the latest one stands and the
history remains as the record.

An attempt with integrity flags (``integrity --form``: leads for a person, never a verdict) takes
``pass`` or ``fail`` only from a decider who states they reviewed those flags (``--flags-reviewed``,
the page's check box); the flags are counted inside the decision's transaction and the count goes
into the decision's audit entry.
Flags have no stored "cleared" state: a flag is reviewed by the person deciding, who can always
record ``withheld`` while an investigation runs (docs/SECURITY.md, section 5).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, or_, select

from exam_core.errors import InvigilError, ValidationError
from exam_core.timestamps import format_time, utc_now
from item_bank_sync.db.sql import lock, write
from item_bank_sync.results.marking import person_key
from item_bank_sync.results.schema import attempt_roles, attempts, decisions, intake_releases, integrity_flags

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
    integrity_flags_reviewed: int = 0  # flags on the attempt the decider stated they reviewed


def decide(db: Engine, attempt_id: str, by: str, outcome: str, reason: str, *,
           flags_reviewed: bool = False) -> Decision:
    decider = person_key(by)
    if outcome not in OUTCOMES:
        raise ValidationError("outcome", f"must be one of {', '.join(OUTCOMES)}")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 2000:
        raise ValidationError("reason", "must be given (1-2000 characters)")
    now = format_time(utc_now())
    with write(db) as conn:
        lock(conn, f"decision:{attempt_id}")  # decisions on one attempt are taken one after the other
        row = conn.execute(select(attempts.c.scoring_status, attempts.c.passed)
                           .where(attempts.c.attempt_id == attempt_id)).first()
        if row is None:
            raise DecisionRefused(f"attempt {attempt_id} is not in the results")
        roles = _roles(conn, attempt_id, decider)
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
        flags = _flag_count(conn, attempt_id)
        if flags and outcome != "withheld" and not flags_reviewed:
            raise DecisionRefused(f"attempt {attempt_id} has {flags} integrity flag(s) awaiting review: look at "
                                  "them (integrity page) and state that you did (--flags-reviewed), or decide "
                                  "'withheld' while they are looked into")
        conn.execute(insert(decisions).values(attempt_id=attempt_id, decided_by=decider, outcome=outcome,
                                              reason=reason.strip(), at=now))
    return Decision(attempt_id, decider, outcome, reason.strip(), now, flags if flags_reviewed else 0)


def _flag_count(conn: Connection, attempt_id: str) -> int:
    """Integrity flags naming the attempt (as flagged or as the other of a similar pair)."""
    f = integrity_flags.c
    return int(conn.execute(select(func.count()).select_from(integrity_flags).where(
        or_(f.attempt_id == attempt_id, f.other_attempt_id == attempt_id))).scalar_one())


def latest_decision(conn: Connection, attempt_id: str) -> dict[str, Any] | None:
    """The decision that stands on an attempt (the latest: outcome, decided_by, at), or None."""
    d = decisions.c
    row = conn.execute(select(d.outcome, d.decided_by, d.at).where(d.attempt_id == attempt_id)
                       .order_by(d.id.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


def integrity_flag_count(db: Engine, attempt_id: str) -> int:
    """:func:`_flag_count` for the decision page (shown before the button; ``decide`` counts again)."""
    with db.connect() as conn:
        return _flag_count(conn, attempt_id)


#: The part a person who released the attempt's quarantined envelope took in its assessment.
RELEASER = "the releaser of its quarantined envelope"


def _roles(conn: Connection, attempt_id: str, person: str) -> list[str]:
    """What ``person`` did on the attempt: proctor, marker, adjudicator (``attempt_roles``), and
    releaser of its envelope from quarantine (``intake_releases``): whoever judged that custody
    evidence acceptable took part in assessing the attempt, so a second person decides on it."""
    r, rel = attempt_roles.c, intake_releases.c
    roles = sorted(x[0] for x in conn.execute(select(r.role).where(r.attempt_id == attempt_id, r.person == person)))
    released = conn.execute(select(rel.id).where(rel.attempt_id == attempt_id, rel.released_by == person)).first()
    return [*roles, RELEASER] if released else roles


def roles_on_attempt(db: Engine, attempt_id: str, by: str) -> list[str]:
    """What ``by`` did on the attempt (proctor, marker, adjudicator, releaser of its quarantined
    envelope): any role bars them from deciding.

    The staff page asks this before it shows the decision button, so a decision maker learns why
    they may not decide instead of meeting only :class:`DecisionRefused`; :func:`decide` asks the
    same query again inside its transaction.
    """
    with db.connect() as conn:
        return _roles(conn, attempt_id, person_key(by))


RESULT_COLUMNS = ("attempt_id", "candidate_id", "form_id", "form_version", "centre_id", "submitted_at",
                  "scoring_status", "total", "max_total", "cut_score", "passed", "integrity_flags", "decision",
                  "decided_by", "decided_at", "time_allowed_ms", "time_used_ms", "ended_by", "review")


def results_rows(db: Engine, form_id: str | None = None) -> list[dict[str, Any]]:
    """One row per accepted attempt: score, pass/fail, how many integrity flags await review, the
    decision that stands (the latest), and the timing record with what ended the attempt and why
    it needs a decision (``review``: a proctor ended it, its time or accommodations differ)."""
    a, f, d = attempts.c, integrity_flags.c, decisions.c
    flag_count = (select(func.count()).select_from(integrity_flags)
                  .where(or_(f.attempt_id == a.attempt_id, f.other_attempt_id == a.attempt_id)).scalar_subquery())
    newer = decisions.alias("newer")
    latest = select(func.max(newer.c.id)).where(newer.c.attempt_id == a.attempt_id).scalar_subquery()
    query = (select(a.attempt_id, a.candidate_id, a.form_id, a.form_version, a.centre_id, a.submitted_at,
                    a.scoring_status, a.total, a.max_total, a.cut_score, a.passed,
                    flag_count.label("integrity_flags"), d.outcome.label("decision"), d.decided_by,
                    d.at.label("decided_at"), a.time_allowed_ms, a.time_used_ms, a.ended_by, a.review)
             .outerjoin_from(attempts, decisions, d.id == latest).order_by(a.attempt_id))
    if form_id:
        query = query.where(a.form_id == form_id)
    with db.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


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
