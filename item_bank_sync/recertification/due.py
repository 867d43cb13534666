"""Who falls due for recertification, and the reminders before expiry.

:func:`due` lists the certificates still in force (valid or suspended, not withdrawn, not expired
by decision) whose period ends within a number of days, or has already ended without an expiry
decision, each with where the holder stands against the rules.

:func:`remind` tells each holder whose certificate ends within ``within_days`` once per
certificate, period end and threshold: a row is claimed under that unique key before anything is
sent, so a second run, even at the same moment, finds it taken and sends nothing. A reminder goes
by e-mail through the body's relay (:mod:`item_bank_sync.mail`) to the person record's address
when mail is set up; otherwise (or without a person record) it is kept for the portal to show
(``channel`` ``portal``). A mail the relay refused is kept as ``failed`` and tried again by the next
run, still once. Nothing here logs an address or a message body.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from exam_core.timestamps import format_time, parse_time, utc_now
from item_bank_sync.certificates.schema import certificates
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import fetch_all, insert_ignore, write
from item_bank_sync.mail import Mailer, MailError, configured_mailer
from item_bank_sync.recertification.renewal import standing
from item_bank_sync.recertification.rules import NoRules
from item_bank_sync.recertification.schema import recert_reminders
from item_bank_sync.registry.errors import Refused
from item_bank_sync.registry.persons import email_of

MAX_DAYS = 3650


@dataclass(frozen=True)
class Due:
    certificate_id: str
    person_id: str | None
    scheme_id: str
    scheme_version: int
    status: str
    valid_until: str
    days_left: int
    rules: bool
    ready: bool
    shortfalls: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Reminder:
    certificate_id: str
    threshold_days: int
    channel: str
    status: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _days(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DAYS:
        raise Refused(f"within: whole days from 0 to {MAX_DAYS}")
    return value


def due(ctx: CentralContext, within_days: int) -> list[Due]:
    """Certificates in force whose period ends within ``within_days`` (or has ended), soonest first."""
    now = utc_now()
    horizon = format_time(now + timedelta(days=_days(within_days)))
    c = certificates.c
    rows = fetch_all(ctx.open_bank_db(), select(c.certificate_id, c.person_id, c.scheme_id, c.scheme_version, c.status,
                                                c.valid_until)
                     .where(c.status.in_(("valid", "suspended")), c.valid_until <= horizon)
                     .order_by(c.valid_until, c.certificate_id))
    return [_due(ctx, tuple(r), now) for r in rows]


def _due(ctx: CentralContext, row: tuple, now: Any) -> Due:
    certificate_id, person_id, scheme_id, version, status, until = row
    rules, ready, shortfalls = readiness(ctx, certificate_id)
    return Due(certificate_id, person_id, scheme_id, version, status, until, (parse_time(until) - now).days, rules,
               ready, shortfalls)


def _message(item: Due) -> tuple[str, str]:
    subject = f"Your certificate {item.certificate_id} expires on {item.valid_until[:10]}"
    needs = "You meet the recertification requirements: the body can now decide your renewal." if item.ready \
        else "Still needed for recertification: " + "; ".join(item.shortfalls) + "."
    body = (f"Your certificate {item.certificate_id} (scheme {item.scheme_id}) is valid until {item.valid_until[:10]}"
            f" ({max(item.days_left, 0)} days from now).\n\n{needs}\n\nRecord your CPD activities on the candidate "
            "portal. After the end date the certificate expires unless it has been renewed.\n")
    return subject, body


def remind(ctx: CentralContext, within_days: int, by: str, *, mailer: Mailer | None = None) -> list[Reminder]:
    """Remind every holder whose certificate ends within ``within_days`` and was not reminded at this
    threshold for this period end; returns the reminders this run sent or kept."""
    threshold = _days(within_days)
    return _remind_listed(ctx, due(ctx, threshold), threshold, by, mailer)


def _remind_listed(ctx: CentralContext, listed: list[Due], threshold: int, by: str,
                   mailer: Mailer | None) -> list[Reminder]:
    """Remind the holders of ``listed`` (what :func:`due` gave for ``threshold``) whose period has not ended."""
    now, mailer = utc_now(), mailer or configured_mailer(ctx.data_dir)
    done = [r for item in listed if parse_time(item.valid_until) > now
            for r in [_remind_one(ctx, item, threshold, mailer)] if r is not None]
    if done:
        ctx.audit_log().append(by, "recert.remind", {"within_days": threshold,
                                                     "certificates": [r.certificate_id for r in done]})
    return done


def _remind_one(ctx: CentralContext, item: Due, threshold: int, mailer: Mailer | None) -> Reminder | None:
    address = email_of(ctx, item.person_id)
    mail_to = address if mailer is not None else None
    channel = "mail" if mail_to else "portal"
    subject, body = _message(item)
    key = {"certificate_id": item.certificate_id, "valid_until": item.valid_until, "threshold_days": threshold}
    if not _claim(ctx, key, item.person_id, channel, subject, body):
        return None
    status = "kept"
    if mailer is not None and mail_to:
        try:
            mailer.send(mail_to, subject, body)
            status = "sent"
        except MailError:
            status = "failed"
    r = recert_reminders.c
    with write(ctx.open_bank_db()) as conn:
        conn.execute(update(recert_reminders).where(*(r[k] == v for k, v in key.items()))
                     .values(status=status, sent_at=format_time(utc_now())))
    return Reminder(item.certificate_id, threshold, channel, status)


def _claim(ctx: CentralContext, key: dict[str, Any], person_id: str | None, channel: str, subject: str,
           body: str) -> bool:
    """Take this reminder for this run: a new row, or a failed mail taken back; False when another
    run holds it or it was already sent or kept."""
    r = recert_reminders.c
    row = {**key, "person_id": person_id, "channel": channel, "status": "sending", "subject": subject, "body": body,
           "created_at": format_time(utc_now())}
    with write(ctx.open_bank_db()) as conn:
        if insert_ignore(conn, recert_reminders, row):
            return True
        retried = conn.execute(update(recert_reminders).where(*(r[k] == v for k, v in key.items()),
                                                              r.status == "failed")
                               .values(status="sending", channel=channel, subject=subject, body=body))
        return retried.rowcount == 1


def reminders_of(ctx: CentralContext, person_id: str) -> list[dict[str, Any]]:
    """The reminders kept for a person, newest first (what the portal shows)."""
    r = recert_reminders.c
    rows = fetch_all(ctx.open_bank_db(), select(r.certificate_id, r.subject, r.body, r.status, r.sent_at)
                     .where(r.person_id == person_id).order_by(r.id.desc()).limit(200))
    return [dict(x._mapping) for x in rows]


@dataclass(frozen=True)
class RemindReport:
    """One reminder run in words for the staff page: what went out and what did not, and why."""

    within_days: int
    done: list[Reminder]
    not_sent: list[tuple[str, str]]

    @property
    def mailed(self) -> int:
        return sum(1 for r in self.done if r.status == "sent")

    @property
    def kept(self) -> int:
        return sum(1 for r in self.done if r.status == "kept")

    @property
    def failed(self) -> int:
        return sum(1 for r in self.done if r.status == "failed")


def remind_report(ctx: CentralContext, within_days: int, by: str, *, mailer: Mailer | None = None) -> RemindReport:
    """:func:`remind`, and for every certificate due that got nothing this run, why: its period has
    already ended (an expiry, not a reminder, is next) or it was already reminded at this threshold."""
    threshold = _days(within_days)
    listed = due(ctx, threshold)        # once: each entry asks the recertification rules of its holder
    done = _remind_listed(ctx, listed, threshold, by, mailer)
    reminded = {r.certificate_id for r in done}
    now = utc_now()
    not_sent = [(item.certificate_id, "its period has ended: expire it or renew it" if parse_time(item.valid_until)
                 <= now else f"already reminded {threshold} days ahead of this end date")
                for item in listed if item.certificate_id not in reminded]
    return RemindReport(threshold, done, not_sent)


def readiness(ctx: CentralContext, certificate_id: str) -> tuple[bool, bool, list[str]]:
    """Whether the certificate's scheme has rules, whether the holder meets them, and what is missing."""
    try:
        where = standing(ctx, certificate_id)
    except NoRules:
        return False, False, ["the scheme has no recertification rules"]
    return True, where.assessment.met, list(where.assessment.shortfalls)
