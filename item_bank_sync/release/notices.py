"""Telling a candidate that their result is released (issue 17, item 1): one e-mail through the
body's SMTP relay (:mod:`item_bank_sync.mail`), kept as a record per attempt.

Why no score in the mail: e-mail crosses servers the body does not control and lands in shared or
work inboxes; the mail only says a result is available on the candidate portal (where the person
signs in) and until when they may appeal. Why one row per attempt, claimed before sending: a
release retried (after a crash, or twice by two people) must never mail twice; a failed or
relay-less notice is taken back by the next try, and staff see who was not told
(:func:`not_told`). Nothing here logs the address or the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from exam_core.timestamps import format_time, utc_now
from item_bank_sync.certificates.settings import load_settings as issuer_settings
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import fetch_all, fetch_one, insert_ignore, write
from item_bank_sync.mail import MailError, Mailer, configured_mailer, load_settings
from item_bank_sync.registry.persons import email_of
from item_bank_sync.release.report import score_report
from item_bank_sync.release.schema import release_notices
from item_bank_sync.results.schema import attempts
from item_bank_sync.sittings.bookings import person_of_candidate

#: Statuses a later try takes back (nothing was handed to a relay).
RETRIED = ("failed", "no_relay")
NOT_TOLD = ("failed", "no_relay", "no_address", "sending")


@dataclass(frozen=True)
class Notice:
    """What telling one candidate came to (``status`` as in ``release_notices``)."""

    attempt_id: str
    status: str


def message(ctx: CentralContext, attempt_id: str) -> tuple[str, str]:
    """The subject and body: the scheme, where to look, the appeal deadline; never the score."""
    report = score_report(ctx, attempt_id)
    portal = f"{issuer_settings(ctx).public_url}/portal/results"
    body_name = report.body_name or "The certification body"
    subject = f"Your {report.scheme_title} result is available"
    body = (f"Hello,\n\nThe result of your {report.scheme_title} examination (attempt {attempt_id}) has been "
            f"released. Sign in to the candidate portal to see it and your score report:\n\n{portal}\n\n"
            f"If you wish to appeal against the result, you may do so on the portal until "
            f"{report.appeal_by[:10]}.\n\n{body_name}\n")
    return subject, body


def _claim(ctx: CentralContext, attempt_id: str, person_id: str | None, subject: str, body: str) -> bool:
    """Take this attempt's notice for this try: a new row, or one a relay never took; False when it
    was sent already or another process is sending it."""
    n = release_notices.c
    row = {"attempt_id": attempt_id, "person_id": person_id, "status": "sending", "subject": subject, "body": body,
           "created_at": format_time(utc_now())}
    with write(ctx.open_results_db()) as conn:
        if insert_ignore(conn, release_notices, row):
            return True
        return conn.execute(update(release_notices).where(n.attempt_id == attempt_id, n.status.in_(RETRIED))
                            .values(status="sending", person_id=person_id)).rowcount == 1


def _finish(ctx: CentralContext, attempt_id: str, status: str) -> None:
    with write(ctx.open_results_db()) as conn:
        conn.execute(update(release_notices).where(release_notices.c.attempt_id == attempt_id)
                     .values(status=status, sent_at=format_time(utc_now())))


def _send(mailer: Mailer | None, address: str | None, subject: str, body: str) -> str:
    if address is None:
        return "no_address"
    if mailer is None:
        return "no_relay"
    try:
        mailer.send(address, subject, body)
    except MailError:
        return "failed"
    return "sent"


def tell(ctx: CentralContext, attempt_ids: list[str], *, mailer: Mailer | None = None) -> list[Notice]:
    """Tell each released attempt's candidate once; returns what this try did (attempts already
    told, or being told by another process, are left out)."""
    mailer = mailer or configured_mailer(ctx.data_dir)
    done = []
    for attempt_id in attempt_ids:
        candidate = _candidate(ctx, attempt_id)
        person_id = person_of_candidate(ctx, candidate) if candidate else None
        subject, body = message(ctx, attempt_id)
        if not _claim(ctx, attempt_id, person_id, subject, body):
            continue
        status = _send(mailer, email_of(ctx, person_id), subject, body)
        _finish(ctx, attempt_id, status)
        done.append(Notice(attempt_id, status))
    return done


def _candidate(ctx: CentralContext, attempt_id: str) -> str | None:
    row = fetch_one(ctx.open_results_db(), select(attempts.c.candidate_id).where(attempts.c.attempt_id == attempt_id))
    return str(row[0]) if row else None


def pending(ctx: CentralContext, attempt_ids: list[str]) -> list[str]:
    """Those of ``attempt_ids`` whose notice a try could still send: none yet, or one no relay took
    when a relay is now set up (without one, a retry would only record "no relay" again)."""
    n = release_notices.c
    retried = RETRIED if load_settings(ctx.data_dir) is not None else ()
    settled = {r[0] for r in fetch_all(ctx.open_results_db(), select(n.attempt_id).where(
        n.attempt_id.in_(attempt_ids), n.status.not_in(retried)))}
    return [a for a in attempt_ids if a not in settled]


def not_told(ctx: CentralContext) -> list[dict[str, Any]]:
    """Released results whose candidate was not told by e-mail, with why (what staff follow up)."""
    n = release_notices.c
    rows = fetch_all(ctx.open_results_db(), select(n.attempt_id, n.status, n.sent_at)
                     .where(n.status.in_(NOT_TOLD)).order_by(n.attempt_id))
    return [dict(r._mapping) for r in rows]


def notices_of(ctx: CentralContext, person_id: str) -> list[dict[str, Any]]:
    """The release notices kept for a person, newest first (for the portal's messages)."""
    n = release_notices.c
    rows = fetch_all(ctx.open_results_db(), select(n.attempt_id, n.subject, n.body, n.status, n.created_at)
                     .where(n.person_id == person_id).order_by(n.created_at.desc()).limit(200))
    return [dict(r._mapping) for r in rows]
