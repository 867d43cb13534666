"""Sealed response envelopes: what a kiosk submits and only the central body can open.

Wire form (canonical JSON)::

    {"format": "invigil-envelope", "v": 1,
     "header": base64(signed document, purpose "envelope-header", kiosk key),
     "chain": [base64(centre certificate), base64(kiosk certificate)],
     "ciphertext": base64(HPKE seal to the results key, purpose "response-envelope",
                          context ["envelope_id", "attempt_id"],
                          of a signed document, purpose "response-payload", kiosk key)}

The header (ids, created time, ``ciphertext_sha256``/``ciphertext_size``, ``results_key_id``) lets the
console and the sync path check who sent what and that nothing was changed, without the results
key. The inner payload is signed too, so once opened it stands on its own as the kiosk's statement;
it repeats ``envelope_id``/``attempt_id``/``package_id`` so it cannot be replayed under another header.
"""

from __future__ import annotations

import binascii
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from exam_core import certs, hpke, limits, model, purposes, signing
from exam_core.errors import (MalformedError, TamperedError, TooLargeError, UnknownVersionError,
                              UntrustedError, ValidationError, WrongKeyError)
from exam_core.jsonio import b64d, format_time, loads_strict, parse_time, utc_now
from exam_core.keys import HpkePrivateKey, HpkePublicKey, key_id

ENVELOPE_FORMAT = "invigil-envelope"
HEADER_FORMAT = "invigil-envelope-header"
PAYLOAD_FORMAT = "invigil-response-payload"
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


def seal_envelope(payload: dict[str, Any], *, attempt_id: str, centre_id: str, kiosk_id: str,
                  form_id: str, form_version: int, package_id: str, kiosk_signing_key: Ed25519PrivateKey,
                  chain: Sequence[bytes], results_public: HpkePublicKey, envelope_id: str | None = None,
                  created: datetime | None = None) -> bytes:
    """Sign ``payload`` with the kiosk key, seal it to the results key, sign the header."""
    envelope_id = envelope_id or f"env-{uuid.uuid4().hex}"
    ids = {"envelope_id": envelope_id, "attempt_id": attempt_id, "centre_id": centre_id,
           "kiosk_id": kiosk_id, "form_id": form_id, "package_id": package_id}
    for name, value in ids.items():
        _check_id(value, name)
    if not isinstance(form_version, int) or isinstance(form_version, bool) or form_version < 1:
        raise ValidationError("form_version", "must be a positive integer")
    if not isinstance(payload, dict):
        raise ValidationError("payload", "must be a dict")
    inner = signing.make_signed(kiosk_signing_key, purposes.RESPONSE_PAYLOAD, {
        "format": PAYLOAD_FORMAT, "v": 1, "envelope_id": envelope_id, "attempt_id": attempt_id,
        "package_id": package_id, "data": payload})
    if len(inner) > limits.ENVELOPE_PAYLOAD_MAX_BYTES:
        raise TooLargeError(f"signed payload of {len(inner)} bytes exceeds {limits.ENVELOPE_PAYLOAD_MAX_BYTES}")
    ciphertext = hpke.seal(results_public, purposes.RESPONSE_ENVELOPE, inner, purposes.context(envelope_id, attempt_id))
    header = signing.make_signed(kiosk_signing_key, purposes.ENVELOPE_HEADER, {
        "format": HEADER_FORMAT, "v": 1, **ids, "form_version": form_version,
        "created": format_time(created or utc_now()),
        "ciphertext_sha256": hashlib.sha256(ciphertext).hexdigest(), "ciphertext_size": len(ciphertext),
        "results_key_id": key_id(results_public)})
    data = _envelope_bytes(header, chain, ciphertext)
    if len(data) > limits.ENVELOPE_MAX_BYTES:
        raise TooLargeError(f"envelope of {len(data)} bytes exceeds {limits.ENVELOPE_MAX_BYTES}")
    return data


def _envelope_bytes(header: bytes, chain: Sequence[bytes], ciphertext: bytes) -> bytes:
    """``canonical_dumps`` of the outer object, assembled directly (keys sorted; base64 needs no
    escaping) so the JSON encoder never scans the ciphertext. Tests check the equality."""
    quoted = lambda raw: b'"' + binascii.b2a_base64(raw, newline=False) + b'"'  # noqa: E731
    return b"".join((b'{"chain":[', b",".join(quoted(c) for c in chain), b'],"ciphertext":', quoted(ciphertext),
                     b',"format":"', ENVELOPE_FORMAT.encode(), b'","header":', quoted(header), b',"v":1}'))


# ----- reading -----------------------------------------------------------------------------------

def _split(data: bytes) -> _Parts:
    outer = loads_strict(data, max_bytes=limits.ENVELOPE_MAX_BYTES)
    if not isinstance(outer, dict) or outer.get("format") != ENVELOPE_FORMAT:
        raise MalformedError("not an Invigil response envelope")
    if outer.get("v") != 1:
        raise UnknownVersionError(f"unknown envelope version {outer.get('v')!r}")
    if set(outer) != _OUTER_FIELDS:
        raise MalformedError(f"fields must be exactly {sorted(_OUTER_FIELDS)}", "envelope")
    return _Parts(b64d(outer["header"], "header", limits.SIGNED_DOC_MAX_BYTES),
                  certs.chain_from_b64(outer["chain"]),
                  b64d(outer["ciphertext"], "ciphertext", limits.ENVELOPE_MAX_BYTES))


def _header_from(payload: dict[str, Any], signer: str, header_doc: bytes) -> EnvelopeHeader:
    if payload.get("format") != HEADER_FORMAT:
        raise MalformedError("not an envelope header", "header")
    if payload.get("v") != 1:
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
    parse_time(payload["created"], "header.created")
    fields = {k: payload[k] for k in _HEADER_FIELDS - {"format", "v"}}
    return EnvelopeHeader(**fields, signer_key_id=signer, header_bytes=header_doc)


def _check_ciphertext(header: EnvelopeHeader, ciphertext: bytes) -> None:
    if len(ciphertext) != header.ciphertext_size or hashlib.sha256(ciphertext).hexdigest() != header.ciphertext_sha256:
        raise TamperedError(f"envelope {header.envelope_id}: ciphertext does not match its signed header")


def read_unverified_header(data: bytes) -> EnvelopeHeader:
    """The header fields with no signature or chain check: for display and routing only."""
    return _unverified(_split(data))


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
    header, _ = _verify_header(parts, root_public, kiosk_public, at, revocations)
    return header


def _verify_header(parts: _Parts, root_public: Ed25519PublicKey | None, kiosk_public: Ed25519PublicKey | None,
                   at: datetime | None, revocations: Iterable[bytes | certs.RevocationList],
                   also_at: datetime | None = None) -> tuple[EnvelopeHeader, Ed25519PublicKey]:
    """Parse the header once, verify the chain (if a root is given), then the header signature.

    ``also_at``: a second moment (the receiver's clock) at which every certificate of the chain
    must be valid too, so a kiosk whose certificate has expired cannot backdate ``created``."""
    doc = signing.read_unverified(parts.header_doc)
    unverified = _header_from(signing.parse_payload(doc), doc.signer, parts.header_doc)
    signer_public = kiosk_public
    if root_public is not None:
        moment = at or parse_time(unverified.created, "header.created")
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
    signing.check_signature(doc, signer_public, purposes.ENVELOPE_HEADER)
    _check_ciphertext(unverified, parts.ciphertext)
    return unverified, signer_public


def _unverified(parts: _Parts) -> EnvelopeHeader:
    doc = signing.read_unverified(parts.header_doc)
    return _header_from(signing.parse_payload(doc), doc.signer, parts.header_doc)


def open_envelope(data: bytes, results_private: HpkePrivateKey, root_public: Ed25519PublicKey,
                  revocations: Iterable[bytes | certs.RevocationList] = (),
                  at: datetime | None = None, *, also_at: datetime | None = None
                  ) -> tuple[EnvelopeHeader, dict[str, Any]]:
    """Verify header and chain, decrypt, verify the inner signature: ``(header, payload)``.

    The chain is checked at ``at`` (default: the header's ``created``) and, when given, also at
    ``also_at`` (a receiver passes its own clock: see docs/WIRE-FORMATS.md, known limits).

    Raises ``WrongKeyError`` when sealed to another results key, ``TamperedError`` when the inner
    payload does not belong to this header, and every error of ``read_envelope_header``.
    """
    parts = _split(data)
    header, kiosk_public = _verify_header(parts, root_public, None, at, revocations, also_at)
    if header.results_key_id != key_id(results_private.public_key()):
        raise WrongKeyError(f"envelope {header.envelope_id} is sealed to results key {header.results_key_id}")
    inner = hpke.open_sealed(results_private, purposes.RESPONSE_ENVELOPE, parts.ciphertext,
                             purposes.context(header.envelope_id, header.attempt_id))
    payload = signing.open_signed(inner, kiosk_public, purposes.RESPONSE_PAYLOAD,
                                  max_bytes=limits.ENVELOPE_PAYLOAD_MAX_BYTES).payload
    expected = {"format": PAYLOAD_FORMAT, "v": 1, "envelope_id": header.envelope_id,
                "attempt_id": header.attempt_id, "package_id": header.package_id}
    if set(payload) != {*expected, "data"} or any(payload[k] != v for k, v in expected.items()):
        raise TamperedError(f"envelope {header.envelope_id}: inner payload does not match its header")
    if not isinstance(payload["data"], dict):
        raise MalformedError("must be an object", "payload.data")
    return header, payload["data"]
