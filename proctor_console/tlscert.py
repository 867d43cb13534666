"""The console's own TLS certificate: self-signed X.509, made once at ``init``.

Kiosks pin it at pairing (SHA-256 of the DER bytes), so no public CA is involved; X.509 is used
here only because TLS requires it (every other certificate in Invigil is signed JSON).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from exam_core.protocol import tls_fingerprint


def make_tls_certificate(cert_path: Path, key_path: Path, common_name: str, days: int = 825) -> str:
    """Write a P-256 key (0600) and a self-signed certificate; return the pinned fingerprint."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    hosts = {"localhost", socket.gethostname()}
    alt = [x509.DNSName(h) for h in sorted(hosts) if h] + [
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address("::1"))]
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256()))
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return tls_fingerprint(cert.public_bytes(serialization.Encoding.DER))


def certificate_fingerprint(cert_path: Path) -> str:
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return tls_fingerprint(cert.public_bytes(serialization.Encoding.DER))
