"""Self-signed TLS certificates for Invigil's own servers (the console, the central sync API).

Clients pin the server's certificate by the SHA-256 of its DER bytes
(:func:`tls_fingerprint`), learnt at pairing or given on the command line, so no
public CA is involved. X.509 is used only because TLS requires it; every other certificate in
Invigil is signed JSON (``exam_core.certs``).
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import socket
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from exam_core.files import write_atomic
from exam_core.timestamps import utc_now

DEFAULT_DAYS = 825  # the longest validity browsers still accept for a TLS server certificate
_BACKDATE = datetime.timedelta(minutes=5)  # tolerate a client clock slightly behind ours


def tls_fingerprint(der: bytes) -> str:
    """SHA-256 of the DER certificate, lower-case hex: what a kiosk or a console pins."""
    return hashlib.sha256(bytes(der)).hexdigest()


def make_self_signed(cert_path: Path, key_path: Path, common_name: str, days: int = DEFAULT_DAYS) -> str:
    """Write a P-256 key (0600) and a self-signed certificate for this host; return its fingerprint.

    The names cover ``localhost``, this host's name, 127.0.0.1 and ::1; clients do not check them
    (trust comes from the pin), but tools such as curl and browsers show them.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    hosts = sorted(h for h in {"localhost", socket.gethostname()} if h)
    alt = [x509.DNSName(h) for h in hosts] + [
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address("::1"))]
    now = utc_now()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256()))
    write_atomic(Path(key_path), key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()), 0o600)
    write_atomic(Path(cert_path), cert.public_bytes(serialization.Encoding.PEM))
    return tls_fingerprint(cert.public_bytes(serialization.Encoding.DER))


def certificate_fingerprint(cert_path: Path) -> str:
    """The pin of a PEM certificate file (SHA-256 of its DER bytes, lowercase hex)."""
    cert = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
    return tls_fingerprint(cert.public_bytes(serialization.Encoding.DER))
