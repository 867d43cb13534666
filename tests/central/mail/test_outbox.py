"""The mail outbox against a real relay on the loopback (aiosmtpd) and real child processes:
written only with the transaction that causes it; sent once with a stable Message-ID; a relay that
is down delays a message (back-off) and loses nothing; a sender killed with SIGKILL after claiming
leaves the message to the next sender once the lease ends; ``mail send-pending`` for cron."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from item_bank_sync.db.sql import write
from item_bank_sync.mail import MailError, MailSettings, Mailer, save_settings
from item_bank_sync.mail.outbox import (FAILED, MAX_ATTEMPTS, OutboxSender, enqueue, now, retry_delay, send_pending,
                                        stamp)
from item_bank_sync.mail.schema import mail_outbox
from tests.support.central_cli import Central
from tests.support.central_db import central_db
from tests.support.mail_relay import child, plain_relay
from tests.support.portal_site import body_text
from tests.support.ports import find_free_port

LINK = "https://body.example/portal/confirm/SECRET-TOKEN"
CLAIM_AND_HANG = """
import sys, time
from pathlib import Path
from item_bank_sync.db import configured_url, open_central
from item_bank_sync.mail.outbox import claim
db = open_central(Path(sys.argv[1]), configured_url())
print(len(claim(db.bank, lease_seconds=float(sys.argv[2]))), flush=True)
time.sleep(120)
"""


@pytest.fixture
def bank(tmp_path: Path) -> Engine:
    return central_db(tmp_path / "central").bank


def _rows(bank: Engine) -> list[dict[str, object]]:
    with bank.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(mail_outbox))]


def _mailer(port: int) -> Mailer:
    return Mailer(MailSettings("127.0.0.1", port, "portal@body.example"))


def test_written_with_the_change_sent_once_with_a_stable_message_id(bank: Engine) -> None:
    with pytest.raises(RuntimeError), write(bank) as conn:
        enqueue(conn, "gone@example.org", "Rolled back", LINK)
        raise RuntimeError("the change failed")
    assert _rows(bank) == []
    with write(bank) as conn:
        outbox_id = enqueue(conn, "ann@example.org", "Confirm", LINK)
    with write(bank) as conn, pytest.raises(MailError):
        enqueue(conn, "ann@example.org", "Hi\r\nBcc: x@y.org", LINK)
    with plain_relay() as (inbox, port):
        report = send_pending(bank, _mailer(port))
        assert (report.sent, report.waiting) == (1, 0)
        assert send_pending(bank, _mailer(port)).sent == 0
        (message,) = inbox.to("ann@example.org")
        assert message["Message-ID"] == f"<{outbox_id}@body.example>" and LINK in body_text(message)
    (row,) = _rows(bank)
    assert row["state"] == "sent" and row["claimed_until"] is None


def test_a_relay_down_delays_and_loses_nothing(bank: Engine) -> None:
    with write(bank) as conn:
        enqueue(conn, "ann@example.org", "Confirm", LINK)
    down = send_pending(bank, _mailer(find_free_port()))
    assert (down.sent, down.retried, down.waiting) == (0, 1, 1)
    (row,) = _rows(bank)
    assert row["attempts"] == 1 and row["last_error"] == "MailError"
    assert str(row["next_try_at"]) > str(row["created_at"])
    assert "SECRET" not in str(row["last_error"])
    with plain_relay() as (inbox, port):
        assert send_pending(bank, _mailer(port)).sent == 0        # not due yet: the back-off holds
        _due_now(bank)
        assert send_pending(bank, _mailer(port)).sent == 1
        assert len(inbox.to("ann@example.org")) == 1
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 20)] == [30, 60, 120, 3600]


def test_given_up_after_the_last_attempt_and_kept(bank: Engine) -> None:
    with write(bank) as conn:
        enqueue(conn, "ann@example.org", "Confirm", LINK)
    with write(bank) as conn:
        conn.execute(update(mail_outbox).values(attempts=MAX_ATTEMPTS - 1))
    assert send_pending(bank, _mailer(find_free_port())).given_up == 1
    assert _rows(bank)[0]["state"] == FAILED


def _due_now(bank: Engine) -> None:
    with write(bank) as conn:
        conn.execute(update(mail_outbox).values(next_try_at="2000-01-01T00:00:00.000000Z"))


def test_a_sender_killed_after_claiming_leaves_the_message_to_the_next(tmp_path: Path, bank: Engine) -> None:
    with write(bank) as conn:
        enqueue(conn, "ann@example.org", "Confirm", LINK)
    hung = child(CLAIM_AND_HANG, str(tmp_path / "central"), "2")
    try:
        assert hung.stdout is not None and hung.stdout.readline().strip() == "1"
        hung.send_signal(signal.SIGKILL)
        hung.wait(10)
        with plain_relay() as (inbox, port):
            assert send_pending(bank, _mailer(port)).sent == 0     # the dead sender's lease still runs
            _wait_for_lease(bank)
            assert send_pending(bank, _mailer(port)).sent == 1
            assert len(inbox.to("ann@example.org")) == 1
    finally:
        if hung.poll() is None:
            hung.kill()
            hung.wait(10)


def _wait_for_lease(bank: Engine, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        (row,) = _rows(bank)
        if row["claimed_until"] is not None and str(row["claimed_until"]) < stamp(now()):
            return
        time.sleep(0.2)
    raise AssertionError("the lease did not end")


def test_the_sender_loop_sends_when_woken_and_stops(bank: Engine) -> None:
    with plain_relay() as (inbox, port):
        sender = OutboxSender(bank, lambda: _mailer(port), poll=60)
        sender.start()
        try:
            with write(bank) as conn:
                enqueue(conn, "ann@example.org", "Confirm", LINK)
            sender.wake()
            assert len(inbox.to("ann@example.org", timeout=10)) == 1
        finally:
            sender.stop()
        assert not sender.is_alive()


def test_send_pending_command(tmp_path: Path, bank: Engine) -> None:
    central = Central(tmp_path / "central")
    central.json("init", "--body-id", "test-body", "--name", "Test Body")
    assert central.json("mail", "send-pending", code=1)["error"].startswith("mail: no relay")
    with write(bank) as conn:
        enqueue(conn, "ann@example.org", "Confirm", LINK)
    with plain_relay() as (inbox, port):
        save_settings(central.data_dir, MailSettings("127.0.0.1", port, "portal@body.example"))
        assert central.json("mail", "send-pending") == {"sent": 1, "retried": 0, "given_up": 0, "waiting": 0}
        assert len(inbox.to("ann@example.org")) == 1
    result = central.run("mail", "status")
    assert result.exit_code == 0 and "sent 1" in result.output and "ann@" not in result.output
