"""The candidate portal as a real process (``python -m item_bank_sync public``, HTTPS on 127.0.0.1)
over a central body with a scheme, a form and a centre (tests/central/registry/body.py), its mail
handed to a real SMTP server on the loopback (aiosmtpd), whose messages the tests read."""

from __future__ import annotations

import re
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pyotp
import pytest
import requests
from aiosmtpd.controller import Controller

from item_bank_sync.certificates.settings import IssuerSettings, save_settings
from item_bank_sync.mail import MailSettings
from item_bank_sync.mail import load_settings as load_mail
from tests.support.registry_body import Body, make_body
from tests.support.ports import find_free_port

PASSWORD = "correct horse battery"


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address: str, timeout: float = 10.0, count: int = 1) -> list[Message]:
        """The messages to ``address`` once there are ``count`` of them."""
        end = time.monotonic() + timeout
        while True:
            with self._lock:
                found = [m for m in self.messages if m["To"] == address]
            if len(found) >= count or time.monotonic() > end:
                return found
            time.sleep(0.05)


def body_text(message: Message) -> str:
    payload = message.get_payload(decode=True)
    return payload.decode() if isinstance(payload, bytes) else str(message.get_payload())


def link_in(message: Message) -> str:
    found = re.search(r"https://\S+/portal/confirm/\S+", body_text(message))
    assert found, body_text(message)
    return found.group(0)


@dataclass
class Portal:
    url: str
    body: Body
    inbox: Inbox
    tls: str
    secrets: dict[str, str] = field(default_factory=dict)

    def client(self) -> requests.Session:
        """An HTTP client trusting exactly the body's self-signed certificate."""
        http = requests.Session()
        http.trust_env = False  # else a CA bundle in the environment overrides verify
        http.verify = False     # the body's self-signed certificate names no loopback address
        return http


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def register(portal: Portal, http: requests.Session, email: str, *, given: str = "Cara", family: str = "Doe",
             dob: str = "1990-05-01", password: str = PASSWORD) -> requests.Response:
    page = http.get(f"{portal.url}/portal/register")
    return http.post(f"{portal.url}/portal/register", data={
        "csrf": csrf_of(page.text), "email": email, "given_name": given, "family_name": family,
        "date_of_birth": dob, "password": password})


def confirmed(portal: Portal, email: str, **kwargs: Any) -> requests.Session:
    """A client through registration and the mailed link: signed in as a new person."""
    http = portal.client()
    assert register(portal, http, email, **kwargs).status_code == 200
    link = link_in(portal.inbox.to(email)[-1]).replace("https://127.0.0.1", portal.url.rsplit(":", 1)[0])
    page = http.get(link)
    done = http.post(link, data={"csrf": csrf_of(page.text)})
    assert done.status_code == 200 and "My applications" in done.text, done.text[:800]
    return http


@pytest.fixture
def portal(tmp_path: Path, live_server: Any) -> Iterator[Portal]:
    body = make_body(tmp_path)
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=find_free_port())
    smtp.start()
    port = find_free_port()
    url = f"https://127.0.0.1:{port}"
    save_settings(body.ctx, IssuerSettings(public_url=url))
    live_server("item_bank_sync", "--data", str(body.ctx.data_dir), "public", "--port", "{port}",
                "--smtp-host", "127.0.0.1", "--smtp-port", str(smtp.port), "--mail-from", "portal@body.example",
                port=port)   # the relay given on the command line, saved in DATA/mail.json
    assert load_mail(body.ctx.data_dir) == MailSettings("127.0.0.1", smtp.port, "portal@body.example")
    try:
        yield Portal(url, body, inbox, str(body.ctx.data_dir / "tls" / "sync.crt"))
    finally:
        smtp.stop()
        body.close()


def totp_now(secret: str) -> str:
    return pyotp.TOTP(secret).now()


__all__ = ["PASSWORD", "Portal", "body_text", "confirmed", "csrf_of", "link_in", "register", "ssl", "totp_now"]
