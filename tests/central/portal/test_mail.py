"""The mail sender against a real SMTP server on the loopback (aiosmtpd): delivered with sender,
recipient and subject; STARTTLS required away from the loopback and refused when the relay cannot
do it; a relay that is down or a header injection refused without the message's text in the error."""

from __future__ import annotations

from collections.abc import Iterator

import stat
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from item_bank_sync.mail import MailError, MailSettings, Mailer, load_settings, save_settings
from tests.support.portal_site import Inbox, body_text
from tests.support.ports import find_free_port

SECRET_LINK = "https://body.example/portal/confirm/SECRET"


@pytest.fixture
def relay() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=find_free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


def test_delivered_through_the_relay(relay) -> None:
    inbox, port = relay
    Mailer(MailSettings("127.0.0.1", port, "portal@body.example")).send("ann@example.org", "Confirm", SECRET_LINK)
    (message,) = inbox.to("ann@example.org")
    assert (message["From"], message["Subject"]) == ("portal@body.example", "Confirm")
    assert SECRET_LINK in body_text(message) and message["Message-ID"].endswith("@body.example>")


def test_tls_required_away_from_the_loopback_and_failures_name_no_content(relay) -> None:
    _inbox, port = relay
    assert MailSettings("smtp.body.example", 587, "p@body.example").requires_tls
    assert not MailSettings("127.0.0.1", 25, "p@body.example").requires_tls
    forced = Mailer(MailSettings("127.0.0.1", port, "p@body.example", starttls=True))
    with pytest.raises(MailError) as refused:
        forced.send("ann@example.org", "Confirm", SECRET_LINK)      # this relay offers no STARTTLS
    assert "SECRET" not in str(refused.value) and "ann@" not in str(refused.value)
    down = Mailer(MailSettings("127.0.0.1", find_free_port(), "p@body.example"))
    with pytest.raises(MailError):
        down.send("ann@example.org", "Confirm", SECRET_LINK)
    with pytest.raises(MailError):
        Mailer(MailSettings("127.0.0.1", port, "p@body.example")).send("ann@example.org", "Hi\r\nBcc: x@y.org", "b")
    with pytest.raises(MailError):
        Mailer(MailSettings("127.0.0.1", port, "p@body.example")).send("a@b.org, c@d.org", "Hi", "b")


def test_settings_saved_owner_only_and_checked(tmp_path: Path) -> None:
    assert load_settings(tmp_path) is None
    path = save_settings(tmp_path, MailSettings("relay.body.example", 587, "portal@body.example"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_settings(tmp_path) == MailSettings("relay.body.example", 587, "portal@body.example")
    for bad in ({"host": "", "port": 25, "sender": "a@b.org"}, {"host": "h", "port": 0, "sender": "a@b.org"},
                {"host": "h", "port": 25, "sender": "not an address"}):
        with pytest.raises(MailError):
            MailSettings(**bad)  # type: ignore[arg-type]
    path.write_text("{}")
    with pytest.raises(MailError):
        load_settings(tmp_path)
