"""Applications for a scheme version: answers, signed applicant agreement, eligibility, decision, appeal.

Life cycle: ``submitted`` (the automatic eligibility result stored with it) -> ``accepted`` (valid
until ``expires_at``: the person may book a seat) or ``refused`` (with reasons; the person may
lodge an appeal, which is recorded here while the appeal case itself is handled elsewhere).
Only a registrar decides, never one who declared a relationship with the applicant
(:func:`.conflicts.check`), and always with reasons.

The applicant agreement (clause 9.2) is the scheme's code of conduct (its ``agreement`` text,
identified by scheme version and the SHA-256 of the text) and the body's rules (their version),
accepted at submission with the time: an application without it is refused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update

from exam_core.timestamps import format_time, parse_time, utc_now
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import fetch_all, fetch_one, lock, write
from item_bank_sync.forms.schemes import Scheme, SchemeError, SchemeStore
from item_bank_sync.registry import conflicts, eligibility, fields, listing, persons
from item_bank_sync.registry.actors import ADMIN, READERS, REGISTRAR, Actor, require
from item_bank_sync.registry.errors import NotFound, Refused
from item_bank_sync.registry.schema import applications
from item_bank_sync.registry.schema import persons as persons_table

SUBMITTED, ACCEPTED, REFUSED = "submitted", "accepted", "refused"
DEFAULT_VALID_DAYS = 365


@dataclass(frozen=True)
class Application:
    application_id: str
    person_id: str
    scheme_id: str
    scheme_version: int
    answers: dict[str, Any]
    agreement: dict[str, Any]
    eligibility: dict[str, Any]
    status: str
    submitted_at: str
    submitted_by: str
    decided_at: str | None
    decided_by: str | None
    decision_reasons: str | None
    expires_at: str | None
    appeal_lodged_at: str | None
    appeal_lodged_by: str | None
    appeal_note: str | None = None

    @property
    def appeal_possible(self) -> bool:
        return self.status == REFUSED and self.appeal_lodged_at is None

    def valid_on(self, moment: datetime) -> bool:
        """Accepted and not expired at ``moment``."""
        return self.status == ACCEPTED and self.expires_at is not None and moment < parse_time(self.expires_at)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "appeal_possible": self.appeal_possible}


def agreement_text_digest(scheme: Scheme) -> str:
    """The SHA-256 of the scheme's code-of-conduct text the applicant accepts."""
    return hashlib.sha256(scheme.agreement.encode()).hexdigest()


def submit(ctx: CentralContext, actor: Actor, *, person_id: str, scheme_id: str, scheme_version: int,
           answers: dict[str, Any] | None, accept_code_of_conduct: bool, body_rules_version: str) -> Application:
    """Submit an application (the person, or a registrar for them) and check eligibility at once."""
    require(actor, "submit applications", REGISTRAR, ADMIN, person_id=person_id)
    person = persons.show(ctx, actor, person_id)
    scheme = _scheme(ctx, scheme_id, scheme_version)
    parsed = eligibility.Answers.from_dict(answers)
    if accept_code_of_conduct is not True:
        raise Refused("agreement: the scheme's code of conduct and the body's rules must be accepted")
    now = format_time(utc_now())
    agreement = {"code_of_conduct": {"scheme_id": scheme_id, "scheme_version": scheme_version,
                                     "sha256": agreement_text_digest(scheme)},
                 "body_rules_version": fields.text(body_rules_version, "body_rules_version", 50),
                 "accepted_at": now, "accepted_by": actor.name}
    result = eligibility.check(scheme.prerequisites, parsed, person.date_of_birth, utc_now().date())
    application_id = fields.new_id("A")
    with write(ctx.open_bank_db()) as conn:
        lock(conn, f"applications:{person_id}")
        _refuse_open(conn, person_id, scheme_id, scheme_version)
        conn.execute(insert(applications).values(
            application_id=application_id, person_id=person_id, scheme_id=scheme_id, scheme_version=scheme_version,
            answers_json=json.dumps(parsed.to_dict()), agreement_json=json.dumps(agreement),
            eligibility_json=json.dumps(result.to_dict()), status=SUBMITTED, submitted_at=now,
            submitted_by=actor.name))
    ctx.audit_log().append(actor.name, "application.submit", {
        "application_id": application_id, "person_id": person_id, "scheme_id": scheme_id,
        "scheme_version": scheme_version, "eligibility": result.result})
    return _get(ctx, application_id)


def show(ctx: CentralContext, actor: Actor, application_id: str) -> Application:
    found = _get(ctx, application_id)
    require(actor, "see applications", *READERS, person_id=found.person_id)
    return found


def list_applications(ctx: CentralContext, actor: Actor, *, status: str | None = None,
                      person_id: str | None = None) -> list[Application]:
    """Applications, oldest first (the registrar's queue with ``status="submitted"``); a candidate sees their own."""
    ids = listing.visible_ids(ctx, actor, "applications", applications, ("submitted_at", "application_id"),
                              status=status, person_id=person_id)
    return [_get(ctx, i) for i in ids]


def recheck(ctx: CentralContext, actor: Actor, application_id: str) -> Application:
    """Run the automatic eligibility check again (after the person's data changed)."""
    found = show(ctx, actor, application_id)
    result = _eligibility_now(ctx, found)
    with write(ctx.open_bank_db()) as conn:
        conn.execute(update(applications).where(applications.c.application_id == application_id)
                     .values(eligibility_json=json.dumps(result.to_dict())))
    ctx.audit_log().append(actor.name, "application.recheck", {"application_id": application_id,
                                                               "eligibility": result.result})
    return _get(ctx, application_id)


def decide(ctx: CentralContext, actor: Actor, application_id: str, *, accept: bool, reasons: str,
           valid_days: int = DEFAULT_VALID_DAYS) -> Application:
    """A registrar accepts (valid for ``valid_days``) or refuses a submitted application, with reasons."""
    require(actor, "decide applications", REGISTRAR)
    found = _get(ctx, application_id)
    conflicts.check(ctx, actor, found.person_id, "decide this application")
    why = fields.text(reasons, "reasons", 5000)
    if not 1 <= valid_days <= 3650:
        raise Refused("valid_days: from 1 to 3650")
    result = _eligibility_now(ctx, found)
    now = utc_now()
    values = {"status": ACCEPTED if accept else REFUSED, "decided_at": format_time(now), "decided_by": actor.name,
              "decision_reasons": why, "eligibility_json": json.dumps(result.to_dict()),
              "expires_at": format_time(now + timedelta(days=valid_days)) if accept else None}
    with write(ctx.open_bank_db()) as conn:
        done = conn.execute(update(applications).where(applications.c.application_id == application_id,
                                                       applications.c.status == SUBMITTED).values(values))
        if done.rowcount != 1:
            raise Refused(f"application {application_id} is {found.status}, not {SUBMITTED}")
    ctx.audit_log().append(actor.name, "application.decide", {
        "application_id": application_id, "person_id": found.person_id, "decision": values["status"],
        "reasons": why, "eligibility": result.result})
    return _get(ctx, application_id)


def lodge_appeal(ctx: CentralContext, actor: Actor, application_id: str, *, note: str = "") -> Application:
    """Record that the applicant appealed a refusal (the case itself is handled by the appeals process)."""
    found = _get(ctx, application_id)
    require(actor, "lodge an appeal", REGISTRAR, ADMIN, person_id=found.person_id)
    if not found.appeal_possible:
        raise Refused(f"application {application_id}: an appeal can be lodged once, against a refusal")
    text = fields.text(note, "note", 2000, required=False)
    with write(ctx.open_bank_db()) as conn:
        conn.execute(update(applications).where(applications.c.application_id == application_id)
                     .values(appeal_lodged_at=format_time(utc_now()), appeal_lodged_by=actor.name, appeal_note=text))
    # the applicant's own words stay in the record, not on the audit chain
    ctx.audit_log().append(actor.name, "application.appeal", {"application_id": application_id})
    return _get(ctx, application_id)


def valid_application(ctx: CentralContext, person_id: str, scheme_id: str, scheme_version: int,
                      at: datetime | None = None) -> Application | None:
    """The person's accepted, unexpired application for that scheme version (what a booking needs)."""
    a = applications.c
    rows = fetch_all(ctx.open_bank_db(), select(a.application_id).where(
        a.person_id == person_id, a.scheme_id == scheme_id, a.scheme_version == scheme_version,
        a.status == ACCEPTED).order_by(a.decided_at.desc()))
    moment = at or utc_now()
    return next((app for app in (_get(ctx, r[0]) for r in rows) if app.valid_on(moment)), None)


def _eligibility_now(ctx: CentralContext, found: Application) -> eligibility.Eligibility:
    scheme = _scheme(ctx, found.scheme_id, found.scheme_version)
    dob = fetch_one(ctx.open_bank_db(), select(persons_table.c.date_of_birth)
                    .where(persons_table.c.person_id == found.person_id))
    return eligibility.check(scheme.prerequisites, eligibility.Answers.from_dict(found.answers),
                             dob[0] if dob else None, utc_now().date())


def _refuse_open(conn: Any, person_id: str, scheme_id: str, scheme_version: int) -> None:
    a = applications.c
    rows = conn.execute(select(a.application_id, a.status, a.expires_at).where(
        a.person_id == person_id, a.scheme_id == scheme_id, a.scheme_version == scheme_version,
        a.status.in_((SUBMITTED, ACCEPTED)))).all()
    now = utc_now()
    for application_id, status, expires_at in rows:
        if status == SUBMITTED or (expires_at and parse_time(expires_at) > now):
            raise Refused(f"application {application_id} for this scheme version is already {status}")


def _scheme(ctx: CentralContext, scheme_id: str, version: int) -> Scheme:
    try:
        return SchemeStore(ctx.open_bank_db()).get(fields.identifier(scheme_id, "scheme_id"), int(version))
    except SchemeError as exc:
        raise NotFound(str(exc)) from None


def _get(ctx: CentralContext, application_id: str) -> Application:
    a = applications.c
    row = fetch_one(ctx.open_bank_db(), select(*applications.c).where(a.application_id == application_id))
    if row is None:
        raise NotFound(f"no application {application_id}")
    m = row._mapping
    return Application(
        application_id=m["application_id"], person_id=m["person_id"], scheme_id=m["scheme_id"],
        scheme_version=m["scheme_version"], answers=json.loads(m["answers_json"]),
        agreement=json.loads(m["agreement_json"]), eligibility=json.loads(m["eligibility_json"]),
        status=m["status"], submitted_at=m["submitted_at"], submitted_by=m["submitted_by"],
        decided_at=m["decided_at"], decided_by=m["decided_by"], decision_reasons=m["decision_reasons"],
        expires_at=m["expires_at"], appeal_lodged_at=m["appeal_lodged_at"], appeal_lodged_by=m["appeal_lodged_by"],
        appeal_note=m["appeal_note"])
