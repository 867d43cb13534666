"""Renewal decisions (ISO/IEC 17024 9.6): the holder against the scheme's recertification rules,
then a new certification period through :meth:`CertificateRegistry.renew` (a new credential; the
old one superseded, its revocation bit set).

The cycle a renewal closes starts at the certificate's ``valid_from`` or at the previous renewal
decision. CPD counts when its activity date falls in the cycle, it counted towards no earlier
renewal, and it is not waiting for or failed an audit (fail closed: a sampled record counts once
an auditor verified it). A re-examination counts when a later attempt of the holder (the same
candidate id, or any candidate id a booking gave the same person) on a form of the same scheme has
a pass decision standing, decided within the cycle.

Who may decide: the registry refuses the proctor, markers and adjudicators of the holder's attempt
and anyone who declared a conflict of interest with the holder; the CLI's staff check asks for a
decision maker or admin. Two decisions at once make one renewal: the renewal row is claimed first
under a unique (certificate, cycle start) key, and given back if the registry refuses.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, or_, select, update

from exam_core.errors import InvigilError
from exam_core.timestamps import format_time, parse_time, utc_now
from item_bank_sync.bank.schema import forms
from item_bank_sync.certificates.registry import Certificate, CertificateRegistry, add_months
from item_bank_sync.certificates.schema import certificates
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import fetch_all, fetch_one, insert_ignore, write
from item_bank_sync.recertification.common import Held, held
from item_bank_sync.recertification.rules import Assessment, NoRules, assess
from item_bank_sync.recertification.schema import cpd_records, recert_renewals
from item_bank_sync.registry import fields
from item_bank_sync.registry.actors import READERS, Actor, require
from item_bank_sync.results.decisions import latest_decision
from item_bank_sync.results.schema import attempts
from item_bank_sync.sittings.bookings import person_of_candidate
from item_bank_sync.sittings.schema import bookings

#: CPD audit states that count towards a renewal.
COUNTING = ("recorded", "verified")
#: A claimed renewal still pending after this long was left by a process that stopped between the
#: claim and the registry's decision; the next decision takes it back.
STALE_CLAIM = timedelta(minutes=10)


class RenewalRefused(InvigilError):
    """The holder does not meet the rules, or the renewal cannot be decided now (the message says why)."""


@dataclass(frozen=True)
class Standing:
    """Where a holder stands in the current cycle: the rules' verdict and what it was based on."""

    certificate_id: str
    cycle_start: str
    assessment: Assessment
    record_ids: tuple[str, ...]
    awaiting_audit: float
    reexam_attempt_id: str | None
    period_months: int

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "assessment": self.assessment.to_dict(), "record_ids": list(self.record_ids)}


@dataclass(frozen=True)
class Renewal:
    renewal_id: str
    certificate_id: str
    previous_valid_until: str
    new_valid_until: str
    decided_by: str
    standing: Standing

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "standing": self.standing.to_dict()}


def cycle_start(ctx: CentralContext, cert: Certificate) -> str:
    """The start of the cycle: the last renewal decided, else the certificate's ``valid_from``."""
    n = recert_renewals.c
    row = fetch_one(ctx.open_bank_db(), select(n.decided_at).where(n.certificate_id == cert.certificate_id,
                                                                   n.status == "done")
                    .order_by(n.decided_at.desc()).limit(1))
    return str(row[0]) if row else cert.valid_from


def _cpd_in_cycle(ctx: CentralContext, certificate_id: str, start: str) -> tuple[dict[str, float], list[str], float]:
    """Credits per category that count, their record ids, and the credits still awaiting audit."""
    r = cpd_records.c
    rows = fetch_all(ctx.open_bank_db(), select(r.record_id, r.category, r.credits, r.audit_status).where(
        r.certificate_id == certificate_id, r.renewal_id.is_(None), r.activity_date >= start[:10],
        r.audit_status.in_((*COUNTING, "sampled"))).order_by(r.record_id))
    credits: dict[str, float] = {}
    ids, awaiting = [], 0.0
    for record_id, category, amount, status in rows:
        if status == "sampled":
            awaiting += amount
            continue
        credits[category] = credits.get(category, 0.0) + amount
        ids.append(record_id)
    return credits, ids, awaiting


def _candidate_ids(ctx: CentralContext, cert: Certificate) -> set[str]:
    ids = {cert.candidate_id}
    if cert.person_id is not None:
        ids |= {r[0] for r in fetch_all(ctx.open_bank_db(), select(bookings.c.candidate_id)
                                        .where(bookings.c.person_id == cert.person_id))}
    return ids


def _scheme_forms(ctx: CentralContext, scheme_id: str) -> set[tuple[str, int]]:
    return {(r[0], r[1]) for r in fetch_all(ctx.open_bank_db(), select(forms.c.form_id, forms.c.version)
                                            .where(forms.c.scheme_id == scheme_id))}


def reexamination(ctx: CentralContext, cert: Certificate, start: str) -> str | None:
    """A later attempt of the holder on the same scheme whose standing decision is a pass decided
    within the cycle, or None."""
    a = attempts.c
    with ctx.open_results_db().connect() as conn:
        candidates = conn.execute(select(a.attempt_id, a.form_id, a.form_version).where(
            a.candidate_id.in_(sorted(_candidate_ids(ctx, cert))), a.attempt_id != cert.attempt_id)).all()
        standing = {}
        for attempt_id, form_id, version in candidates:
            latest = latest_decision(conn, attempt_id)
            if latest is not None:
                standing[attempt_id] = (form_id, version, latest["outcome"], latest["at"])
    scheme_forms = _scheme_forms(ctx, cert.scheme_id)
    passed = sorted((at, attempt_id) for attempt_id, (form_id, version, outcome, at) in standing.items()
                    if outcome == "pass" and at >= start and (form_id, version) in scheme_forms)
    return passed[-1][1] if passed else None


def standing(ctx: CentralContext, certificate_id: str) -> Standing:
    """The holder against the rules now; :class:`NoRules` when the scheme has none (no access check:
    the staff CLI and :func:`standing_for`)."""
    return _standing(ctx, held(ctx, certificate_id))


def standing_for(ctx: CentralContext, actor: Actor, certificate_id: str) -> Standing:
    """:func:`standing` for the holder themselves (the portal) or the roles that read personal data."""
    found = held(ctx, certificate_id)
    require(actor, "see where a holder stands", *READERS, person_id=found.certificate.person_id)
    return _standing(ctx, found)


def _standing(ctx: CentralContext, found: Held) -> Standing:
    if found.rules is None:
        raise NoRules(f"scheme {found.certificate.scheme_id} version {found.certificate.scheme_version} has no "
                      "recertification rules; add them in a new scheme version")
    cert, rules = found.certificate, found.rules
    start = cycle_start(ctx, cert)
    credits, ids, awaiting = _cpd_in_cycle(ctx, cert.certificate_id, start)
    attempt = reexamination(ctx, cert, start) if rules.reexamination else None
    verdict = assess(rules, credits, attempt is not None)
    return Standing(cert.certificate_id, start, verdict, tuple(ids), awaiting, attempt, rules.period_months)


def _refusal(now: Standing) -> str:
    extra = f"; {now.awaiting_audit:g} credits await audit" if now.awaiting_audit else ""
    return f"certificate {now.certificate_id} does not meet the recertification rules: " \
           f"{'; '.join(now.assessment.shortfalls)}{extra}"


def new_period_end(cert: Certificate, months: int, now: datetime) -> datetime:
    """The renewed period ends ``months`` after the current end, or after now when it has passed."""
    return add_months(max(now, parse_time(cert.valid_until)), months)


def renew(ctx: CentralContext, certificate_id: str, by: str) -> Renewal:
    """Decide a renewal: refused unless the rules are met; audited (``recert.renew``)."""
    found = held(ctx, certificate_id)
    now_standing = _standing(ctx, found)
    if not now_standing.assessment.met:
        raise RenewalRefused(_refusal(now_standing))
    return _decide(ctx, found.certificate, now_standing, by, _reason(now_standing))


def _decide(ctx: CentralContext, cert: Certificate, now_standing: Standing, by: str, reason: str, *,
            on_pass: bool = False) -> Renewal:
    """Claim the cycle, renew through the registry (the claim given back if it refuses), mark the
    renewal done and audit it (``recert.renew``; ``on_pass`` when a re-examination's pass decided it)."""
    now = utc_now()
    renewal_id = _claim(ctx, cert, now_standing, by, now)
    until = new_period_end(cert, now_standing.period_months, now)
    try:
        CertificateRegistry(ctx).renew(cert.certificate_id, by, reason, until,
                                       from_suspension=on_pass and cert.state == "suspended")
    except Exception:
        _give_back(ctx, renewal_id)
        raise
    n = recert_renewals.c
    with write(ctx.open_bank_db()) as conn:
        conn.execute(update(recert_renewals).where(n.renewal_id == renewal_id)
                     .values(status="done", new_valid_until=format_time(until)))
    ctx.audit_log().append(by, "recert.renew", {"renewal_id": renewal_id, "certificate_id": cert.certificate_id,
                                                "records": list(now_standing.record_ids),
                                                "reexam_attempt_id": now_standing.reexam_attempt_id,
                                                **({"on_pass": True} if on_pass else {}),
                                                "valid_until": format_time(until)})
    return Renewal(renewal_id, cert.certificate_id, cert.valid_until, format_time(until), by, now_standing)


def _reason(now: Standing) -> str:
    parts = [f"{k} {v:g}" for k, v in now.assessment.counted.items()]
    exam = f"; re-examination {now.reexam_attempt_id}" if now.reexam_attempt_id else ""
    return f"recertification: CPD {', '.join(parts) or 'none'}{exam}"


def _claim(ctx: CentralContext, cert: Certificate, now_standing: Standing, by: str, now: datetime) -> str:
    """The renewal row (pending) and the CPD records it uses; refused when another took the cycle."""
    renewal_id, r = fields.new_id("N"), cpd_records.c
    row = {"renewal_id": renewal_id, "certificate_id": cert.certificate_id, "cycle_start": now_standing.cycle_start,
           "status": "pending", "previous_valid_until": cert.valid_until,
           "credits_json": json.dumps(now_standing.assessment.counted, sort_keys=True),
           "reexam_attempt_id": now_standing.reexam_attempt_id, "decided_by": by, "decided_at": format_time(now)}
    with write(ctx.open_bank_db()) as conn:
        _drop_stale(conn, cert.certificate_id, now)
        if not insert_ignore(conn, recert_renewals, row):
            raise RenewalRefused(f"certificate {cert.certificate_id}: this cycle's renewal is already decided "
                                 "or being decided")
        if now_standing.record_ids:
            conn.execute(update(cpd_records).where(r.record_id.in_(now_standing.record_ids), r.renewal_id.is_(None))
                         .values(renewal_id=renewal_id))
    return renewal_id


def _drop_stale(conn: Connection, certificate_id: str, now: datetime) -> None:
    n = recert_renewals.c
    stale = [r[0] for r in conn.execute(select(n.renewal_id).where(
        n.certificate_id == certificate_id, n.status == "pending", n.decided_at < format_time(now - STALE_CLAIM)))]
    for renewal_id in stale:
        _release(conn, renewal_id)


def _release(conn: Connection, renewal_id: str) -> None:
    conn.execute(update(cpd_records).where(cpd_records.c.renewal_id == renewal_id).values(renewal_id=None))
    conn.execute(delete(recert_renewals).where(recert_renewals.c.renewal_id == renewal_id))


def _give_back(ctx: CentralContext, renewal_id: str) -> None:
    with write(ctx.open_bank_db()) as conn:
        _release(conn, renewal_id)


def renewals_of(ctx: CentralContext, certificate_id: str) -> list[dict[str, Any]]:
    n = recert_renewals.c
    rows = fetch_all(ctx.open_bank_db(), select(recert_renewals).where(n.certificate_id == certificate_id)
                     .order_by(n.decided_at))
    return [dict(r._mapping) for r in rows]


# --- a pass on a re-examination renews (called by results release) -------------------------------
#: A suspension whose reason starts with this word is "for want of recertification" (the holder was
#: told to recertify): a pass of the scheme's exam cures it, so :func:`renew_on_pass` renews it. A
#: suspension for any other cause (a complaint, misuse of the mark) is not cured by an exam pass.
RECERT_SUSPENSION = "recertification"


def renew_on_pass(ctx: CentralContext, attempt_id: str, by: str) -> Renewal | None:
    """Renew the certificate a pass on ``attempt_id`` re-examines, or None (the caller then issues a
    new certificate).

    The attempt re-examines a certificate of the same scheme held by the same person (the same
    candidate id, or one a booking gave the same person) that is current, suspended for
    recertification (:data:`RECERT_SUSPENSION`), or expired no longer ago than the scheme's
    ``grace_months``; a scheme without recertification rules renews nothing (fail closed, as
    :func:`renew`). The pass is the same evidence of competence as the first certification, so it
    renews on its own; CPD records of the cycle are consumed with it. Nothing twice: a renewal that
    already relied on this attempt is returned again; audited (``recert.renew``, ``on_pass``)."""
    if not isinstance(attempt_id, str) or not attempt_id:
        raise RenewalRefused("an attempt id is needed")
    done = _renewal_of_attempt(ctx, attempt_id)
    if done is not None:
        return done
    attempt = _passed(ctx, attempt_id)
    found = _renewable(ctx, attempt)
    if found is None:
        return None
    try:
        return _renew_by_pass(ctx, found, attempt_id, by)
    except RenewalRefused:
        again = _renewal_of_attempt(ctx, attempt_id)     # a concurrent call for the same pass won the claim
        if again is None:
            raise
        return again


def _passed(ctx: CentralContext, attempt_id: str) -> dict[str, Any]:
    """The attempt's candidate and form; refused unless its standing decision is a pass."""
    a = attempts.c
    with ctx.open_results_db().connect() as conn:
        row = conn.execute(select(a.candidate_id, a.form_id, a.form_version).where(a.attempt_id == attempt_id)).first()
        latest = (latest_decision(conn, attempt_id) or {}).get("outcome")
    if row is None:
        raise RenewalRefused(f"attempt {attempt_id} is not in the results")
    if latest != "pass":
        raise RenewalRefused(f"attempt {attempt_id} has no pass decision standing (latest: {latest or 'none'})")
    return {"attempt_id": attempt_id, "candidate_id": row[0], "form": (row[1], row[2])}


def _scheme_of_form(ctx: CentralContext, form: tuple[str, int]) -> str | None:
    row = fetch_one(ctx.open_bank_db(), select(forms.c.scheme_id).where(forms.c.form_id == form[0],
                                                                        forms.c.version == form[1]))
    return None if row is None else str(row[0])


def _renewable(ctx: CentralContext, attempt: dict[str, Any]) -> Held | None:
    """The certificate of the attempt's scheme and person that a pass renews (the one ending last)."""
    scheme_id = _scheme_of_form(ctx, attempt["form"])
    if scheme_id is None:
        return None
    person_id = person_of_candidate(ctx, attempt["candidate_id"])
    c = certificates.c
    who = c.candidate_id == attempt["candidate_id"]
    if person_id is not None:
        who = or_(who, c.person_id == person_id)
    ids = [r[0] for r in fetch_all(ctx.open_bank_db(), select(c.certificate_id).where(
        who, c.scheme_id == scheme_id, c.attempt_id != attempt["attempt_id"], c.status != "withdrawn")
        .order_by(c.valid_until.desc()))]
    now = utc_now()
    for certificate_id in ids:
        found = held(ctx, certificate_id)
        if found.rules is not None and _still_renewable(found.certificate, found.rules.grace_months, now):
            return found
    return None


def _still_renewable(cert: Certificate, grace_months: int, now: datetime) -> bool:
    """Current, suspended for recertification, or expired within the grace."""
    if cert.state in ("valid", "scope reduced"):
        return True
    if cert.state == "suspended":
        return cert.status_reason.casefold().startswith(RECERT_SUSPENSION)
    return cert.state == "expired" and add_months(parse_time(cert.valid_until), grace_months) > now


def _renew_by_pass(ctx: CentralContext, found: Held, attempt_id: str, by: str) -> Renewal:
    cert, rules = found.certificate, found.rules
    if rules is None:                                          # _renewable keeps only certificates with rules
        raise NoRules(f"scheme {cert.scheme_id} has no recertification rules")
    start = cycle_start(ctx, cert)
    credits, ids, awaiting = _cpd_in_cycle(ctx, cert.certificate_id, start)
    now_standing = Standing(cert.certificate_id, start, assess(rules, credits, True), tuple(ids), awaiting,
                            attempt_id, rules.period_months)
    return _decide(ctx, cert, now_standing, by, f"recertification: re-examination {attempt_id} passed",
                   on_pass=True)


def _renewal_of_attempt(ctx: CentralContext, attempt_id: str) -> Renewal | None:
    """The renewal that already relied on this attempt's pass (done), rebuilt from its row; refused
    while one is still being decided (the caller retries rather than issue a second certificate)."""
    n = recert_renewals.c
    row = fetch_one(ctx.open_bank_db(), select(recert_renewals).where(n.reexam_attempt_id == attempt_id)
                    .order_by(n.decided_at.desc()).limit(1))
    if row is None:
        return None
    r = dict(row._mapping)
    if r["status"] != "done":
        raise RenewalRefused(f"the renewal on attempt {attempt_id} is being decided; try again shortly")
    credits = {str(k): float(v) for k, v in json.loads(r["credits_json"] or "{}").items()}
    records = tuple(x[0] for x in fetch_all(ctx.open_bank_db(), select(cpd_records.c.record_id).where(
        cpd_records.c.renewal_id == r["renewal_id"]).order_by(cpd_records.c.record_id)))
    found = held(ctx, r["certificate_id"])
    period = found.rules.period_months if found.rules is not None else 0
    past = Standing(r["certificate_id"], r["cycle_start"], Assessment(True, (), credits, True), records, 0.0,
                    attempt_id, period)
    return Renewal(r["renewal_id"], r["certificate_id"], r["previous_valid_until"], r["new_valid_until"],
                   r["decided_by"], past)
