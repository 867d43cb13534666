"""The sync API's TLS certificate: self-signed, made at the first ``serve``, pinned by centres.

Centres pin its SHA-256 fingerprint (``exam_core.tls.tls_fingerprint``) on first contact or
from ``--tls-fingerprint``; the content itself is protected end to end by signatures and HPKE,
so TLS here hides metadata and keeps a passive observer from learning which centre syncs what.
The certificate is made by ``exam_core.tls``, as the console's is.
"""

from __future__ import annotations

from pathlib import Path

from exam_core.tls import certificate_fingerprint, make_self_signed

TLS_DIR = "tls"


def ensure_tls_certificate(data_dir: Path, common_name: str = "invigil-central") -> tuple[Path, Path, str]:
    """``(cert_path, key_path, fingerprint)``, creating a P-256 certificate on first use."""
    tls_dir = Path(data_dir) / TLS_DIR
    tls_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    cert_path, key_path = tls_dir / "sync.crt", tls_dir / "sync.key"
    if not (cert_path.exists() and key_path.exists()):
        make_self_signed(cert_path, key_path, common_name)
    return cert_path, key_path, certificate_fingerprint(cert_path)
