"""The public site as a real process (``python -m item_bank_sync public``) over HTTPS on 127.0.0.1,
over a central body with two certificates: one whose holder consented to be found by name."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from item_bank_sync.certificates.registry import Certificate, CertificateRegistry
from item_bank_sync.certificates.settings import IssuerSettings, save_settings
from tests.support.central_certificates import DECIDER, Passed, pass_attempt, passed_world
from tests.support.ports import find_free_port

CONSENTING = "Ada Lovelace"


@dataclass
class Site:
    url: str
    passed: Passed
    cert: Certificate          # holder did not consent to be found by name
    consenting: Certificate    # holder consented (CONSENTING)
    tls: ssl.SSLContext

    @property
    def registry(self) -> CertificateRegistry:
        return self.passed.registry()

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body of a GET over HTTPS (4xx and 5xx answers returned, not raised)."""
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, context=self.tls, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()


def pinned_context(cert_path: Path) -> ssl.SSLContext:
    """Trust exactly the body's self-signed certificate (its name is not the loopback address)."""
    context = ssl.create_default_context(cafile=str(cert_path))
    context.check_hostname = False
    return context


@pytest.fixture
def site(tmp_path, live_server: Any) -> Iterator[Site]:
    port = find_free_port()
    url = f"https://127.0.0.1:{port}"
    passed = passed_world(tmp_path / "central", public_url=url)
    save_settings(passed.ctx, IssuerSettings(public_url=url))
    pass_attempt(passed.world, "att-2", candidate_name=CONSENTING)
    registry = passed.registry()
    cert = registry.issue(passed.attempt_id, DECIDER)
    consenting = registry.issue("att-2", DECIDER, name_consent=True)
    live_server("item_bank_sync", "--data", str(passed.world.data_dir), "public", "--port", "{port}", port=port)
    try:
        yield Site(url, passed, cert, consenting, pinned_context(passed.world.data_dir / "tls" / "sync.crt"))
    finally:
        passed.ctx.close()
