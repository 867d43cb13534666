"""The outbox: mail is written with the change that causes it and sent later by a sender loop.

Why not send inside the request: SMTP may take seconds or be down, and a request that waits on it
is slow, and slower for some addresses than others (which tells a stranger which addresses have
accounts). Why in the same transaction: a change committed without its mail, or a mail for a
change rolled back, cannot happen.

Delivery is **at least once, de-duplicated by Message-ID**. A sender claims due rows for a lease
(:data:`LEASE_SECONDS`) in one short transaction, sends each, then marks it sent. A sender killed
after the relay took a message but before marking it leaves the row claimed; once the lease ends,
another sender sends it again with the same Message-ID (``<outbox_id@sender-domain>``), which
receiving systems use to drop the copy. No SMTP dialogue can rule that window out. A failure waits
:func:`retry_delay` (30 s doubling to an hour) and is given up (``failed``, kept, counted by
``mail send-pending``) after :data:`MAX_ATTEMPTS`. Nothing here logs a recipient or a body.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine, func, insert, or_, select, update

from item_bank_sync.db.sql import fetch_all, write
from item_bank_sync.mail.schema import mail_outbox
from item_bank_sync.mail.sender import MailError, Mailer, check_message, configured_mailer

PENDING, SENT, FAILED = "pending", "sent", "failed"
LEASE_SECONDS = 300
MAX_ATTEMPTS = 30
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600
BATCH = 50
_log = logging.getLogger(__name__)
#: Seconds between two looks at the outbox when nothing wakes the loop.
POLL_SECONDS = 5.0


@dataclass(frozen=True)
class Outgoing:
    outbox_id: str
    recipient: str
    subject: str
    body: str
    attempts: int


@dataclass(frozen=True)
class SendReport:
    """One pass: messages sent, failed this time (to retry), given up, still waiting."""

    sent: int
    retried: int
    given_up: int
    waiting: int


def stamp(moment: datetime) -> str:
    """A fixed-width UTC time: compares as text in both databases."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now() -> datetime:
    return datetime.now(UTC)


def enqueue(conn: Connection, to: str, subject: str, body: str) -> str:
    """Add a message inside the caller's write transaction; its outbox id (refused: MailError)."""
    check_message(to, subject)
    outbox_id = uuid.uuid4().hex
    moment = stamp(now())
    conn.execute(insert(mail_outbox).values(
        outbox_id=outbox_id, recipient=to, subject=subject, body=body, created_at=moment, state=PENDING,
        attempts=0, next_try_at=moment))
    return outbox_id


def message_id(outbox_id: str, mailer: Mailer) -> str:
    """The Message-ID of an outbox row: the same on every retry, so a duplicate can be dropped."""
    return f"<{outbox_id}@{mailer.settings.domain}>"


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 30 s, doubling, at most an hour."""
    return timedelta(seconds=min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1)))


def claim(engine: Engine, *, limit: int = BATCH, lease_seconds: float = LEASE_SECONDS) -> list[Outgoing]:
    """Take up to ``limit`` due messages for ``lease_seconds``; each row goes to one sender (the
    UPDATE re-checks the lease, so two senders never both take a row)."""
    moment = now()
    t = mail_outbox.c
    free = or_(t.claimed_until.is_(None), t.claimed_until < stamp(moment))
    taken: list[Outgoing] = []
    with write(engine) as conn:
        rows = conn.execute(select(t.outbox_id, t.recipient, t.subject, t.body, t.attempts).where(
            t.state == PENDING, t.next_try_at <= stamp(moment), free).order_by(t.next_try_at).limit(limit)).all()
        for row in rows:
            done = conn.execute(update(mail_outbox).where(t.outbox_id == row[0], free)
                                .values(claimed_until=stamp(moment + timedelta(seconds=lease_seconds))))
            if done.rowcount == 1:
                taken.append(Outgoing(*row))
    return taken


def _settle(engine: Engine, item: Outgoing, error: MailError | None) -> str:
    """Mark one claimed message sent, to retry, or given up; returns which."""
    moment = now()
    t = mail_outbox.c
    if error is None:
        values: dict[str, object] = {"state": SENT, "sent_at": stamp(moment), "claimed_until": None}
    else:
        tries = item.attempts + 1
        values = {"attempts": tries, "claimed_until": None, "last_error": type(error).__name__,
                  "state": FAILED if tries >= MAX_ATTEMPTS else PENDING,
                  "next_try_at": stamp(moment + retry_delay(tries))}
    with write(engine) as conn:
        conn.execute(update(mail_outbox).where(t.outbox_id == item.outbox_id).values(**values))
    return str(values["state"])


def send_pending(engine: Engine, mailer: Mailer, *, limit: int = BATCH) -> SendReport:
    """Send what is due (one batch per claim, until none is due); count what happened."""
    counts = {SENT: 0, PENDING: 0, FAILED: 0}
    while batch := claim(engine, limit=limit):
        for item in batch:
            try:
                mailer.send(item.recipient, item.subject, item.body, message_id=message_id(item.outbox_id, mailer))
                error = None
            except MailError as exc:
                error = exc
            counts[_settle(engine, item, error)] += 1
        if counts[PENDING] or counts[FAILED]:
            break       # the relay is refusing: leave the rest to the next pass
    return SendReport(counts[SENT], counts[PENDING], counts[FAILED], waiting(engine))


def waiting(engine: Engine) -> int:
    """Messages not yet sent (due or waiting for a retry)."""
    rows = fetch_all(engine, select(func.count()).select_from(mail_outbox).where(mail_outbox.c.state == PENDING))
    return int(rows[0][0])


class OutboxSender(threading.Thread):
    """The loop of a listener process: a pass every :data:`POLL_SECONDS`, or at once when woken
    (the process's own request enqueued a message). ``mailer`` is asked at each pass (None: mail
    not set up yet, nothing is sent and nothing lost). A failing pass never stops the loop."""

    def __init__(self, engine: Engine, mailer: Callable[[], Mailer | None], *,
                 poll: float = POLL_SECONDS) -> None:
        super().__init__(name="mail-outbox", daemon=True)
        self.engine, self.mailer, self.poll = engine, mailer, poll
        self._wake, self._stopping = threading.Event(), threading.Event()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self.is_alive():
            self.join(timeout)

    def run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.poll)
            self._wake.clear()
            if self._stopping.is_set():
                return
            self.one_pass()

    def one_pass(self) -> SendReport | None:
        try:
            mailer = self.mailer()
            return None if mailer is None else send_pending(self.engine, mailer)
        except Exception as exc:  # noqa: BLE001 - a database hiccup must not end the process's mail
            _log.warning("mail outbox: a pass failed (%s); the next one retries", type(exc).__name__)
            return None


@contextlib.contextmanager
def sending(engine: Engine, data_dir: Path) -> Iterator[OutboxSender]:
    """An :class:`OutboxSender` for the relay of ``data_dir`` running while the block runs (a
    listener process: ``public`` and ``web``); stopped, after its current message, at the end."""
    sender = OutboxSender(engine, lambda: configured_mailer(data_dir))
    sender.start()
    try:
        yield sender
    finally:
        sender.stop()


__all__ = [
    "FAILED",
    "PENDING",
    "SENT",
    "OutboxSender",
    "SendReport",
    "claim",
    "enqueue",
    "message_id",
    "retry_delay",
    "send_pending",
    "sending",
    "waiting",
]
