"""Artefacts for tests: a small PKI (central root, one centre, one kiosk), envelopes, packages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exam_core import certs, envelope, keys, package
from exam_core.timestamps import utc_now


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


PAYLOAD = {"responses": [{"item_id": "I1", "value": "A", "seq": 1}, {"item_id": "I2", "value": ["B", "C"], "seq": 2}],
           "events": 3}


def seal(pki, payload=PAYLOAD, **over):
    fields = {"attempt_id": "att-1", "centre_id": "centre-1", "kiosk_id": "kiosk-7", "form_id": "F1",
              "form_version": 2, "package_id": "pkg-1", "kiosk_signing_key": pki.kiosk, "chain": pki.chain,
              "results_public": pki.results.public_key(), "envelope_id": "env-1"}
    fields.update(over)
    return envelope.seal_envelope(payload, **fields)


def build(signing_key, centre_public, content=b"form content " * 100, code=False, **over):
    now = utc_now()
    fields: dict[str, Any] = {"package_id": "pkg-1", "form_id": "F1", "form_version": 2, "scheme_id": "S1",
                              "centre_id": "centre-1",
              "opens": now - timedelta(hours=1), "closes": now + timedelta(hours=8), "title": "Demo",
              "duration_seconds": 3600, "item_count": 3}
    fields.update(over)
    return package.build_form_package(content, signing_key=signing_key, centre_hpke_public=centre_public,
                                      with_release_code=code, **fields)
