"""HPKE (RFC 9180) sealing with a purpose and context bound into ``info``.

Sealed bytes::

    suite_id (1) || recipient key id prefix (8) || purpose tag (4) || HPKE enc || AEAD ciphertext

``suite_id`` is 0x01 for ML-KEM-768+X25519 / HKDF-SHA256 / AES-256-GCM and 0x02 for
X25519 / HKDF-SHA256 / AES-256-GCM. ``info`` is ``invigil/v1 NUL purpose NUL context``; since
``Suite.encrypt`` takes no AAD, the context (e.g. a package or envelope id) is bound there.

The 13-byte prefix is a routing hint, not a security boundary (the AEAD covers the key and the
purpose through the KEM and ``info``). It exists so failures can be told apart:
``UnknownVersionError`` (unknown suite id), ``WrongKeyError`` (suite or key id prefix differs from
the private key's), ``WrongPurposeError`` (purpose tag differs), ``MalformedError`` (too short),
and ``TamperedError`` for any AEAD failure, which includes a mismatched context.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke as _hpke

from exam_core import limits, purposes
from exam_core.errors import (MalformedError, TamperedError, TooLargeError, UnknownVersionError,
                              ValidationError, WrongKeyError, WrongPurposeError)
from exam_core.keys import SUITE_HYBRID, SUITE_X25519, HpkePrivateKey, HpkePublicKey, key_id

_SUITES = {
    SUITE_HYBRID: (0x01, _hpke.Suite(_hpke.KEM.MLKEM768_X25519, _hpke.KDF.HKDF_SHA256, _hpke.AEAD.AES_256_GCM)),
    SUITE_X25519: (0x02, _hpke.Suite(_hpke.KEM.X25519, _hpke.KDF.HKDF_SHA256, _hpke.AEAD.AES_256_GCM)),
}
_SUITE_BY_ID = {number: name for name, (number, _) in _SUITES.items()}
_KEY_HINT = 8
_PURPOSE_TAG = 4
HEADER_LEN = 1 + _KEY_HINT + _PURPOSE_TAG
#: Smallest possible sealed size per suite (header + enc + 16-byte tag), to refuse short input.
_MIN_BODY = {SUITE_HYBRID: 1120 + 16, SUITE_X25519: 32 + 16}


def _purpose_tag(purpose: str) -> bytes:
    return hashlib.sha256(purposes.bind(purpose)).digest()[:_PURPOSE_TAG]


def _key_hint(public: HpkePublicKey) -> bytes:
    return bytes.fromhex(key_id(public))[:_KEY_HINT]


def seal(public: HpkePublicKey, purpose: str, plaintext: bytes, context: bytes = b"") -> bytes:
    """Encrypt ``plaintext`` to ``public`` for ``purpose``; ``context`` must match when opening."""
    if not isinstance(public, HpkePublicKey):
        raise ValidationError("public", "must be an HpkePublicKey")
    if len(plaintext) > limits.HPKE_MAX_PLAINTEXT:
        raise TooLargeError(f"plaintext of {len(plaintext)} bytes exceeds {limits.HPKE_MAX_PLAINTEXT}")
    number, suite = _SUITES[public.suite]
    body = suite.encrypt(bytes(plaintext), public.native, info=purposes.bind(purpose, context))
    return bytes([number]) + _key_hint(public) + _purpose_tag(purpose) + body


def open_sealed(private: HpkePrivateKey, purpose: str, sealed: bytes, context: bytes = b"") -> bytes:
    """Decrypt bytes made by ``seal``; see the module docstring for which error means what."""
    if not isinstance(private, HpkePrivateKey):
        raise ValidationError("private", "must be an HpkePrivateKey")
    sealed = bytes(sealed)
    if len(sealed) < HEADER_LEN:
        raise MalformedError("sealed data too short")
    suite_name = _SUITE_BY_ID.get(sealed[0])
    if suite_name is None:
        raise UnknownVersionError(f"unknown HPKE suite id {sealed[0]:#04x}")
    if suite_name != private.suite or sealed[1:1 + _KEY_HINT] != _key_hint(private.public_key()):
        raise WrongKeyError(f"sealed to another key (suite {suite_name}, key id prefix "
                            f"{sealed[1:1 + _KEY_HINT].hex()}), not {key_id(private.public_key())}")
    if sealed[1 + _KEY_HINT:HEADER_LEN] != _purpose_tag(purpose):
        raise WrongPurposeError(f"not sealed for {purpose!r}")
    body = sealed[HEADER_LEN:]
    if len(body) < _MIN_BODY[suite_name]:
        raise MalformedError("sealed data too short")
    try:
        return _SUITES[suite_name][1].decrypt(body, private.native, info=purposes.bind(purpose, context))
    except InvalidTag:
        raise TamperedError(f"{purpose} ciphertext fails authentication (modified, or wrong context)") from None


def sealed_recipient_hint(sealed: bytes) -> tuple[str, str]:
    """(suite name, key id prefix hex) of sealed bytes, for routing before opening."""
    if len(sealed) < HEADER_LEN or sealed[0] not in _SUITE_BY_ID:
        raise MalformedError("not HPKE-sealed Invigil data")
    return _SUITE_BY_ID[sealed[0]], bytes(sealed[1:1 + _KEY_HINT]).hex()
