"""Who falls due, and reminders before expiry: by e-mail through the body's relay (a real SMTP
server on the loopback, aiosmtpd) when mail is set up, else kept for the portal; once per
certificate and threshold, also with two runs at once; a mail the relay refused is sent by the next run."""

from __future__ import annotations

import threading
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from item_bank_sync.context import CentralContext
from item_bank_sync.mail import MailSettings, save_settings
from item_bank_sync.recertification.due import due, remind, reminders_of
from tests.support.recert_world import HOLDER_EMAIL, holder_world
from tests.support.ports import find_free_port


class Inbox:
    """Keeps what the SMTP server receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def soon(tmp_path):
    """A holder whose certificate ends in one month (the scheme's certification period)."""
    h = holder_world(tmp_path, period=1)
    yield h
    h.ctx.close()


@pytest.fixture
def relay(soon):
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=find_free_port())
    smtp.start()
    save_settings(soon.ctx.data_dir, MailSettings("127.0.0.1", smtp.port, "certification@body.example"))
    inbox.port = smtp.port
    yield inbox
    smtp.stop()


def test_who_falls_due_within_the_days_with_where_they_stand(soon):
    assert due(soon.ctx, 5) == []
    [item] = due(soon.ctx, 40)
    assert item.certificate_id == soon.cert.certificate_id and 27 <= item.days_left <= 31
    assert item.rules and not item.ready and "training: 0 of 10 credits" in item.shortfalls


def test_without_mail_a_reminder_is_kept_for_the_portal_once(soon):
    [sent] = remind(soon.ctx, 40, "Rita Registrar")
    assert (sent.channel, sent.status, sent.threshold_days) == ("portal", "kept", 40)
    assert remind(soon.ctx, 40, "Rita Registrar") == []
    [kept] = reminders_of(soon.ctx, soon.person_id)
    assert soon.cert.certificate_id in kept["subject"] and "training: 0 of 10 credits" in kept["body"]
    assert [r.threshold_days for r in remind(soon.ctx, 35, "Rita Registrar")] == [35]    # another threshold


def test_a_reminder_is_mailed_once_even_with_two_runs_at_once(soon, relay):
    results: list[list] = []

    def run() -> None:
        ctx = CentralContext(data_dir=soon.ctx.data_dir)
        try:
            results.append(remind(ctx, 40, "Rita Registrar"))
        finally:
            ctx.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(len(r) for r in results) == [0, 1]
    assert remind(soon.ctx, 40, "Rita Registrar") == []
    [message] = relay.messages
    assert message["To"] == HOLDER_EMAIL and soon.cert.certificate_id in message["Subject"]
    assert "Record your CPD activities" in message.get_payload(decode=True).decode()


def test_a_mail_the_relay_refused_is_sent_by_the_next_run(soon, relay):
    working = MailSettings("127.0.0.1", relay.port, "certification@body.example")
    save_settings(soon.ctx.data_dir, MailSettings("127.0.0.1", find_free_port(), "certification@body.example"))
    [failed] = remind(soon.ctx, 40, "Rita Registrar")                 # nothing listens there: refused
    assert (failed.channel, failed.status) == ("mail", "failed") and relay.messages == []
    save_settings(soon.ctx.data_dir, working)
    [sent] = remind(soon.ctx, 40, "Rita Registrar")
    assert sent.status == "sent" and len(relay.messages) == 1
    assert remind(soon.ctx, 40, "Rita Registrar") == []
