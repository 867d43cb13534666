"""Who this console is: the centre's identifiers, keys and TLS certificate, fixed once ``init`` ran.

Why a value of its own: the services that sign, unwrap or name the centre (kiosk pairing and
revocation, key release, envelope checks, reports) receive exactly this, not the data directory
it was read from, so they cannot reach for anything else there.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exam_core.keys import HpkePrivateKey


@dataclass(frozen=True)
class Centre:
    centre_id: str
    console_id: str
    name: str
    #: The centre key certified by the central body: signs kiosk certificates and revocations.
    signing_key: Ed25519PrivateKey
    #: Unwraps the content keys of form packages addressed to this centre.
    hpke_key: HpkePrivateKey
    #: The console's self-signed TLS certificate, which kiosks pin at pairing.
    tls_certificate_pem: str
    tls_fingerprint: str
