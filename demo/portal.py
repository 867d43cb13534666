"""The public site as the demo's candidates use it: the candidate portal over HTTPS with an HTTP
client, and a real SMTP relay on the loopback (aiosmtpd) that receives the portal's mail.

The site is ``python -m item_bank_sync public`` started as its own process with ``--smtp-host``;
its registration mail carries the confirmation link the candidate follows. The client trusts
exactly the body's own certificate (it names the body, not 127.0.0.1, so the host name is not
checked; the certificate is).
"""

from __future__ import annotations

import re
import secrets
import ssl
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from demo.processes import DemoError, Supervisor, free_port, wait_for_port

MAIL_FROM = "portal@demo-body.example"


class Inbox:
    """The relay's mailbox (an aiosmtpd handler): every message it accepted."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            message = message_from_bytes(envelope.content, policy=policy.default)
            if isinstance(message, EmailMessage):
                self.messages.append(message)
        return "250 OK"

    def link_for(self, address: str, timeout: float = 30.0) -> str:
        """The confirmation link in the newest mail to ``address`` (waits for it to arrive)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                found = [m for m in self.messages if m["To"] == address]
            for message in reversed(found):
                link = re.search(r"https://\S+/portal/confirm/\S+", _text(message))
                if link:
                    return link.group(0)
            time.sleep(0.1)
        raise DemoError(f"no confirmation mail reached {address} within {timeout:.0f} s")


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    return part.get_content() if isinstance(part, EmailMessage) else ""


class _PinnedAdapter(HTTPAdapter):
    """HTTPS trusting exactly one certificate (the body's self-signed one)."""

    def __init__(self, cafile: Path) -> None:
        self.context = ssl.create_default_context(cafile=str(cafile))
        self.context.check_hostname = False  # it names the body, not the loopback address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self.context
        super().init_poolmanager(*args, **kwargs)


class PublicSite:
    """The public site process (portal included) and the SMTP relay its mail goes to."""

    def __init__(self, central_dir: Path, supervisor: Supervisor) -> None:
        from aiosmtpd.controller import Controller

        from item_bank_sync.sync.tls_cert import ensure_tls_certificate

        self.inbox = Inbox()
        self.smtp = Controller(self.inbox, hostname="127.0.0.1", port=free_port())
        self.smtp.start()
        self.cert = ensure_tls_certificate(central_dir)[0]
        port = free_port()
        node = supervisor.start("public", "item_bank_sync", [
            "--data", str(central_dir), "public", "--host", "127.0.0.1", "--port", str(port),
            "--smtp-host", "127.0.0.1", "--smtp-port", str(self.smtp.port), "--mail-from", MAIL_FROM])
        wait_for_port(port, 60, node.process, node.log)
        self.url = f"https://127.0.0.1:{port}"

    def stop(self) -> None:
        self.smtp.stop()

    def client(self) -> requests.Session:
        http = requests.Session()
        http.trust_env = False  # a CA bundle named in the environment would override the pinned one
        http.mount("https://", _PinnedAdapter(self.cert))
        return http

    def get(self, path: str) -> bytes:
        """A public page or file (anyone may fetch it: no session)."""
        with self.client() as http:
            response = http.get(self.url + path, timeout=30)
        if response.status_code != 200:
            raise DemoError(f"GET {path} answered {response.status_code}")
        return response.content


class Candidate:
    """One person on the portal: registers, follows the mailed link (which signs them in), applies,
    asks for adjustments, books."""

    def __init__(self, site: PublicSite, email: str) -> None:
        self.site, self.email = site, email
        self.http = site.client()

    def _csrf(self, path: str) -> str:
        page = self._call("get", path)
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        if not found:
            raise DemoError(f"no CSRF token on the portal page {path}")
        return found.group(1)

    def _call(self, method: str, path: str, data: dict[str, str] | None = None) -> str:
        response = self.http.request(method, self.site.url + path, data=data, timeout=30)
        if response.status_code != 200:
            shown = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))[:300]
            raise DemoError(f"portal {method.upper()} {path} answered {response.status_code}: {shown}")
        return response.text

    def post(self, path: str, data: dict[str, str], form_page: str | None = None) -> str:
        """Submit a form the way a browser does: its page first (for the CSRF token), then POST."""
        return self._call("post", path, {"csrf": self._csrf(form_page or path), **data})

    def register(self, given: str, family: str, date_of_birth: str) -> None:
        self.post("/portal/register", {"email": self.email, "given_name": given, "family_name": family,
                                       "date_of_birth": date_of_birth, "password": secrets.token_urlsafe(16)})
        link = self.site.inbox.link_for(self.email)
        path = "/portal/confirm/" + link.split("/portal/confirm/", 1)[1]
        home = self.post(path, {})
        if "My applications" not in home:
            raise DemoError(f"{self.email}: the confirmation link did not sign in")

    def apply(self, scheme_id: str, version: int, answers: dict[str, str]) -> str:
        """The application's id, from the portal's answer."""
        text = self.post(f"/portal/apply/{scheme_id}/{version}", {**answers, "accept": "yes"})
        return _id_in(text, r"application (\S+) ")

    def request_adjustments(self, scheme_id: str, version: int, adjustments: dict[str, str], reason: str) -> str:
        text = self.post("/portal/accommodations", {"scheme": f"{scheme_id}/{version}", "reason": reason,
                                                    **adjustments})
        return _id_in(text, r"request (\S+) ")

    def book(self, session_id: str) -> None:
        self.post(f"/portal/sessions/{session_id}/book", {}, form_page="/portal/sessions")


def _id_in(text: str, pattern: str) -> str:
    found = re.search(pattern, text)
    if not found:
        raise DemoError(f"the portal's answer names no id ({pattern}): {text[:200]!r}")
    return found.group(1)
