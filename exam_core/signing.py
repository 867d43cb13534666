"""Ed25519 signatures over exact bytes, bound to a purpose and the format version.

The signed message is ``b"invigil/v1" NUL purpose NUL payload``. Signing the exact payload bytes
(never a re-serialised object) means the verifier checks what the signer produced, byte for byte;
the purpose prefix means a signature made for one use never verifies for another.

A *signed document* carries such a signature with its payload::

    {"format": "invigil-signed", "v": 1, "purpose": P, "signer": KEY_ID,
     "payload": base64(payload bytes), "signature": base64(64 bytes)}

``open_signed`` verifies the signature over the payload bytes before it parses them.
"""

from __future__ import annotations

import binascii
from typing import Any, NamedTuple
from collections.abc import Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from exam_core import limits, purposes
from exam_core.errors import (MalformedError, TamperedError, UnknownVersionError, ValidationError,
                              WrongKeyError, WrongPurposeError)
from exam_core.jsonio import b64d, b64e, canonical_dumps, loads_strict
from exam_core.keys import key_id

SIGNED_FORMAT = "invigil-signed"
_DOC_FIELDS = {"format", "v", "purpose", "signer", "payload", "signature"}

#: Either a public key or a callable resolving a signer key id to a public key. A resolver
#: raises ``UntrustedError`` (or ``WrongKeyError``) for a signer it does not know.
KeySource = Ed25519PublicKey | Callable[[str], Ed25519PublicKey]


class SignedDocument(NamedTuple):
    """A verified signed document: the exact payload bytes, the parsed payload, the signer's key id."""

    payload_bytes: bytes
    payload: dict[str, Any]
    signer: str


class UnverifiedDocument(NamedTuple):
    """The fields of a signed document before its signature is checked (never trust these)."""

    purpose: str
    signer: str
    payload_bytes: bytes
    signature: bytes


def _message(purpose: str, payload: bytes) -> bytes:
    return purposes.bind(purpose) + bytes(payload)


def sign(private: Ed25519PrivateKey, purpose: str, payload: bytes) -> bytes:
    """Sign ``invigil/v1 NUL purpose NUL payload``; returns the 64-byte signature."""
    if not isinstance(private, Ed25519PrivateKey):
        raise ValidationError("private", "must be an Ed25519 private key")
    return private.sign(_message(purpose, payload))


def verify(public: Ed25519PublicKey, purpose: str, payload: bytes, signature: bytes) -> None:
    """Raise ``TamperedError`` unless ``signature`` signs ``payload`` for ``purpose`` with ``public``."""
    if not isinstance(public, Ed25519PublicKey):
        raise ValidationError("public", "must be an Ed25519 public key")
    try:
        public.verify(bytes(signature), _message(purpose, payload))
    except InvalidSignature:
        raise TamperedError(f"{purpose} signature does not verify") from None


def _resolve(key: KeySource, signer: str) -> Ed25519PublicKey:
    """The public key for ``signer``: the given key if it is the signer's, else the resolver's."""
    if isinstance(key, Ed25519PublicKey):
        if key_id(key) != signer:
            raise WrongKeyError(f"signed by key {signer}, expected {key_id(key)}")
        return key
    if callable(key):
        public = key(signer)
        if not isinstance(public, Ed25519PublicKey) or key_id(public) != signer:
            raise WrongKeyError(f"resolver returned no valid key for signer {signer}")
        return public
    raise ValidationError("key", "must be an Ed25519 public key or a resolver")


def make_signed(private: Ed25519PrivateKey, purpose: str, payload: dict[str, Any] | bytes) -> bytes:
    """A signed document over ``payload`` (a dict is canonicalised first)."""
    payload_bytes = canonical_dumps(payload) if isinstance(payload, dict) else bytes(payload)
    signature = sign(private, purpose, payload_bytes)
    return signed_document_bytes(purpose, key_id(private), payload_bytes, signature)


def signed_document_bytes(purpose: str, signer: str, payload: bytes, signature: bytes) -> bytes:
    """``canonical_dumps`` of the signed document, assembled directly.

    Equal byte for byte to ``canonical_dumps({"format", "v", "purpose", "signer", "payload",
    "signature"})`` (keys in sorted order; base64, hex key ids and purposes need no JSON escaping),
    but without running the JSON encoder over the base64 payload, which dominates for large payloads.
    """
    purpose_ascii = purposes.check_purpose(purpose)
    if not isinstance(signer, str) or not signer.isalnum() or not signer.isascii():
        raise ValidationError("signer", "must be a key id")
    return b"".join((b'{"format":"', SIGNED_FORMAT.encode(),
                     b'","payload":"', binascii.b2a_base64(payload, newline=False),
                     b'","purpose":"', purpose_ascii,
                     b'","signature":"', binascii.b2a_base64(signature, newline=False),
                     b'","signer":"', signer.encode("ascii"), b'","v":1}'))


def read_unverified(data: bytes, max_bytes: int = limits.SIGNED_DOC_MAX_BYTES) -> UnverifiedDocument:
    """Parse a signed document's envelope without checking anything but its shape and version."""
    doc = loads_strict(data, max_bytes=max_bytes)
    if not isinstance(doc, dict) or doc.get("format") != SIGNED_FORMAT:
        raise MalformedError("not an Invigil signed document")
    if doc.get("v") != 1:
        raise UnknownVersionError(f"unknown signed document version {doc.get('v')!r}")
    if set(doc) != _DOC_FIELDS:
        raise MalformedError(f"fields must be exactly {sorted(_DOC_FIELDS)}")
    purpose, signer = doc["purpose"], doc["signer"]
    if not isinstance(purpose, str) or not isinstance(signer, str):
        raise MalformedError("purpose and signer must be strings")
    signature = b64d(doc["signature"], "signature", 64)
    if len(signature) != 64:
        raise MalformedError("signature must be 64 bytes", "signature")
    return UnverifiedDocument(purpose, signer, b64d(doc["payload"], "payload"), signature)


def check_signature(doc: UnverifiedDocument, key: KeySource, purpose: str) -> Ed25519PublicKey:
    """Verify an already parsed document: purpose, signer, signature. Returns the signer's key."""
    if doc.purpose != purpose:
        raise WrongPurposeError(f"signed for {doc.purpose!r}, expected {purpose!r}")
    public = _resolve(key, doc.signer)
    verify(public, purpose, doc.payload_bytes, doc.signature)
    return public


def parse_payload(doc: UnverifiedDocument, max_bytes: int = limits.SIGNED_DOC_MAX_BYTES) -> dict[str, Any]:
    """The payload of a document as a strict JSON object (call after ``check_signature``)."""
    payload = loads_strict(doc.payload_bytes, max_bytes=max_bytes)
    if not isinstance(payload, dict):
        raise MalformedError("signed payload must be a JSON object")
    return payload


def open_signed(data: bytes, key: KeySource, purpose: str,
                max_bytes: int = limits.SIGNED_DOC_MAX_BYTES) -> SignedDocument:
    """Verify a signed document and return its payload.

    Order of checks: shape and version (``MalformedError``/``UnknownVersionError``), purpose
    (``WrongPurposeError``), signer against the given key or resolver (``WrongKeyError``, or the
    resolver's ``UntrustedError``), signature (``TamperedError``), and only then the payload is
    parsed as strict JSON, which must be an object.
    """
    doc = read_unverified(data, max_bytes)
    check_signature(doc, key, purpose)
    return SignedDocument(doc.payload_bytes, parse_payload(doc, max_bytes), doc.signer)


# ----- detached signatures -----------------------------------------------------------------------

DETACHED_FORMAT = "invigil-detached-signature"
_DETACHED_FIELDS = {"format", "v", "purpose", "signer", "signature"}


def make_detached(private: Ed25519PrivateKey, purpose: str, payload: bytes) -> bytes:
    """A signature record over ``payload`` kept beside it (e.g. ``manifest.sig`` in a package)."""
    return canonical_dumps({
        "format": DETACHED_FORMAT, "v": 1, "purpose": purposes.check_purpose(purpose).decode(),
        "signer": key_id(private), "signature": b64e(sign(private, purpose, payload)),
    })


def read_detached(record: bytes) -> tuple[str, str, bytes]:
    """(purpose, signer key id, signature) of a detached signature record, unverified."""
    doc = loads_strict(record, max_bytes=limits.MANIFEST_SIG_MAX_BYTES)
    if not isinstance(doc, dict) or doc.get("format") != DETACHED_FORMAT:
        raise MalformedError("not an Invigil detached signature")
    if doc.get("v") != 1:
        raise UnknownVersionError(f"unknown detached signature version {doc.get('v')!r}")
    if set(doc) != _DETACHED_FIELDS or not isinstance(doc["purpose"], str) or not isinstance(doc["signer"], str):
        raise MalformedError(f"fields must be exactly {sorted(_DETACHED_FIELDS)}")
    signature = b64d(doc["signature"], "signature", 64)
    if len(signature) != 64:
        raise MalformedError("signature must be 64 bytes", "signature")
    return doc["purpose"], doc["signer"], signature


def verify_detached(record: bytes, payload: bytes, key: KeySource, purpose: str) -> str:
    """Verify a detached signature record over ``payload``; returns the signer's key id.

    Raises the same errors, in the same order, as ``open_signed``.
    """
    signed_purpose, signer, signature = read_detached(record)
    if signed_purpose != purpose:
        raise WrongPurposeError(f"signed for {signed_purpose!r}, expected {purpose!r}")
    verify(_resolve(key, signer), purpose, payload, signature)
    return signer
