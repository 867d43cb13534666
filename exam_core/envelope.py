"""Sealed response envelopes: what a kiosk submits and only the central body can open.

Wire form, version 2: exactly the canonical JSON (sorted keys, no whitespace) of::

    {"chain": [base64(centre certificate), base64(kiosk certificate)],
     "ciphertext": base64(HPKE seal to the results key, purpose "response-envelope",
                          context CONTEXT, of the payload as canonical JSON),
     "format": "invigil-envelope",
     "header": base64(signed document, purpose "envelope-header", kiosk key),
     "v": 2}

    CONTEXT = ["invigil-envelope", "2", envelope_id, attempt_id, centre_id, kiosk_id, form_id,
               package_id, form_version, header signer's key id]        (purposes.context)

The header (ids, created time, ``ciphertext_sha256``/``ciphertext_size``, ``results_key_id``) lets the
console and the sync path check who sent what and that nothing was changed, without the results key.

Why one signature, not two (version 1 also signed the payload inside the ciphertext). The kiosk's
header signature covers the SHA-256 of the exact ciphertext, and HPKE decryption is deterministic:
under the results key the header names (``results_key_id``, checked) and the ``info`` above, a
ciphertext opens to exactly one plaintext, so the signature already commits the kiosk to the
payload. ``info`` binds the format and version, every id of the header and the signer's key id,
which closes the classic gap of encrypt-then-sign: a second kiosk (or a re-paired key of the same
kiosk) that re-signs a captured ciphertext under its own header, to claim content it cannot read,
changes the context and the AEAD refuses it; moving a ciphertext under another envelope's header
changes the hash. Given up is only a proof of the plaintext that stands without the envelope: the
opened payload is attributable through the verified header ``open_envelope`` returns with it
(``EnvelopeHeader.header_bytes``, the signed document) and the exact envelope bytes the central
body keeps (receipts name their hash); anyone holding the results key can re-check it.

The payload is encoded to JSON once and base64-encoded once (version 1: twice each), the
ciphertext is hashed once on each side, and one Ed25519 signature is made and checked. Readers
accept only the canonical bytes (one byte form per envelope) and find the three fields by their
fixed separators instead of running the JSON parser over the ciphertext. Verified certificate
chains are cached by ``certs.verify_chain``. ``python -m bench sealing`` compares the whole with
the raw primitives it needs (one Ed25519 signature over the header message, one HPKE seal).

Version 1 envelopes are refused (``UnknownVersionError``): none were ever in production.
"""

from __future__ import annotations

import binascii
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn
from collections.abc import Iterable, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from exam_core import certs, hpke, limits, model, purposes, signing
from exam_core.errors import (MalformedError, TamperedError, TooLargeError, UnknownVersionError,
                              UntrustedError, ValidationError, WrongKeyError)
from exam_core.jsonio import b64d, canonical_dumps, loads_strict
from exam_core.timestamps import format_time, parse_time, utc_now
from exam_core.keys import HpkePrivateKey, HpkePublicKey, key_id

ENVELOPE_FORMAT = "invigil-envelope"
HEADER_FORMAT = "invigil-envelope-header"
VERSION = 2
_OUTER_FIELDS = {"format", "v", "header", "chain", "ciphertext"}
_ID_FIELDS = ("envelope_id", "attempt_id", "centre_id", "kiosk_id", "form_id", "package_id")
_HEADER_FIELDS = {"format", "v", *_ID_FIELDS, "form_version", "created", "ciphertext_sha256",
                  "ciphertext_size", "results_key_id"}


@dataclass(frozen=True)
class EnvelopeHeader:
    """The signed outer header of an envelope (verified unless read with ``read_unverified_header``)."""

    envelope_id: str
    attempt_id: str
    centre_id: str
    kiosk_id: str
    form_id: str
    form_version: int
    package_id: str
    created: str
    ciphertext_sha256: str
    ciphertext_size: int
    results_key_id: str
    signer_key_id: str
    header_bytes: bytes

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in (*_ID_FIELDS, "form_version", "created",
                "ciphertext_sha256", "ciphertext_size", "results_key_id", "signer_key_id")}


@dataclass(frozen=True)
class _Parts:
    header_doc: bytes
    chain: list[bytes]
    ciphertext: bytes


def envelope_hash(data: bytes) -> str:
    """Hex SHA-256 of the exact envelope bytes: what receipts and acks refer to."""
    return hashlib.sha256(data).hexdigest()


def _check_id(value: Any, name: str) -> str:
    if not isinstance(value, str) or not model.IDENTIFIER_RE.match(value):
        raise ValidationError(name, "must be an identifier (letters, digits, _ . -; at most 128)")
    return value


def _payload_context(ids: dict[str, str], form_version: int, signer: str) -> bytes:
    """The HPKE context: format, version, every id of the header and the signer's key id."""
    return purposes.context(ENVELOPE_FORMAT, str(VERSION), *(ids[name] for name in _ID_FIELDS),
                            str(form_version), signer)


def _encode_payload(payload: Any) -> bytes:
    if not isinstance(payload, dict):
        raise ValidationError("payload", "must be a dict")
    try:
        return canonical_dumps(payload)
    except ValidationError as exc:
        raise ValidationError("payload", exc.reason) from None


def seal_envelope(payload: dict[str, Any], **header: Any) -> bytes:
    """Seal ``payload`` (a dict, canonicalised here) as :func:`seal_envelope_bytes` does."""
    return seal_envelope_bytes(_encode_payload(payload), **header)


def seal_envelope_bytes(plaintext: bytes, *, attempt_id: str, centre_id: str, kiosk_id: str,
                        form_id: str, form_version: int, package_id: str, kiosk_signing_key: Ed25519PrivateKey,
                        chain: Sequence[bytes], results_public: HpkePublicKey, envelope_id: str | None = None,
                        created: datetime | None = None) -> bytes:
    """Seal the payload's canonical JSON bytes (the kiosk seals ``exam_core.result.AttemptResult.to_bytes()``)
    to the results key (context bound to the header's ids), and sign the header."""
    if len(plaintext) > limits.ENVELOPE_PAYLOAD_MAX_BYTES:
        raise TooLargeError(f"payload of {len(plaintext)} bytes exceeds {limits.ENVELOPE_PAYLOAD_MAX_BYTES}")
    envelope_id = envelope_id or f"env-{uuid.uuid4().hex}"
    ids = {"envelope_id": envelope_id, "attempt_id": attempt_id, "centre_id": centre_id,
           "kiosk_id": kiosk_id, "form_id": form_id, "package_id": package_id}
    for name, value in ids.items():
        _check_id(value, name)
    if not isinstance(form_version, int) or isinstance(form_version, bool) or form_version < 1:
        raise ValidationError("form_version", "must be a positive integer")
    if not isinstance(kiosk_signing_key, Ed25519PrivateKey):
        raise ValidationError("kiosk_signing_key", "must be an Ed25519 private key")
    signer = key_id(kiosk_signing_key)
    ciphertext = hpke.seal(results_public, purposes.RESPONSE_ENVELOPE, bytes(plaintext),
                           _payload_context(ids, form_version, signer))
    header_payload = canonical_dumps({
        "format": HEADER_FORMAT, "v": VERSION, **ids, "form_version": form_version,
        "created": format_time(created or utc_now()),
        "ciphertext_sha256": hashlib.sha256(ciphertext).hexdigest(), "ciphertext_size": len(ciphertext),
        "results_key_id": key_id(results_public)})
    header = signing.signed_document_bytes(purposes.ENVELOPE_HEADER, signer, header_payload, signing.sign(
        kiosk_signing_key, purposes.ENVELOPE_HEADER, header_payload))
    data = _envelope_bytes(header, chain, ciphertext)
    if len(data) > limits.ENVELOPE_MAX_BYTES:
        raise TooLargeError(f"envelope of {len(data)} bytes exceeds {limits.ENVELOPE_MAX_BYTES}")
    return data


def _envelope_bytes(header: bytes, chain: Sequence[bytes], ciphertext: bytes) -> bytes:
    """``canonical_dumps`` of the outer object, assembled directly (keys sorted; base64 needs no
    escaping) so the JSON encoder never scans the ciphertext. Tests check the equality."""

    def quoted(raw: bytes) -> bytes:
        return b'"' + binascii.b2a_base64(raw, newline=False) + b'"'

    return b"".join((b'{"chain":[', b",".join(quoted(c) for c in chain), b'],"ciphertext":', quoted(ciphertext),
                     b',"format":"', ENVELOPE_FORMAT.encode(), b'","header":', quoted(header),
                     b',"v":', str(VERSION).encode(), b'}'))


# ----- reading -----------------------------------------------------------------------------------

_CANONICAL_PREFIX = b'{"chain":["'
_CANONICAL_AFTER_CHAIN = b'"],"ciphertext":"'
_CANONICAL_AFTER_CIPHERTEXT = b'","format":"' + ENVELOPE_FORMAT.encode() + b'","header":"'
_CANONICAL_SUFFIX = b'","v":' + str(VERSION).encode() + b'}'


def _split(data: bytes) -> _Parts:
    """The three parts of an envelope, which must be exactly the canonical JSON ``seal_envelope``
    writes (one byte form per envelope, so ``envelope_hash`` cannot be varied by re-spelling it).

    The canonical layout is read by its fixed separators (base64 holds no ``"`` ``,`` or ``]``, and
    every value is then decoded as strict canonical base64), which avoids running the JSON parser
    over the ciphertext. Anything else is parsed as JSON only to say precisely why it is refused.
    """
    data = bytes(data)
    if len(data) > limits.ENVELOPE_MAX_BYTES:
        raise TooLargeError(f"envelope of {len(data)} bytes exceeds {limits.ENVELOPE_MAX_BYTES}")
    if not (data.startswith(_CANONICAL_PREFIX) and data.endswith(_CANONICAL_SUFFIX)):
        _refuse_non_canonical(data)
    chain_end = data.find(_CANONICAL_AFTER_CHAIN, len(_CANONICAL_PREFIX))
    ciphertext_end = data.find(_CANONICAL_AFTER_CIPHERTEXT, chain_end + 1)
    header_start = ciphertext_end + len(_CANONICAL_AFTER_CIPHERTEXT)
    if chain_end < 0 or ciphertext_end < 0 or header_start > len(data) - len(_CANONICAL_SUFFIX):
        _refuse_non_canonical(data)
    chain = data[len(_CANONICAL_PREFIX):chain_end].split(b'","')
    if len(chain) > limits.CHAIN_MAX_CERTS:
        raise TooLargeError(f"more than {limits.CHAIN_MAX_CERTS} certificates", "chain")
    return _Parts(_b64_field(data[header_start:-len(_CANONICAL_SUFFIX)], "header", limits.SIGNED_DOC_MAX_BYTES),
                  [_b64_field(c, f"chain[{i}]", limits.SIGNED_DOC_MAX_BYTES) for i, c in enumerate(chain)],
                  _b64_field(data[chain_end + len(_CANONICAL_AFTER_CHAIN):ciphertext_end], "ciphertext",
                             limits.ENVELOPE_MAX_BYTES))


def _b64_field(raw: bytes, field: str, max_bytes: int) -> bytes:
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise MalformedError("invalid base64", field) from None
    return b64d(text, field, max_bytes)


def _refuse_non_canonical(data: bytes) -> NoReturn:
    """Raise the most precise error for bytes that are not a canonical version 2 envelope."""
    outer = loads_strict(data, max_bytes=limits.ENVELOPE_MAX_BYTES)
    if not isinstance(outer, dict) or outer.get("format") != ENVELOPE_FORMAT:
        raise MalformedError("not an Invigil response envelope")
    if outer.get("v") != VERSION:
        raise UnknownVersionError(f"unknown envelope version {outer.get('v')!r} (this code reads {VERSION})")
    if set(outer) != _OUTER_FIELDS:
        raise MalformedError(f"fields must be exactly {sorted(_OUTER_FIELDS)}", "envelope")
    certs.chain_from_b64(outer["chain"])
    raise MalformedError("envelope bytes are not the canonical JSON of their fields", "envelope")


def _header_from(payload: dict[str, Any], signer: str, header_doc: bytes) -> tuple[EnvelopeHeader, datetime]:
    if payload.get("format") != HEADER_FORMAT:
        raise MalformedError("not an envelope header", "header")
    if payload.get("v") != VERSION:
        raise UnknownVersionError(f"unknown envelope header version {payload.get('v')!r}")
    if set(payload) != _HEADER_FIELDS:
        raise MalformedError(f"fields must be exactly {sorted(_HEADER_FIELDS)}", "header")
    try:
        for name in _ID_FIELDS:
            _check_id(payload[name], f"header.{name}")
    except ValidationError as exc:
        raise MalformedError(exc.reason, exc.field) from None
    for name in ("form_version", "ciphertext_size"):
        value = payload[name]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise MalformedError("must be a non-negative integer", f"header.{name}")
    digest = payload["ciphertext_sha256"]
    if not isinstance(digest, str) or not model.SHA256_RE.match(digest):
        raise MalformedError("must be a lower-case hex SHA-256", "header.ciphertext_sha256")
    if not isinstance(payload["results_key_id"], str):
        raise MalformedError("must be a key id", "header.results_key_id")
    created = parse_time(payload["created"], "header.created")
    fields = {k: payload[k] for k in _HEADER_FIELDS - {"format", "v"}}
    return EnvelopeHeader(**fields, signer_key_id=signer, header_bytes=header_doc), created


def _check_ciphertext(header: EnvelopeHeader, ciphertext: bytes) -> None:
    if len(ciphertext) != header.ciphertext_size or hashlib.sha256(ciphertext).hexdigest() != header.ciphertext_sha256:
        raise TamperedError(f"envelope {header.envelope_id}: ciphertext does not match its signed header")


def read_unverified_header(data: bytes) -> EnvelopeHeader:
    """The header fields with no signature or chain check: for display and routing only."""
    return _unverified(_split(data))


def read_embedded_chain(data: bytes) -> list[bytes]:
    """The certificates the envelope carries (centre first, kiosk last), unverified: for tools
    that check what they can without the central root (``exam_core.inspect``)."""
    return list(_split(data).chain)


def read_envelope_header(data: bytes, *, root_public: Ed25519PublicKey | None = None,
                         kiosk_public: Ed25519PublicKey | None = None, at: datetime | None = None,
                         revocations: Iterable[bytes | certs.RevocationList] = ()) -> EnvelopeHeader:
    """Verify an envelope's header without opening it.

    With ``root_public`` the chain (centre -> kiosk) is verified at ``at`` (default: the header's
    ``created`` time, so an envelope sealed before a certificate expired stays acceptable; revocation
    still applies) and must name the header's centre and kiosk; with ``kiosk_public`` (a console
    that paired the kiosk) the header must be signed by that key. Either way the ciphertext must
    match the signed hash and size (``TamperedError``).
    """
    if root_public is None and kiosk_public is None:
        raise ValidationError("trust", "give root_public or kiosk_public")
    parts = _split(data)
    return _verify_header(parts, root_public, kiosk_public, at, revocations)


def _verify_header(parts: _Parts, root_public: Ed25519PublicKey | None, kiosk_public: Ed25519PublicKey | None,
                   at: datetime | None, revocations: Iterable[bytes | certs.RevocationList],
                   also_at: datetime | None = None) -> EnvelopeHeader:
    """Parse the header once, verify the chain (if a root is given), then the header signature.

    ``also_at``: a second moment (the receiver's clock) at which every certificate of the chain
    must be valid too, so a kiosk whose certificate has expired cannot backdate ``created``."""
    doc = signing.read_unverified(parts.header_doc)
    unverified, created = _header_from(signing.parse_payload(doc), doc.signer, parts.header_doc)
    signer_public = kiosk_public
    if root_public is not None:
        moment = at or created
        chain = certs.verify_chain(parts.chain, root_public, at=moment, revocations=revocations,
                                   leaf_role=certs.ROLE_KIOSK)
        if also_at is not None:
            for verified in chain:
                verified.check_valid_at(also_at)
        centre, *_, leaf = chain
        if leaf.cert.subject != unverified.kiosk_id or centre.cert.subject != unverified.centre_id:
            raise UntrustedError(f"certificates are for {centre.cert.subject}/{leaf.cert.subject}, header says "
                                 f"{unverified.centre_id}/{unverified.kiosk_id}")
        if kiosk_public is not None and key_id(kiosk_public) != leaf.key_id:
            raise WrongKeyError("the kiosk certificate is not for the given kiosk key")
        signer_public = leaf.signing_public
    if signer_public is None:  # verify_envelope_header() refuses this before parsing
        raise ValidationError("trust", "give root_public or kiosk_public")
    signing.check_signature(doc, signer_public, purposes.ENVELOPE_HEADER)
    _check_ciphertext(unverified, parts.ciphertext)
    return unverified


def _unverified(parts: _Parts) -> EnvelopeHeader:
    doc = signing.read_unverified(parts.header_doc)
    return _header_from(signing.parse_payload(doc), doc.signer, parts.header_doc)[0]


def open_envelope(data: bytes, results_private: HpkePrivateKey, root_public: Ed25519PublicKey,
                  revocations: Iterable[bytes | certs.RevocationList] = (),
                  at: datetime | None = None, *, also_at: datetime | None = None
                  ) -> tuple[EnvelopeHeader, dict[str, Any]]:
    """Verify chain, header and ciphertext hash, then decrypt: ``(header, payload)``.

    The chain is checked at ``at`` (default: the header's ``created``) and, when given, also at
    ``also_at`` (a receiver passes its own clock: see docs/WIRE-FORMATS.md, known limits). The
    returned header is what makes the payload the kiosk's statement: keep it (or the envelope) with it.

    Raises ``WrongKeyError`` when sealed to another results key, ``TamperedError`` when the
    ciphertext does not open under this header's context, and every error of ``read_envelope_header``.
    """
    parts = _split(data)
    header = _verify_header(parts, root_public, None, at, revocations, also_at)
    if header.results_key_id != key_id(results_private.public_key()):
        raise WrongKeyError(f"envelope {header.envelope_id} is sealed to results key {header.results_key_id}")
    context = _payload_context({name: getattr(header, name) for name in _ID_FIELDS}, header.form_version,
                               header.signer_key_id)
    plaintext = hpke.open_sealed(results_private, purposes.RESPONSE_ENVELOPE, parts.ciphertext, context)
    payload = loads_strict(plaintext, max_bytes=limits.ENVELOPE_PAYLOAD_MAX_BYTES)
    if not isinstance(payload, dict):
        raise MalformedError("must be an object", "payload")
    return header, payload
