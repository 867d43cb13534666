"""A small PKI for tests: central root, one centre, one kiosk, with all their keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exam_core import certs, keys


@dataclass
class Pki:
    central: Ed25519PrivateKey
    results: keys.HpkePrivateKey
    centre: Ed25519PrivateKey
    centre_hpke: keys.HpkePrivateKey
    kiosk: Ed25519PrivateKey
    kiosk_hpke: keys.HpkePrivateKey
    root_cert: bytes
    centre_cert: bytes
    kiosk_cert: bytes

    @property
    def chain(self) -> list[bytes]:
        return [self.centre_cert, self.kiosk_cert]


def make_pki(not_before: datetime | None = None, not_after: datetime | None = None,
             suite: str = keys.SUITE_X25519, results_suite: str = keys.DEFAULT_SUITE) -> Pki:
    central, centre, kiosk = (keys.generate_signing_key() for _ in range(3))
    results = keys.generate_hpke_key(results_suite)
    centre_hpke, kiosk_hpke = keys.generate_hpke_key(suite), keys.generate_hpke_key(suite)
    root = certs.make_root_certificate(central, "central", results.public_key())
    centre_cert = certs.issue_certificate(central, "central", "centre-1", "centre", centre.public_key(),
                                          centre_hpke.public_key(), not_before, not_after)
    kiosk_cert = certs.issue_certificate(centre, "centre-1", "kiosk-7", "kiosk", kiosk.public_key(),
                                         kiosk_hpke.public_key(), not_before, not_after)
    return Pki(central, results, centre, centre_hpke, kiosk, kiosk_hpke, root, centre_cert, kiosk_cert)
