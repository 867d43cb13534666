"""SMTP to the configured relay: settings in ``DATA/mail.json``, one connection per message."""

from __future__ import annotations

import json
import os
import re
import smtplib
import ssl
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

    def __post_init__(self) -> None:
        if not self.host or len(self.host) > 253 or any(c.isspace() for c in self.host):
            raise MailError("mail: host must be a host name or address")
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 1 <= self.port <= 65535:
            raise MailError("mail: port must be 1-65535")
        if not _ADDRESS.match(self.sender):
            raise MailError("mail: sender must be an e-mail address")

    @property
    def requires_tls(self) -> bool:
        return self.starttls if self.starttls is not None else self.host not in _LOOPBACK


def load_settings(data_dir: Path) -> MailSettings | None:
    """The body's mail settings, or None when none were saved (the portal then refuses to register)."""
    path = Path(data_dir) / SETTINGS_FILE
    if not path.exists():
        return None
    try:
        raw: dict[str, Any] = json.loads(path.read_text())
        return MailSettings(str(raw["host"]), int(raw["port"]), str(raw["sender"]), raw.get("starttls"))
    except (ValueError, KeyError, TypeError) as exc:
        raise MailError(f"{path}: not valid mail settings ({exc})") from None


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

    def send(self, to: str, subject: str, body: str) -> None:
        """Hand one message to the relay; :class:`MailError` (without the body) when it is refused."""
        if not _ADDRESS.match(to) or "\n" in subject or "\r" in subject:
            raise MailError("mail: not a valid recipient or subject")
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.settings.sender, to, subject
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = make_msgid(domain=self.settings.sender.rpartition("@")[2])
        message.set_content(body)
        try:
            with smtplib.SMTP(self.settings.host, self.settings.port, timeout=TIMEOUT_SECONDS) as smtp:
                smtp.ehlo()
                if self.settings.requires_tls:
                    smtp.starttls(context=self._tls)
                    smtp.ehlo()
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"mail: the relay {self.settings.host}:{self.settings.port} did not take the message "
                            f"({type(exc).__name__})") from None
