"""SMTP authentication against a real aiosmtpd relay that requires STARTTLS (a self-signed
certificate for 127.0.0.1 the client trusts) and AUTH: the password is read from a 0600 file at
each connection, LOGIN or PLAIN after STARTTLS; a wrong password, a password file others can read,
and credentials without STARTTLS are refused, and no error names the password or the message; the
real ``public`` process, given the user and the file on its command line, delivers through it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import urllib3

from item_bank_sync.certificates.settings import IssuerSettings
from item_bank_sync.certificates.settings import save_settings as save_issuer
from item_bank_sync.mail import MailError, MailSettings, Mailer, load_settings, save_settings
from tests.support.mail_relay import Accounts, auth_relay
from tests.support.portal_site import Portal, register
from tests.support.ports import find_free_port
from tests.support.registry_body import make_body

urllib3.disable_warnings()

PASSWORD = "relay-pass-5up3r"
LINK = "https://body.example/portal/confirm/SECRET-TOKEN"


def _password_file(folder: Path, text: str = PASSWORD, mode: int = 0o600) -> Path:
    path = folder / "smtp-password"
    path.write_text(text + "\n")
    os.chmod(path, mode)
    return path


def test_auth_after_starttls_with_the_password_from_a_file(tmp_path: Path) -> None:
    accounts = Accounts("portal", PASSWORD)
    with auth_relay(tmp_path, accounts) as (inbox, port, trust):
        settings = MailSettings("127.0.0.1", port, "portal@body.example", None, "portal",
                                str(_password_file(tmp_path)))
        assert settings.requires_tls          # a password never crosses in clear, even on the loopback
        Mailer(settings, tls=trust).send("ann@example.org", "Confirm", LINK)
        assert len(inbox.to("ann@example.org")) == 1
        assert accounts.mechanisms and set(accounts.mechanisms) <= {"LOGIN", "PLAIN"}
        _password_file(tmp_path, "wrong")
        with pytest.raises(MailError) as refused:
            Mailer(settings, tls=trust).send("ann@example.org", "Confirm", LINK)
        assert "wrong" not in str(refused.value) and "SECRET" not in str(refused.value)


def test_without_credentials_the_relay_refuses(tmp_path: Path) -> None:
    with auth_relay(tmp_path, Accounts("portal", PASSWORD)) as (inbox, port, trust):
        with pytest.raises(MailError):
            Mailer(MailSettings("127.0.0.1", port, "portal@body.example", True), tls=trust).send(
                "ann@example.org", "Confirm", LINK)
        assert inbox.to("ann@example.org", timeout=0.5) == []


def test_a_password_file_others_can_read_is_refused(tmp_path: Path) -> None:
    loose = _password_file(tmp_path, mode=0o644)
    settings = MailSettings("127.0.0.1", 25, "portal@body.example", None, "portal", str(loose))
    with pytest.raises(MailError, match="chmod 600"):
        Mailer(settings).send("ann@example.org", "Confirm", LINK)


def test_credentials_checked_and_saved_without_the_password(tmp_path: Path) -> None:
    secret = _password_file(tmp_path)
    with pytest.raises(MailError, match="STARTTLS"):
        MailSettings("127.0.0.1", 25, "p@body.example", False, "portal", str(secret))
    with pytest.raises(MailError, match="go together"):
        MailSettings("127.0.0.1", 25, "p@body.example", None, "portal", None)
    with pytest.raises(MailError, match="absolute"):
        MailSettings("127.0.0.1", 25, "p@body.example", None, "portal", "relative/file")
    settings = MailSettings("relay.body.example", 587, "p@body.example", None, "portal", str(secret))
    path = save_settings(tmp_path, settings)
    assert load_settings(tmp_path) == settings and PASSWORD not in path.read_text()


def test_the_public_process_mails_through_an_authenticating_relay(tmp_path: Path, live_server: Any) -> None:
    """``public --smtp-user U --smtp-password-file F``: the settings name the file (not the password),
    and the listener's outbox sender delivers a registration's mail after STARTTLS and AUTH. The
    relay's certificate is trusted through SSL_CERT_FILE, as an operator's private CA would be."""
    body = make_body(tmp_path)
    accounts = Accounts("portal", PASSWORD)
    try:
        with auth_relay(tmp_path, accounts) as (inbox, port, _trust):
            url = f"https://127.0.0.1:{find_free_port()}"
            save_issuer(body.ctx, IssuerSettings(public_url=url))
            live_server("item_bank_sync", "--data", str(body.ctx.data_dir), "public", "--port", url.rsplit(":", 1)[1],
                        "--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--mail-from", "portal@body.example",
                        "--smtp-user", "portal", "--smtp-password-file", str(_password_file(tmp_path)),
                        port=int(url.rsplit(":", 1)[1]), env={"SSL_CERT_FILE": str(tmp_path / "relay.crt")})
            assert PASSWORD not in (body.ctx.data_dir / "mail.json").read_text()
            portal = Portal(url, body, inbox, "")
            assert register(portal, portal.client(), "ann@example.org").status_code == 200
            (message,) = inbox.to("ann@example.org", timeout=20)
            assert message["Subject"] == "Confirm your candidate account" and accounts.mechanisms
    finally:
        body.close()
