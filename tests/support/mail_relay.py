"""Real SMTP relays on the loopback for the mail tests (aiosmtpd): a plain one, and one that offers
STARTTLS with a self-signed certificate for 127.0.0.1 and takes AUTH LOGIN/PLAIN only after it;
and child processes that work the outbox or the shared limits (a real second process)."""

from __future__ import annotations

import ipaddress
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.portal_site import Inbox
from tests.support.ports import find_free_port

ROOT = Path(__file__).resolve().parents[2]


def loopback_cert(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (PEM files in ``folder``)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "relay.crt", folder / "relay.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class Accounts:
    """An aiosmtpd authenticator accepting one user and password; remembers the mechanisms used."""

    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user.encode(), password.encode()
        self.mechanisms: list[str] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        self.mechanisms.append(mechanism)
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (self.user, self.password)
        return AuthResult(success=ok, handled=False)


@contextmanager
def plain_relay() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=find_free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


@contextmanager
def auth_relay(folder: Path, accounts: Accounts) -> Iterator[tuple[Inbox, int, ssl.SSLContext]]:
    """A relay requiring STARTTLS and AUTH; yields its inbox, port and a client context trusting it."""
    cert, key = loopback_cert(folder)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=find_free_port(), tls_context=server,
                            require_starttls=True, authenticator=accounts, auth_required=True,
                            auth_require_tls=True)
    controller.start()
    try:
        yield inbox, controller.port, ssl.create_default_context(cafile=str(cert))
    finally:
        controller.stop()


def child(code: str, *args: str) -> subprocess.Popen[str]:
    """A Python child process in the repository running ``code`` (with ``sys.argv[1:]`` = ``args``),
    its stdout a pipe; it inherits the environment (the test's database on PostgreSQL)."""
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, stdout=subprocess.PIPE, text=True)


__all__ = ["Accounts", "Inbox", "auth_relay", "child", "loopback_cert", "plain_relay"]
