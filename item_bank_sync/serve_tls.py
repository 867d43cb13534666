"""The sync API's TLS certificate: self-signed, made at the first ``serve``, pinned by centres.

Centres pin its SHA-256 fingerprint (``exam_core.protocol.tls_fingerprint``) on first contact or
from ``--tls-fingerprint``; the content itself is protected end to end by signatures and HPKE,
so TLS here hides metadata and keeps a passive observer from learning which centre syncs what.
(The console makes its own certificate the same way in ``proctor_console.tlscert``; tiers do not
import each other, so a shared helper would belong in ``exam_core``.)
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from exam_core.protocol import tls_fingerprint

TLS_DIR = "tls"


def ensure_tls_certificate(data_dir: Path, common_name: str = "invigil-central") -> tuple[Path, Path, str]:
    """``(cert_path, key_path, fingerprint)``, creating a P-256 certificate on first use."""
    tls_dir = Path(data_dir) / TLS_DIR
    tls_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    cert_path, key_path = tls_dir / "sync.crt", tls_dir / "sync.key"
    if not (cert_path.exists() and key_path.exists()):
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                       .public_key(key.public_key()).serial_number(x509.random_serial_number())
                       .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=825))
                       .add_extension(x509.SubjectAlternativeName(names), critical=False)
                       .sign(key, hashes.SHA256()))
        pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem_key)
        cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    der = x509.load_pem_x509_certificate(cert_path.read_bytes()).public_bytes(serialization.Encoding.DER)
    return cert_path, key_path, tls_fingerprint(der)
