"""Pairing a kiosk with its console: a one-time code, two MAC-sealed messages, one certificate.

A centre admin creates a pairing code on the console (12 Crockford base32 characters, 60 bits,
shown as ``XXXX-XXXX-XXXX``, valid ``PAIRING_CODE_TTL_SECONDS``; wrong attempts slow only the
address that sends them, at the console) and types it into the kiosk. The kiosk sends its public
keys in a :class:`PairRequest` (``POST PAIR_PATH``); the console answers with a
:class:`PairResponse` carrying the kiosk certificate and its own TLS certificate. Both are sealed
with an HMAC keyed by the code (HKDF-SHA256, purpose-bound), which is what authenticates the two
ends to each other before any certificate exists: the kiosk's first TLS connection cannot be
verified yet, so the kiosk compares the fingerprint inside the MAC-checked response with the
certificate it saw on that very connection, and pins it from then on.

Why a separate module from :mod:`exam_core.protocol`: pairing runs once per kiosk over plain
HTTPS, before the challenge login and the Socket.IO messages exist, with its own crypto (the
code's MAC); the narrative is in docs/PROTOCOL.md.
"""

from __future__ import annotations

import hmac as _std_hmac
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from exam_core import limits, purposes
from exam_core.errors import MalformedError, TamperedError, ValidationError
from exam_core.jsonio import b64d, b64e, canonical_dumps, loads_strict
from exam_core.model import IDENTIFIER_RE, SHA256_RE
from exam_core.records import Fields, Record

#: The ``v`` of both pairing messages and of their MAC-sealed wrapper (the kiosk <-> console
#: protocol's version when pairing was split out of it; it changes when a pairing shape changes).
PAIRING_VERSION = 1
#: HTTPS endpoint of the console where a kiosk posts its sealed pairing request.
PAIR_PATH = "/kiosk/pair"
#: Seconds a pairing code stays valid. PAIRING_MAX_FAILURES: wrong attempts an address may make
#: before the console holds it back (it burns no code: anyone's failures would burn them all).
PAIRING_CODE_TTL_SECONDS = 600
PAIRING_MAX_FAILURES = 5
#: Crockford base32 (no I, L, O, U): 12 characters = 60 bits, shown as XXXX-XXXX-XXXX.
PAIRING_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PAIRING_CODE_CHARS = 12
#: MAC purposes of the two messages (a request can never be replayed as a response).
PAIRING_REQUEST = "kiosk-pairing-request"
PAIRING_RESPONSE = "kiosk-pairing-response"
#: Largest pairing payload either end accepts.
MAX_PAYLOAD_BYTES = 64 * limits.KIB
_PAIRING_KEY_INFO = purposes.bind("kiosk-pairing-key")


def new_pairing_code() -> str:
    """A fresh random code, grouped ``XXXX-XXXX-XXXX`` for reading aloud and typing."""
    raw = "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(PAIRING_CODE_CHARS))
    return "-".join(raw[i:i + 4] for i in range(0, PAIRING_CODE_CHARS, 4))


def normalise_pairing_code(code: str) -> str:
    """Upper-case, drop separators and map look-alikes (O->0, I/L->1) as Crockford base32 does."""
    if not isinstance(code, str) or len(code) > 40:
        raise ValidationError("code", "must be a pairing code")
    text = code.upper().replace("-", "").replace(" ", "").translate(str.maketrans("OIL", "011"))
    if len(text) != PAIRING_CODE_CHARS or any(c not in PAIRING_ALPHABET for c in text):
        raise ValidationError("code", f"must be {PAIRING_CODE_CHARS} characters of {PAIRING_ALPHABET}")
    return text


def pairing_key(code: str) -> bytes:
    """The HMAC key both ends derive from the one-time code (HKDF-SHA256, purpose-bound)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=_PAIRING_KEY_INFO).derive(normalise_pairing_code(code).encode("ascii"))


def _pairing_mac(key: bytes, purpose: str, payload: bytes) -> bytes:
    mac = _hmac.HMAC(key, hashes.SHA256())
    mac.update(purposes.bind(purpose) + payload)
    return mac.finalize()


def seal_pairing(code: str, purpose: str, payload: dict[str, Any]) -> dict[str, Any]:
    """``{"v", "payload": base64(canonical JSON), "mac": base64(HMAC)}`` keyed by the code."""
    return seal_pairing_with_key(pairing_key(code), purpose, payload)


def seal_pairing_with_key(key: bytes, purpose: str, payload: dict[str, Any]) -> dict[str, Any]:
    """As ``seal_pairing`` with the derived key (the console keeps the key, not the code)."""
    body = canonical_dumps(payload)
    return {"v": PAIRING_VERSION, "payload": b64e(body), "mac": b64e(_pairing_mac(key, purpose, body))}


def open_pairing(code: str, purpose: str, message: Any) -> dict[str, Any]:
    """Check a pairing message's MAC (constant time) and return its parsed payload."""
    return open_pairing_with_key(pairing_key(code), purpose, message)


def open_pairing_with_key(key: bytes, purpose: str, message: Any) -> dict[str, Any]:
    """As ``open_pairing`` with the derived key; the payload is parsed only after the MAC verified."""
    r = Fields(message, "")
    r.version(PAIRING_VERSION)
    body = b64d(r.b64("payload", MAX_PAYLOAD_BYTES), "payload")
    mac = b64d(r.b64("mac", 32), "mac")
    r.done()
    if not _std_hmac.compare_digest(_pairing_mac(key, purpose, body), mac):
        raise TamperedError("pairing MAC does not verify (wrong code or altered message)")
    payload = loads_strict(body, max_bytes=MAX_PAYLOAD_BYTES)
    if not isinstance(payload, dict):
        raise MalformedError("pairing payload must be an object")
    return payload


@dataclass(frozen=True)
class PairRequest(Record):
    """Kiosk -> console (``POST PAIR_PATH``, sealed with ``PAIRING_REQUEST``): keys to certify."""

    kiosk_id: str
    signing_key: dict[str, Any]     # exam_core.keys.public_key_to_dict of the Ed25519 device key
    hpke_key: dict[str, Any]        # exam_core.keys.public_key_to_dict of the HPKE key
    nonce: str                      # base64 16 random bytes, echoed in the response
    software_version: str = ""
    v: int = PAIRING_VERSION

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> PairRequest:
        r = Fields(data, path)
        r.version(PAIRING_VERSION)
        out = cls(
            kiosk_id=r.str("kiosk_id", pattern=IDENTIFIER_RE),
            signing_key=r.dict("signing_key", max_len=3),
            hpke_key=r.dict("hpke_key", max_len=3),
            nonce=r.b64("nonce", 16),
            software_version=r.str("software_version", "", max_len=100),
        )
        r.done()
        return out


@dataclass(frozen=True)
class PairResponse(Record):
    """Console -> kiosk (sealed with ``PAIRING_RESPONSE``): the kiosk certificate and the TLS pin.

    The kiosk compares ``tls_fingerprint_sha256`` with the certificate it saw on this very
    connection before trusting anything, then pins ``tls_certificate_pem`` for every later
    connection (TLS verification against that single certificate, hostname not checked).
    """

    kiosk_id: str
    console_id: str
    centre_id: str
    nonce: str
    kiosk_certificate: str          # signed document text (exam_core.certs, role kiosk)
    centre_certificate: str | None  # signed document text (role centre), once installed
    tls_certificate_pem: str
    tls_fingerprint_sha256: str
    v: int = PAIRING_VERSION

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> PairResponse:
        r = Fields(data, path)
        r.version(PAIRING_VERSION)
        out = cls(
            kiosk_id=r.str("kiosk_id", pattern=IDENTIFIER_RE),
            console_id=r.str("console_id", pattern=IDENTIFIER_RE),
            centre_id=r.str("centre_id", pattern=IDENTIFIER_RE),
            nonce=r.b64("nonce", 16),
            kiosk_certificate=r.str("kiosk_certificate", max_len=limits.SIGNED_DOC_MAX_BYTES),
            centre_certificate=r.str("centre_certificate", None, max_len=limits.SIGNED_DOC_MAX_BYTES,
                                     nullable=True),
            tls_certificate_pem=r.str("tls_certificate_pem", max_len=16 * limits.KIB),
            tls_fingerprint_sha256=r.str("tls_fingerprint_sha256", pattern=SHA256_RE),
        )
        r.done()
        return out
