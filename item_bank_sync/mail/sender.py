"""SMTP to the configured relay: settings in ``DATA/mail.json``, one connection per message.

Authentication: with ``username`` set the relay is asked for AUTH (LOGIN or PLAIN, whichever it
offers) after STARTTLS, which is then required even on the loopback (a password never crosses a
wire in clear). The password is read, at each connection, from the file ``password_file`` names;
that file must be the owner's alone (0600), else nothing is sent. It never comes from the command
line (``ps`` shows arguments to everyone on the machine) nor sits in ``mail.json``.
"""

from __future__ import annotations

import json
import os
import re
import smtplib
import ssl
import stat
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from datetime import datetime, UTC
from pathlib import Path
from typing import Any

from exam_core.errors import InvigilError

SETTINGS_FILE = "mail.json"
TIMEOUT_SECONDS = 20.0
_ADDRESS = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9.-]{1,253}$")
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


class MailError(InvigilError):
    """The settings are missing or wrong, or the relay refused the message."""


@dataclass(frozen=True)
class MailSettings:
    """Where to hand mail over. ``starttls`` None means: required unless the relay is on the loopback."""

    host: str
    port: int
    sender: str
    starttls: bool | None = None
    username: str | None = None
    password_file: str | None = None

    def __post_init__(self) -> None:
        if not self.host or len(self.host) > 253 or any(c.isspace() for c in self.host):
            raise MailError("mail: host must be a host name or address")
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 1 <= self.port <= 65535:
            raise MailError("mail: port must be 1-65535")
        if not _ADDRESS.match(self.sender):
            raise MailError("mail: sender must be an e-mail address")
        self._check_credentials()

    def _check_credentials(self) -> None:
        """Both or neither of user and password file; never credentials without STARTTLS."""
        if (self.username is None) != (self.password_file is None):
            raise MailError("mail: a user name and a password file go together")
        if self.username is None:
            return
        if not 0 < len(self.username) <= 254 or any(c.isspace() or not c.isprintable() for c in self.username):
            raise MailError("mail: the user name must be 1-254 printable characters without spaces")
        if not Path(str(self.password_file)).is_absolute():
            raise MailError("mail: the password file must be an absolute path")
        if self.starttls is False:
            raise MailError("mail: a relay that takes a password needs STARTTLS")

    @property
    def requires_tls(self) -> bool:
        if self.username is not None:
            return True
        return self.starttls if self.starttls is not None else self.host not in _LOOPBACK

    @property
    def domain(self) -> str:
        """The sender's domain: the right-hand side of every Message-ID."""
        return self.sender.rpartition("@")[2]


def read_password(path: Path) -> str:
    """The relay's password from ``path`` (one line); refused unless a regular file only its owner
    may read or write (a password others can read is a leaked password)."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_mode & 0o077:
            raise MailError(f"mail: the password file {path} must be a file only its owner can read (chmod 600)")
        secret = Path(path).read_text().rstrip("\r\n")
    except OSError:
        raise MailError(f"mail: the password file {path} cannot be read") from None
    if not secret or "\n" in secret:
        raise MailError(f"mail: the password file {path} must hold one line")
    return secret


def check_message(to: str, subject: str) -> None:
    """Refuse a recipient that is not one address, or a subject that would inject headers."""
    if not _ADDRESS.match(to) or "\n" in subject or "\r" in subject or len(subject) > 300:
        raise MailError("mail: not a valid recipient or subject")


def load_settings(data_dir: Path) -> MailSettings | None:
    """The body's mail settings, or None when none were saved (the portal then refuses to register)."""
    path = Path(data_dir) / SETTINGS_FILE
    if not path.exists():
        return None
    try:
        raw: dict[str, Any] = json.loads(path.read_text())
        return MailSettings(str(raw["host"]), int(raw["port"]), str(raw["sender"]), raw.get("starttls"),
                            _optional(raw, "username"), _optional(raw, "password_file"))
    except (ValueError, KeyError, TypeError) as exc:
        raise MailError(f"{path}: not valid mail settings ({exc})") from None


def _optional(raw: dict[str, Any], name: str) -> str | None:
    value = raw.get(name)
    return None if value is None else str(value)


def save_settings(data_dir: Path, settings: MailSettings) -> Path:
    """Write ``DATA/mail.json`` (owner-only: it names the relay)."""
    path = Path(data_dir) / SETTINGS_FILE
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(asdict(settings), out, indent=2)
    os.replace(tmp, path)
    return path


class Mailer:
    """Sends plain-text messages through the relay of ``settings``."""

    def __init__(self, settings: MailSettings, *, tls: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self._tls = tls or ssl.create_default_context()

    def send(self, to: str, subject: str, body: str, *, message_id: str | None = None) -> None:
        """Hand one message to the relay; :class:`MailError` (without the body) when it is refused.
        ``message_id`` (the outbox's, stable across retries) lets the receiver drop a duplicate."""
        check_message(to, subject)
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.settings.sender, to, subject
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = message_id or make_msgid(domain=self.settings.domain)
        message.set_content(body)
        password = None if self.settings.password_file is None else read_password(Path(self.settings.password_file))
        try:
            with smtplib.SMTP(self.settings.host, self.settings.port, timeout=TIMEOUT_SECONDS) as smtp:
                self._open(smtp, password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"mail: the relay {self.settings.host}:{self.settings.port} did not take the message "
                            f"({type(exc).__name__})") from None

    def _open(self, smtp: smtplib.SMTP, password: str | None) -> None:
        """EHLO, STARTTLS when required, then AUTH when the settings name a user."""
        smtp.ehlo()
        if self.settings.requires_tls:
            smtp.starttls(context=self._tls)
            smtp.ehlo()
        if self.settings.username is not None and password is not None:
            smtp.login(self.settings.username, password)


def configured_mailer(data_dir: Path) -> Mailer | None:
    """A mailer for the relay ``DATA/mail.json`` names now, or None when none is set up (read at
    each outbox pass, so a change of relay or password needs no restart)."""
    settings = load_settings(data_dir)
    return Mailer(settings) if settings is not None else None
