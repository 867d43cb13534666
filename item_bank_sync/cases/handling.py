"""Appeals (ISO/IEC 17024 9.8) and complaints (9.9) as cases: lodged on the portal or by staff,
acknowledged with a deadline, assigned to an impartial handler, progressed, decided and closed.

Why the handler check lives here and refuses (not warns): 9.8 and 9.9 ask that appeals and
complaints be handled by people not involved in what is appealed. :func:`involvement` lists every
way a person took part in the attempt behind a case (proctor, marker, adjudicator in
``attempt_roles``; the release of its envelope from quarantine; the release of its result; a
certification decision on it; the issue or a status decision of its certificate) and a declared
conflict of interest with the candidate is refused by the registry's own check, the same one
decisions and status actions use.

The person is told at acknowledgement and at the outcome: by e-mail through the body's SMTP relay
(:mod:`item_bank_sync.mail`) when one is configured and the case names a person of the registry
(a person id, or a candidate id a booking issued) with an address; every message is also kept in
``case_messages`` for the candidate portal, whose ``channel`` says whether it was mailed (``email``)
or is there only (``portal``). Mail is sent after the case's transaction commits, never inside it.
The person's own words (``summary``) stay in the case record and are never copied into the audit
chain, which carries ids, kinds and outcomes only.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from exam_core.errors import InvigilError, ValidationError
from exam_core.timestamps import format_time, utc_now
from item_bank_sync.certificates.schema import certificate_events, certificates
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import lock, write
from item_bank_sync.cases.corrective import open_action
from item_bank_sync.cases.schema import case_events, case_messages, cases
from item_bank_sync.mail import MailError, configured_mailer
from item_bank_sync.registry.persons import email_of
from item_bank_sync.release.holds import ReleaseRefused
from item_bank_sync.release.report import score_report
from item_bank_sync.results.marking import person_key
from item_bank_sync.release.schema import result_releases
from item_bank_sync.results.decisions import roles_on_attempt
from item_bank_sync.results.schema import attempts, decisions
from item_bank_sync.sittings.bookings import person_of_candidate
from item_bank_sync.sittings.impartiality import check_attempt, staff

APPEAL_CATEGORIES = ("result", "decision", "certificate")
COMPLAINT_CATEGORIES = ("body", "centre", "certified_person")
OUTCOMES = ("upheld", "partly_upheld", "dismissed")
VIA = ("portal", "staff")
DEFAULT_RESPONSE_DAYS = 30
MAX_TEXT = 5000
PORTAL = "portal"
EMAIL = "email"
#: The part a person who released the attempt's result (``release``) took in it.
RESULT_RELEASER = "the releaser of its result"


class CaseRefused(InvigilError):
    """A case step that cannot be taken (unknown case, wrong state, partial handler)."""


def _text(value: str, field: str, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ValidationError(field, f"must be given (1-{limit} characters)")
    return value.strip()


def _now() -> str:
    return format_time(utc_now())


def lodge(ctx: CentralContext, by: str, kind: str, category: str, person: str, summary: str, *,
          attempt_id: str | None = None, certificate_id: str | None = None, centre_id: str | None = None,
          via: str = "staff", late_reason: str | None = None) -> str:
    """Record a new appeal or complaint; returns its case id. An appeal names the attempt or the
    certificate it is against; a complaint about a centre names the centre, one about a certified
    person their certificate. An appeal after its deadline is refused unless staff accept it with
    ``late_reason`` (see :func:`_late`)."""
    allowed = {"appeal": APPEAL_CATEGORIES, "complaint": COMPLAINT_CATEGORIES}.get(kind)
    if allowed is None:
        raise ValidationError("kind", "must be appeal or complaint")
    if category not in allowed:
        raise ValidationError("category", f"a {kind} is about one of {', '.join(allowed)}")
    if via not in VIA:
        raise ValidationError("via", f"must be one of {', '.join(VIA)}")
    attempt_id = _subject(ctx, kind, category, attempt_id, certificate_id, centre_id)
    case_id = f"{kind[:3].upper()}-{secrets.token_hex(5)}"
    actor, now = person_key(by), _now()
    late = kind == "appeal" and attempt_id is not None and _late(ctx, attempt_id, now, via, late_reason)
    accepted = (late_reason or "").strip()
    note = f"via {via}" + (f"; after the appeal deadline, accepted: {accepted}" if late else "")
    with write(ctx.open_bank_db()) as conn:
        conn.execute(insert(cases).values(case_id=case_id, kind=kind, category=category, attempt_id=attempt_id,
                                          certificate_id=certificate_id, centre_id=centre_id,
                                          person=_text(person, "person", 200), lodged_via=via,
                                          summary=_text(summary, "summary"), lodged_at=now, lodged_by=actor))
        _event(conn, case_id, "lodge", actor, note)
    entry: dict[str, Any] = {"case_id": case_id, "kind": kind, "category": category,
                             "attempt_id": attempt_id or "", "late": late}
    if late:
        entry["late_reason"] = accepted[:200]      # the staff member's words, not the person's
    ctx.audit_log().append(actor, "case.lodge", entry)
    return case_id


def appeal_deadline(ctx: CentralContext, attempt_id: str) -> str | None:
    """The deadline the attempt's score report gave for appeals (None: not released, none has run)."""
    try:
        return score_report(ctx, attempt_id).appeal_by
    except ReleaseRefused:
        return None


def _late(ctx: CentralContext, attempt_id: str, now: str, via: str, late_reason: str | None) -> bool:
    """Whether an appeal lodged ``now`` is past its deadline, refusing it unless it may be heard.

    Why refuse: the body's policy (ISO/IEC 17024 9.8) sets the deadline the score report states; a
    late appeal is heard only when the body decides so for a reason it records. The portal therefore
    refuses it with the deadline, and staff accept one only with ``late_reason`` (kept in the case's
    history and the audit entry)."""
    deadline = appeal_deadline(ctx, attempt_id)
    if deadline is None or now <= deadline:
        return False
    if via == PORTAL:
        raise CaseRefused(f"the deadline for appealing this result was {deadline[:10]} ({deadline}); an appeal can "
                          "no longer be lodged here. If you could not appeal in time, contact the body: it may "
                          "accept a late appeal for a reason it records")
    if late_reason is None or not late_reason.strip():
        raise CaseRefused(f"the appeal deadline of attempt {attempt_id} was {deadline}; a late appeal is accepted "
                          "only with a recorded reason (--accept-late REASON, the page's late-appeal reason)")
    _text(late_reason, "late_reason", 2000)
    return True


def _subject(ctx: CentralContext, kind: str, category: str, attempt_id: str | None, certificate_id: str | None,
             centre_id: str | None) -> str | None:
    """The attempt behind the case (from the certificate when only that is named), checked to exist."""
    if certificate_id:
        with ctx.open_bank_db().connect() as conn:
            found = conn.execute(select(certificates.c.attempt_id)
                                 .where(certificates.c.certificate_id == certificate_id)).scalar()
        if found is None:
            raise CaseRefused(f"certificate {certificate_id} is not in the registry")
        attempt_id = attempt_id or found
    if attempt_id:
        with ctx.open_results_db().connect() as conn:
            if conn.execute(select(attempts.c.attempt_id).where(attempts.c.attempt_id == attempt_id)).first() is None:
                raise CaseRefused(f"attempt {attempt_id} is not in the results")
    if kind == "appeal" and not attempt_id:
        raise ValidationError("attempt_id", "an appeal names the attempt or certificate it is against")
    if category == "centre" and not centre_id:
        raise ValidationError("centre_id", "a complaint about a centre names the centre")
    if category == "certified_person" and not certificate_id:
        raise ValidationError("certificate_id", "a complaint about a certified person names their certificate")
    return attempt_id


def _event(conn: Connection, case_id: str, action: str, by: str, note: str = "") -> None:
    conn.execute(insert(case_events).values(case_id=case_id, action=action, by=by, note=note, at=_now()))


def _address(ctx: CentralContext, person: str) -> str | None:
    """The e-mail address of the registry's person a case names (a person id or a booked candidate id)."""
    return email_of(ctx, person) or email_of(ctx, person_of_candidate(ctx, person))


def _tell(ctx: CentralContext, case: dict[str, Any], subject: str, body: str) -> str:
    """Tell the person: mailed through the relay when possible, always kept for the portal.
    Returns the channel. A relay that refuses leaves the message on the portal (the case goes on)."""
    mailer, address, channel = configured_mailer(ctx.data_dir), _address(ctx, case["person"]), PORTAL
    if mailer is not None and address is not None:
        try:
            mailer.send(address, subject, body)
            channel = EMAIL
        except MailError:
            channel = PORTAL
    with write(ctx.open_bank_db()) as conn:
        conn.execute(insert(case_messages).values(case_id=case["case_id"], person=case["person"], channel=channel,
                                                  subject=subject, body=body, at=_now()))
    return channel


def get(ctx: CentralContext, case_id: str) -> dict[str, Any]:
    """The case with its history and the messages sent."""
    with ctx.open_bank_db().connect() as conn:
        row = conn.execute(select(cases).where(cases.c.case_id == case_id)).mappings().first()
        if row is None:
            raise CaseRefused(f"case {case_id} does not exist")
        out = dict(row)
        out["events"] = [dict(r) for r in conn.execute(select(case_events).where(case_events.c.case_id == case_id)
                                                       .order_by(case_events.c.id)).mappings()]
        out["messages"] = [dict(r) for r in conn.execute(
            select(case_messages).where(case_messages.c.case_id == case_id).order_by(case_messages.c.id)).mappings()]
    return out


def listing(ctx: CentralContext, kind: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
    """Cases, oldest first, without the person's words."""
    c = cases.c
    query = select(c.case_id, c.kind, c.category, c.attempt_id, c.certificate_id, c.centre_id, c.status,
                   c.lodged_at, c.acknowledged_at, c.respond_by, c.handler, c.outcome,
                   c.decided_at).order_by(c.lodged_at)
    if kind:
        query = query.where(c.kind == kind)
    if status:
        query = query.where(c.status == status)
    with ctx.open_bank_db().connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def _step(ctx: CentralContext, case_id: str, by: str, action: str, allowed_from: tuple[str, ...],
          changes: dict[str, Any], note: str = "", message: tuple[str, str] | None = None,
          handler_only: bool = False) -> dict[str, Any]:
    """One state change of a case, under its lock, with its event, message and audit entry."""
    actor = person_key(by)
    with write(ctx.open_bank_db()) as conn:
        lock(conn, f"case:{case_id}")
        row = conn.execute(select(cases).where(cases.c.case_id == case_id)).mappings().first()
        if row is None:
            raise CaseRefused(f"case {case_id} does not exist")
        if row["status"] not in allowed_from:
            raise CaseRefused(f"case {case_id} is {row['status']}; {action} needs it {' or '.join(allowed_from)}")
        if handler_only and row["handler"] != actor:
            raise CaseRefused(f"only the case's handler ({row['handler']}) may {action} case {case_id}")
        if changes:
            conn.execute(update(cases).where(cases.c.case_id == case_id).values(**changes))
        _event(conn, case_id, action, actor, note)
    if message is not None:
        _tell(ctx, dict(row), *message)
    ctx.audit_log().append(actor, f"case.{action}", {"case_id": case_id, **{k: v for k, v in changes.items()
                                                                              if k in ("status", "outcome")}})
    return get(ctx, case_id)


def acknowledge(ctx: CentralContext, by: str, case_id: str, days: int = DEFAULT_RESPONSE_DAYS) -> dict[str, Any]:
    """Acknowledge a lodged case with the date by which the body will respond, and tell the person."""
    if not isinstance(days, int) or not 1 <= days <= 365:
        raise ValidationError("days", "must be 1-365")
    now = utc_now()
    respond_by = format_time(now + timedelta(days=days))
    body = (f"We have received your case {case_id} and will give you our decision by {respond_by[:10]}. "
            "It will be handled by people who took no part in what it is about.")
    return _step(ctx, case_id, by, "acknowledge", ("lodged",),
                 {"status": "acknowledged", "acknowledged_at": format_time(now), "respond_by": respond_by},
                 message=(f"Case {case_id} acknowledged", body))


def involvement(ctx: CentralContext, attempt_id: str, person: str) -> list[str]:
    """Every way ``person`` took part in the attempt behind a case, in words (empty: not involved)."""
    who = person_key(person)
    found = roles_on_attempt(ctx.open_results_db(), attempt_id, who)   # with the quarantine releaser
    with ctx.open_results_db().connect() as conn:
        d, rr = decisions.c, result_releases.c
        if conn.execute(select(d.id).where(d.attempt_id == attempt_id, d.decided_by == who).limit(1)).first():
            found.append("decision maker")
        if conn.execute(select(rr.attempt_id).where(rr.attempt_id == attempt_id, rr.released_by == who)).first():
            found.append(RESULT_RELEASER)
    c, e = certificates.c, certificate_events.c
    with ctx.open_bank_db().connect() as conn:
        certs = [x for (x,) in conn.execute(select(c.certificate_id).where(c.attempt_id == attempt_id))]
        if certs and conn.execute(select(e.id).where(e.certificate_id.in_(certs), e.decided_by == who)
                                  .limit(1)).first():
            found.append("certificate decision maker")
    return sorted(set(found))


def check_handler(ctx: CentralContext, case: dict[str, Any], handler: str) -> None:
    """Refuse a handler involved in the original decision, examination or marking, or with a declared
    conflict of interest with the candidate; and the person who lodged the case."""
    lodged_it = person_key(handler) == case["lodged_by"] and case["lodged_via"] == PORTAL
    if person_key(handler) == person_key(case["person"]) or lodged_it:
        raise CaseRefused(f"{handler} lodged case {case['case_id']} and cannot handle it")
    attempt_id = case.get("attempt_id")
    if not attempt_id:
        return
    roles = involvement(ctx, attempt_id, handler)
    if roles:
        raise CaseRefused(f"{handler} acted as {' and '.join(roles)} on attempt {attempt_id} and cannot handle "
                          f"case {case['case_id']} (ISO/IEC 17024 9.8/9.9: handled by persons not involved)")
    check_attempt(ctx, staff(handler), attempt_id, f"handle case {case['case_id']}")


def assign(ctx: CentralContext, by: str, case_id: str, handler: str) -> dict[str, Any]:
    """Assign an impartial handler (refused for anyone involved, see :func:`check_handler`)."""
    check_handler(ctx, get(ctx, case_id), handler)
    return _step(ctx, case_id, by, "assign", ("acknowledged", "assigned"),
                 {"status": "assigned", "handler": person_key(handler)}, note=f"handler {person_key(handler)}")


def progress(ctx: CentralContext, by: str, case_id: str, note: str) -> dict[str, Any]:
    """A note of the investigation's progress, by the handler."""
    return _step(ctx, case_id, by, "progress", ("assigned",), {}, note=_text(note, "note"), handler_only=True)


def decide(ctx: CentralContext, by: str, case_id: str, outcome: str, text: str) -> dict[str, Any]:
    """The handler's outcome, told to the person."""
    if outcome not in OUTCOMES:
        raise ValidationError("outcome", f"must be one of {', '.join(OUTCOMES)}")
    body = _text(text, "text")
    return _step(ctx, case_id, by, "decide", ("assigned",),
                 {"status": "decided", "outcome": outcome, "outcome_text": body, "decided_at": _now()},
                 message=(f"Case {case_id}: {outcome.replace('_', ' ')}", body), handler_only=True)


def close(ctx: CentralContext, by: str, case_id: str, note: str = "closed") -> dict[str, Any]:
    """Close a decided case."""
    return _step(ctx, case_id, by, "close", ("decided",), {"status": "closed"}, note=note)


def open_corrective(ctx: CentralContext, by: str, case_id: str, description: str) -> int:
    """Open a corrective action from a case (its source the case's kind, its reference the case),
    noted in the case's history; returns the action's id."""
    case = get(ctx, case_id)
    action_id = open_action(ctx, by, case["kind"], description, source_ref=case_id)
    note_event(ctx, by, case_id, "corrective-action", f"corrective action {action_id} opened")
    return action_id


def check_acting_handler(ctx: CentralContext, case_id: str, by: str) -> None:
    """Refuse anyone but the case's handler a step taken for the case by another service (a re-score
    or a re-mark applied for an appeal): the handler was checked impartial when assigned
    (:func:`check_handler`), whoever else, the original decider included, was not."""
    handler = get(ctx, case_id)["handler"]
    if handler is None or handler != person_key(by):
        raise CaseRefused(f"only the case's handler ({handler or 'none assigned yet'}) may act on case {case_id}")


def note_event(ctx: CentralContext, by: str, case_id: str, action: str, note: str) -> None:
    """An event on the case from another service (a re-score, a status action, a corrective action)."""
    with write(ctx.open_bank_db()) as conn:
        _event(conn, case_id, action, person_key(by), note)


def messages_for(ctx: CentralContext, person: str) -> list[dict[str, Any]]:
    """What the portal shows a person: the messages of their cases, oldest first."""
    m = case_messages.c
    with ctx.open_bank_db().connect() as conn:
        return [dict(r) for r in conn.execute(select(m.case_id, m.subject, m.body, m.at)
                                              .where(m.person == person).order_by(m.id)).mappings()]
