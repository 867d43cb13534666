"""The registry of certificates: issue on a pass decision, status actions, and the lookups the CLI
and the public site make. This is the service API later work builds on (results release,
appeals that issue or withdraw, renewal); everything here is typed and takes the deciding
person by name.

ISO/IEC 17024 asks that every status decision (9.5: suspend with a reason and a deadline, restore,
withdraw, reduce the scope; 9.6: expiry) is taken by an authorised person who did not examine or
mark the holder (4.2, 9.4). The examiner and the markers of the attempt are in the results store's
``attempt_roles`` (as :func:`item_bank_sync.results.decisions.decide` reads them); any action by
one of them is refused. Who is *authorised* is a role of a staff account (decision_maker, admin):
pass ``authorise`` to enforce it; the CLI, run by the body's operators, records the name given.

Each action is one transaction on the registry (status, history and credentials together),
then an entry in the body's audit chain; the status lists are computed from the registry at each
request, so an action is in the served lists at the next request.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update

from exam_core.errors import InvigilError, ValidationError
from exam_core.timestamps import format_time, parse_time, utc_now
from item_bank_sync.bank.schema import forms, schemes
from item_bank_sync.certificates.credential import CertificateClaims, Issuer, open_badge_credential, status_entry
from item_bank_sync.certificates.credential import vc_jwt
from item_bank_sync.certificates.keys import IssuerKeys, SigningKey
from item_bank_sync.certificates.schema import certificate_credentials, certificate_events, certificates
from item_bank_sync.certificates.settings import IssuerSettings, load_settings
from item_bank_sync.certificates.status_list import LIST_SIZE, list_url, random_index
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import lock, write
from item_bank_sync.registry.actors import Actor
from item_bank_sync.registry.schema import person_consents, persons
from item_bank_sync.results.marking import person_key
from item_bank_sync.results.decisions import latest_decision
from item_bank_sync.results.schema import attempt_roles, attempts
from item_bank_sync.sittings.bookings import check_candidate, person_of_candidate

#: Certification period when the scheme names none (scheme field ``certification_period_months``).
DEFAULT_PERIOD_MONTHS = 36
MAX_REASON = 2000
#: Letters of certificate ids: Crockford-like base32 without the look-alikes is overkill here;
#: RFC 4648 base32 upper case, grouped by four (e.g. ``IC-7Q2M-KD4X-...``).
CERTIFICATE_ID_PREFIX = "IC-"
STATUS_WORDS = ("valid", "suspended", "withdrawn", "expired", "scope reduced")


class CertificateRefused(InvigilError):
    """The certificate cannot be issued, or the status action cannot be taken (the message says why)."""


@dataclass(frozen=True)
class Holder:
    """The holder's name and where it came from: ``person`` (the registry's person record) or
    ``result`` (the name, else the candidate id, the result carries); with a person record, its id
    and whether the person consented to the public register (found by name on the public site)."""

    name: str
    source: str
    person_id: str | None = None
    public_register: bool = False


#: The registry of persons (``item_bank_sync.registry``): candidate id -> the person's record, or None.
HolderLookup = Callable[[str], Holder | None]
#: Staff authorisation: ``(person, action)``; raises :class:`CertificateRefused` when not allowed.
Authorise = Callable[[str, str], None]


@dataclass(frozen=True)
class Certificate:
    """A certificate as the registry holds it, with its status as of now (``state``)."""

    certificate_id: str
    attempt_id: str
    candidate_id: str
    person_id: str | None
    holder_name: str
    holder_name_source: str
    name_consent: bool
    scheme_id: str
    scheme_version: int
    scheme_title: str
    scope: list[str]
    scope_reduced: bool
    valid_from: str
    valid_until: str
    status: str
    status_reason: str
    suspended_until: str | None
    agreement_version: str
    agreement_accepted_at: str
    issued_by: str
    issued_at: str
    state: str = ""
    credential_id: str = ""
    jwt: str = field(default="", repr=False)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def person_record(ctx: CentralContext) -> HolderLookup:
    """The registry of persons (``item_bank_sync.registry``) as a :data:`HolderLookup`: the person a
    booking issued the candidate id to, their full name and their latest ``public_register`` consent."""

    def lookup(candidate_id: str) -> Holder | None:
        person_id = person_of_candidate(ctx, candidate_id)
        if person_id is None:
            return None
        p, c = persons.c, person_consents.c
        with ctx.open_bank_db().connect() as conn:
            row = conn.execute(select(p.given_name, p.family_name).where(p.person_id == person_id)).first()
            consent = conn.execute(select(c.given).where(c.person_id == person_id, c.purpose == "public_register")
                                   .order_by(c.consent_id.desc()).limit(1)).scalar()
        if row is None:
            return None
        return Holder(f"{row[0]} {row[1]}", "person", person_id, bool(consent))

    return lookup


def name_key(name: str) -> str:
    """A name as compared by the search by name: whitespace collapsed, case folded."""
    return " ".join(name.split()).casefold()


def new_certificate_id() -> str:
    raw = base64.b32encode(secrets.token_bytes(10)).decode("ascii")
    return CERTIFICATE_ID_PREFIX + "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def state_of(status: str, valid_until: str, scope_reduced: bool, now: datetime) -> str:
    """What a verifier is told: withdrawn and suspended first, then expired by date, then scope."""
    if status in ("withdrawn", "suspended", "expired"):
        return status
    if parse_time(valid_until) <= now:
        return "expired"
    return "scope reduced" if scope_reduced else "valid"


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus whole calendar months (the 31st becomes the month's last day)."""
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _reason(reason: str) -> str:
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        raise ValidationError("reason", f"must be given (1-{MAX_REASON} characters)")
    return reason.strip()


class CertificateRegistry:
    """Certificates of one central body (bank store), their credentials and status actions."""

    def __init__(self, ctx: CentralContext, *, holder_lookup: HolderLookup | None = None,
                 authorise: Authorise | None = None) -> None:
        self.ctx = ctx
        self.holder_lookup = holder_lookup if holder_lookup is not None else person_record(ctx)
        self.authorise = authorise
        self.keys = IssuerKeys(ctx)

    # --- settings and issuer ---------------------------------------------------------------------
    def settings(self) -> IssuerSettings:
        return load_settings(self.ctx)

    def issuer(self) -> Issuer:
        return Issuer(self.settings().public_url, str(self.ctx.body().get("name", "")))

    def verify_url(self, certificate_id: str) -> str:
        return f"{self.settings().public_url}/verify/{certificate_id}"

    # --- who may act -----------------------------------------------------------------------------
    def _check_actor(self, attempt_id: str, by: str, action: str) -> str:
        """The actor's recorded name; refused if they proctored, marked or adjudicated the attempt, or
        declared a conflict of interest with the holder (the registry's declarations, when a booking
        made the candidate id a person's)."""
        actor = person_key(by)
        if self.authorise is not None:
            self.authorise(actor, action)
        r = attempt_roles.c
        with self.ctx.open_results_db().connect() as conn:
            roles = sorted(x[0] for x in conn.execute(select(r.role).where(r.attempt_id == attempt_id,
                                                                           r.person == actor)))
            candidate = conn.execute(select(attempts.c.candidate_id)
                                     .where(attempts.c.attempt_id == attempt_id)).scalar()
        if roles:
            raise CertificateRefused(f"{by} acted as {' and '.join(roles)} on the holder's attempt {attempt_id} and "
                                     f"cannot decide to {action} this certificate (ISO/IEC 17024 impartiality)")
        if candidate is not None:
            check_candidate(self.ctx, Actor(by), candidate, f"{action} this certificate")
        return actor

    # --- issue -----------------------------------------------------------------------------------
    def issue(self, attempt_id: str, by: str, *, name_consent: bool = False) -> Certificate:
        """Issue the certificate of a pass decision (again: the certificate already issued)."""
        actor = self._check_actor(attempt_id, by, "issue")
        existing = self.of_attempt(attempt_id)
        if existing is not None:
            return existing
        attempt = self._passed_attempt(attempt_id)
        scheme = self._scheme_of(attempt["form_id"], attempt["form_version"])
        holder = self._holder(attempt)
        settings, now = self.settings(), utc_now()
        period = int(scheme["doc"].get("certification_period_months") or DEFAULT_PERIOD_MONTHS)
        row = {"certificate_id": new_certificate_id(), "attempt_id": attempt_id,
               "candidate_id": attempt["candidate_id"], "person_id": holder.person_id, "holder_name": holder.name,
               "holder_name_source": holder.source, "name_key": name_key(holder.name),
               "name_consent": int(name_consent or holder.public_register), "scheme_id": scheme["scheme_id"],
               "scheme_version": scheme["version"], "scheme_title": scheme["title"],
               "scope_json": json.dumps(scheme["scope"]), "valid_from": format_time(now),
               "valid_until": format_time(add_months(now, period)), "status": "valid",
               "agreement_version": settings.agreement_version, "agreement_accepted_at": format_time(now),
               "issued_by": actor, "issued_at": format_time(now)}
        key, c = self.keys.active(), certificates.c
        with write(self.ctx.open_bank_db()) as conn:
            lock(conn, f"certificate-attempt:{attempt_id}")   # two decisions at once issue one certificate
            raced = conn.execute(select(c.certificate_id).where(c.attempt_id == attempt_id,
                                                                c.status != "withdrawn")).scalar()
            if raced is None:
                conn.execute(insert(certificates).values(**row))
                self._new_credential(conn, row, key)
                self._event(conn, row["certificate_id"], "issue", actor, "pass decision",
                            {"attempt_id": attempt_id, "agreement_version": settings.agreement_version})
        if raced is not None:
            return self.get(raced)
        self._audit(actor, "certificate.issue", row["certificate_id"], {"attempt_id": attempt_id})
        return self.get(row["certificate_id"])

    def _passed_attempt(self, attempt_id: str) -> dict[str, Any]:
        a = attempts.c
        with self.ctx.open_results_db().connect() as conn:
            attempt = conn.execute(select(a.attempt_id, a.candidate_id, a.form_id, a.form_version, a.attempt_json)
                                   .where(a.attempt_id == attempt_id)).mappings().first()
            latest = (latest_decision(conn, attempt_id) or {}).get("outcome")
        if attempt is None:
            raise CertificateRefused(f"attempt {attempt_id} is not in the results")
        if latest != "pass":
            raise CertificateRefused(f"attempt {attempt_id} has no pass decision standing "
                                     f"(latest: {latest or 'none'}); decide it first")
        return dict(attempt)

    def _scheme_of(self, form_id: str, form_version: int) -> dict[str, Any]:
        """The scheme the form was built from: id, version, title, the document and the scope."""
        with self.ctx.open_bank_db().connect() as conn:
            form = conn.execute(select(forms.c.scheme_id, forms.c.scheme_version)
                                .where(forms.c.form_id == form_id, forms.c.version == form_version)).first()
            if form is None:
                raise CertificateRefused(f"form {form_id} version {form_version} is not in the bank")
            scheme = conn.execute(select(schemes.c.title, schemes.c.scheme_json)
                                  .where(schemes.c.scheme_id == form[0], schemes.c.version == form[1])).first()
        if scheme is None:
            raise CertificateRefused(f"scheme {form[0]} version {form[1]} is not in the bank")
        doc = json.loads(scheme[1])
        areas = [a.get("title") or a["area"] for a in doc.get("blueprint", []) if isinstance(a, dict)]
        return {"scheme_id": form[0], "version": form[1], "title": scheme[0], "doc": doc,
                "scope": areas or [scheme[0]]}

    def _holder(self, attempt: dict[str, Any]) -> Holder:
        """From the registry of persons when it has the candidate, else the name the result carries."""
        found = self.holder_lookup(attempt["candidate_id"])
        if found is not None:
            return found
        recorded = json.loads(attempt["attempt_json"] or "{}").get("candidate_name") or ""
        return Holder(recorded.strip() or attempt["candidate_id"], "result")

    def of_attempt(self, attempt_id: str) -> Certificate | None:
        """The certificate an attempt's pass issued and not withdrawn (an appeal's outcome acts on it)."""
        with self.ctx.open_bank_db().connect() as conn:
            cid = conn.execute(select(certificates.c.certificate_id)
                               .where(certificates.c.attempt_id == attempt_id,
                                      certificates.c.status != "withdrawn")).scalar()
        return None if cid is None else self.get(cid)

    # --- credentials -----------------------------------------------------------------------------
    def _free_index(self, conn: Connection, column: Any) -> int:
        for _ in range(1000):
            index = random_index()
            if conn.execute(select(func.count()).where(column == index)).scalar() == 0:
                return index
        raise CertificateRefused(f"status list nearly full ({LIST_SIZE} entries); start a new list")

    def _new_credential(self, conn: Connection, row: dict[str, Any], key: SigningKey) -> str:
        """Sign a credential for the certificate ``row`` (its current scope); supersede older ones."""
        lock(conn, "certificate-status-index")
        c = certificate_credentials.c
        revocation, suspension = self._free_index(conn, c.revocation_index), self._free_index(conn, c.suspension_index)
        issuer, credential_id = self.issuer(), f"urn:uuid:{uuid.uuid4()}"
        claims = CertificateClaims(credential_id, row["certificate_id"], row["holder_name"], row["scheme_id"],
                                   row["scheme_version"], row["scheme_title"], tuple(json.loads(row["scope_json"])),
                                   parse_time(row["valid_from"]), parse_time(row["valid_until"]))
        status = [status_entry(list_url(issuer, "revocation"), "revocation", revocation),
                  status_entry(list_url(issuer, "suspension"), "suspension", suspension)]
        token = vc_jwt(open_badge_credential(issuer, claims, status), key)
        now = format_time(utc_now())
        conn.execute(update(certificate_credentials).where(c.certificate_id == row["certificate_id"],
                                                           c.superseded_at.is_(None)).values(superseded_at=now))
        conn.execute(insert(certificate_credentials).values(
            credential_id=credential_id, certificate_id=row["certificate_id"], kid=key.kid,
            revocation_index=revocation, suspension_index=suspension, jwt=token, issued_at=now))
        return credential_id

    # --- lookups ---------------------------------------------------------------------------------
    def _from_row(self, row: Any, now: datetime) -> Certificate:
        data = dict(row)
        data["scope"] = json.loads(data.pop("scope_json"))
        data.pop("name_key", None)
        data["scope_reduced"], data["name_consent"] = bool(data["scope_reduced"]), bool(data["name_consent"])
        data["state"] = state_of(data["status"], data["valid_until"], data["scope_reduced"], now)
        return Certificate(**data)

    def get(self, certificate_id: str) -> Certificate:
        c, k = certificates.c, certificate_credentials.c
        with self.ctx.open_bank_db().connect() as conn:
            row = conn.execute(select(certificates).where(c.certificate_id == certificate_id)).mappings().first()
            current = conn.execute(select(k.credential_id, k.jwt).where(k.certificate_id == certificate_id,
                                                                       k.superseded_at.is_(None))).first()
        if row is None:
            raise CertificateRefused(f"no certificate {certificate_id}")
        cert = self._from_row(row, utc_now())
        if current is None:
            return cert
        return Certificate(**{**cert.to_dict(), "credential_id": current[0], "jwt": current[1]})

    def find(self, certificate_id: str) -> Certificate | None:
        try:
            return self.get(certificate_id)
        except CertificateRefused:
            return None

    def listing(self, state: str | None = None) -> list[Certificate]:
        """Every certificate (staff only: the public site never lists holders)."""
        with self.ctx.open_bank_db().connect() as conn:
            rows = conn.execute(select(certificates).order_by(certificates.c.issued_at)).mappings().all()
        now = utc_now()
        found = [self._from_row(r, now) for r in rows]
        return [f for f in found if state is None or f.state == state]

    def by_name(self, name: str) -> list[Certificate]:
        """Certificates of holders who consented to be found by name, for this exact name."""
        c = certificates.c
        with self.ctx.open_bank_db().connect() as conn:
            rows = conn.execute(select(certificates).where(c.name_key == name_key(name), c.name_consent == 1)
                                .order_by(c.issued_at)).mappings().all()
        now = utc_now()
        return [self._from_row(r, now) for r in rows]

    def history(self, certificate_id: str) -> list[dict[str, Any]]:
        e = certificate_events.c
        with self.ctx.open_bank_db().connect() as conn:
            rows = conn.execute(select(e.action, e.decided_by, e.reason, e.detail_json, e.at)
                                .where(e.certificate_id == certificate_id).order_by(e.id)).mappings().all()
        return [{**dict(r), "detail": json.loads(r["detail_json"])} for r in rows]

    def status_indexes(self, purpose: str) -> list[int]:
        """The set bits of one status list, from the registry as it is now."""
        c, k = certificates.c, certificate_credentials.c
        joined = certificate_credentials.join(certificates, c.certificate_id == k.certificate_id)
        if purpose == "revocation":
            query = select(k.revocation_index).select_from(joined).where(
                (c.status == "withdrawn") | k.superseded_at.is_not(None))
        elif purpose == "suspension":
            query = select(k.suspension_index).select_from(joined).where(
                and_(c.status == "suspended", k.superseded_at.is_(None)))
        else:
            raise ValidationError("purpose", "must be revocation or suspension")
        with self.ctx.open_bank_db().connect() as conn:
            return [r[0] for r in conn.execute(query)]

    # --- status actions --------------------------------------------------------------------------
    def suspend(self, certificate_id: str, by: str, reason: str, until: datetime) -> Certificate:
        """Suspend (9.5): invalid at once, until restored or withdrawn; ``until`` is the deadline
        by which the cause must be dealt with."""
        if until <= utc_now():
            raise ValidationError("until", "the suspension deadline must be in the future")
        return self._act(certificate_id, by, "suspend", reason, {"valid"}, status="suspended",
                         suspended_until=format_time(until))

    def restore(self, certificate_id: str, by: str, reason: str) -> Certificate:
        return self._act(certificate_id, by, "restore", reason, {"suspended"}, status="valid", suspended_until=None)

    def withdraw(self, certificate_id: str, by: str, reason: str) -> Certificate:
        return self._act(certificate_id, by, "withdraw", reason, {"valid", "suspended"}, status="withdrawn",
                         suspended_until=None)

    def expire(self, certificate_id: str, by: str) -> Certificate:
        return self._act(certificate_id, by, "expire", "certification period ended", {"valid", "suspended"},
                         status="expired", suspended_until=None)

    def reduce_scope(self, certificate_id: str, by: str, reason: str, keep: list[str]) -> Certificate:
        """Reduce the scope to ``keep`` (a non-empty, strict subset): a new credential with the
        reduced scope supersedes the old one, whose revocation bit is set."""
        current = self.get(certificate_id)
        if not keep or not set(keep) < set(current.scope):
            raise ValidationError("keep", f"must be a non-empty part of the scope {current.scope}")
        kept = [s for s in current.scope if s in keep]
        return self._act(certificate_id, by, "reduce-scope", reason, {"valid", "suspended"},
                         scope_json=json.dumps(kept), scope_reduced=1)

    def renew(self, certificate_id: str, by: str, reason: str, valid_until: datetime, *,
              from_suspension: bool = False) -> Certificate:
        """Extend the certification period (a renewal decision, ISO/IEC 17024 9.6): a new credential
        with the new ``validUntil`` supersedes the old one (its revocation bit set). For the
        recertification work that decides it (CPD, re-examination); an expired certificate may be
        renewed, a withdrawn one may not, a suspended one only with ``from_suspension`` (the caller
        has checked the suspension was for want of recertification, which the renewal cures)."""
        current = self.get(certificate_id)
        if valid_until <= max(utc_now(), parse_time(current.valid_until)):
            raise ValidationError("valid_until", "a renewal must end later than now and than the current period")
        allowed = {"valid", "expired"}
        changes: dict[str, Any] = {"status": "valid", "valid_until": format_time(valid_until)}
        if from_suspension:
            allowed, changes = allowed | {"suspended"}, {**changes, "suspended_until": None}
        return self._act(certificate_id, by, "renew", reason, allowed, **changes)

    def suspensions_overdue(self) -> list[Certificate]:
        """Suspended certificates past their deadline: each needs a decision (restore or withdraw)."""
        now = format_time(utc_now())
        c = certificates.c
        with self.ctx.open_bank_db().connect() as conn:
            ids = [r[0] for r in conn.execute(select(c.certificate_id).where(c.status == "suspended",
                                                                             c.suspended_until <= now))]
        return [self.get(cid) for cid in ids]

    def expire_due(self, by: str) -> list[str]:
        """Expire every certificate whose period has ended; returns their ids."""
        now = format_time(utc_now())
        c = certificates.c
        with self.ctx.open_bank_db().connect() as conn:
            due = [r[0] for r in conn.execute(select(c.certificate_id).where(
                c.status.in_(("valid", "suspended")), c.valid_until <= now))]
        return [self.expire(cid, by).certificate_id for cid in due]

    def _act(self, certificate_id: str, by: str, action: str, reason: str, allowed_from: set[str],
             **changes: Any) -> Certificate:
        text = _reason(reason)
        current = self.get(certificate_id)
        actor = self._check_actor(current.attempt_id, by, action)
        key = self.keys.active() if {"scope_json", "valid_until"} & set(changes) else None
        c = certificates.c
        with write(self.ctx.open_bank_db()) as conn:
            lock(conn, f"certificate:{certificate_id}")
            row = conn.execute(select(certificates).where(c.certificate_id == certificate_id)).mappings().first()
            if row is None or row["status"] not in allowed_from:
                raise CertificateRefused(f"certificate {certificate_id} is {row['status'] if row else 'unknown'}; "
                                         f"{action} needs it {' or '.join(sorted(allowed_from))}")
            conn.execute(update(certificates).where(c.certificate_id == certificate_id)
                         .values(status_reason=text, **changes))
            if key is not None:
                self._new_credential(conn, {**dict(row), **changes}, key)
            self._event(conn, certificate_id, action, actor, text,
                        {k: v for k, v in changes.items()
                         if k in ("status", "suspended_until", "scope_json", "valid_until")})
        self._audit(actor, f"certificate.{action}", certificate_id, {})
        return self.get(certificate_id)

    def _event(self, conn: Connection, certificate_id: str, action: str, by: str, reason: str,
               detail: dict[str, Any]) -> None:
        conn.execute(insert(certificate_events).values(certificate_id=certificate_id, action=action, decided_by=by,
                                                       reason=reason, detail_json=json.dumps(detail, sort_keys=True),
                                                       at=format_time(utc_now())))

    def _audit(self, actor: str, action: str, certificate_id: str, data: dict[str, Any]) -> None:
        """The body's audit chain: ids only, never the holder's name."""
        self.ctx.audit_log().append(actor, action, {"certificate_id": certificate_id, **data})
