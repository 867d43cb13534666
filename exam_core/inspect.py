"""Say what an Invigil artefact is, show its header, and check its signature when given the issuer.

Used by ``python -m exam_core inspect``. Recognised kinds: ``form-package``, ``response-envelope``,
``receipt``, ``certificate``, ``revocation-list``, ``signed-document`` (any other purpose),
``public-key`` and ``private-key`` (whose secret part is never shown).

The issuer is the key the operator expects to have signed the artefact. A key file is taken as
given; a certificate is taken only through its chain to a root the operator names (``--root``,
``--via`` intermediates, ``--revocations``), because anyone can write a certificate naming any
subject: without that check a forger's certificate would vouch for the forger's own signature.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exam_core import certs, envelope, keys, limits, package, purposes, receipt, signing
from exam_core.errors import ArtefactError, InvigilError, KeyFileError, MalformedError, UntrustedError
from exam_core.jsonio import b64d, loads_strict
from exam_core.timestamps import utc_now
from exam_core.safezip import read_canonical

#: Largest file ``inspect`` reads (the largest artefact there is: a form package).
MAX_FILE_BYTES = limits.PACKAGE_MAX_BYTES


@dataclass
class Inspection:
    """The result; ``to_dict`` gives exactly the keys of ``inspect --json``."""

    kind: str
    header: dict[str, Any] = field(default_factory=dict)
    signature_valid: bool | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.signature_valid is not False

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "header": self.header, "signature_valid": self.signature_valid,
                "error": self.error}


#: One artefact kind's reader: fills the result's header, then verifies with the issuer's key.
Reader = Callable[[Inspection, Any, Ed25519PublicKey | None], None]


def inspect_bytes(data: bytes, issuer: Ed25519PublicKey | None = None) -> Inspection:
    """Identify ``data`` and check it against ``issuer`` (the key that should have signed it)."""
    if data[:2] == b"PK":
        return _checked(Inspection("form-package"), _package, data, issuer)
    try:
        doc = loads_strict(data, max_bytes=limits.ENVELOPE_MAX_BYTES)
    except ArtefactError as exc:
        return Inspection("unknown", error=f"not an Invigil artefact: {exc}")
    fmt = doc.get("format") if isinstance(doc, dict) else None
    if fmt == envelope.ENVELOPE_FORMAT:
        return _checked(Inspection("response-envelope"), _envelope, data, issuer)
    if fmt == signing.SIGNED_FORMAT:
        purpose = doc.get("purpose")
        kind = {purposes.CERTIFICATE: "certificate", purposes.REVOCATION_LIST: "revocation-list",
                purposes.RECEIPT: "receipt"}.get(purpose, "signed-document")
        return _checked(Inspection(kind), _signed, data, issuer)
    if fmt == keys.PUBLIC_KEY_FORMAT:
        return _checked(Inspection("public-key"), _public_key, data, None)
    if fmt == keys.PRIVATE_KEY_FORMAT:
        return _checked(Inspection("private-key"), _private_key, doc, None)
    return Inspection("unknown", error=f"unknown artefact format {fmt!r}")


def _checked(result: Inspection, reader: Reader, data: Any, issuer: Ed25519PublicKey | None) -> Inspection:
    """Run ``reader`` (which fills the header, then verifies); turn failures into ``error``."""
    try:
        reader(result, data, issuer)
    except InvigilError as exc:
        result.error = f"{type(exc).__name__}: {exc}"
        if issuer is not None and result.signature_valid is None:
            result.signature_valid = False
    return result


def _package(result: Inspection, data: bytes, issuer: Ed25519PublicKey | None) -> None:
    members = read_canonical(data, package.ZIP_POLICY)
    manifest = loads_strict(bytes(members[package.MANIFEST]), max_bytes=limits.MANIFEST_MAX_BYTES)
    if not isinstance(manifest, dict):
        raise MalformedError("manifest must be an object", package.MANIFEST)
    result.header = {k: v for k, v in manifest.items() if k not in ("wrapped_key", "key_check")}
    result.header["signer_key_id"] = signing.read_detached(bytes(members[package.SIGNATURE]))[1]
    if issuer is not None:
        package.read_form_package(data, issuer)
        result.signature_valid = True
        return
    # No issuer: the signature stays unchecked, but a corrupted content.bin is still caught by
    # the digest the manifest states (issue 13, M1), as is a version 1 package by name.
    package.parse_manifest_fields(manifest)
    package.check_content_digest(manifest, members[package.CONTENT])


#: What ``header["chain_checked"]`` says when the issuer is the kiosk's own key.
CHAIN_LINKS_ONLY = ("links only: each certificate is signed by the one before it and the last is the "
                    "kiosk's key, but the first (the centre's) was not checked against the central root; "
                    "give --issuer the central body's key or root certificate to check it")


def _envelope(result: Inspection, data: bytes, issuer: Ed25519PublicKey | None) -> None:
    """With the central root: chain and header. With the kiosk's key: the header signature, and
    the embedded chain as far as it can be checked without the root, saying so in
    ``header["chain_checked"]`` (issue 13: a broken chain was called valid)."""
    header = envelope.read_unverified_header(data)
    result.header = header.to_dict()
    if issuer is None:
        return
    if keys.key_id(issuer) == header.signer_key_id:  # the kiosk's own key
        envelope.read_envelope_header(data, kiosk_public=issuer)
        _check_chain_links(envelope.read_embedded_chain(data), header, issuer)
        result.header["chain_checked"] = CHAIN_LINKS_ONLY
    else:  # the central root: chain and header
        envelope.read_envelope_header(data, root_public=issuer)
        result.header["chain_checked"] = "to the given root"
    result.signature_valid = True


def _check_chain_links(chain: list[bytes], header: envelope.EnvelopeHeader, kiosk: Ed25519PublicKey) -> None:
    """Each certificate signed by the one before it, centre first and kiosk last, naming the
    header's centre and kiosk, the kiosk certificate for ``kiosk``; the first is not anchored."""
    if len(chain) < 2:
        raise UntrustedError(f"the envelope carries {len(chain)} certificate(s); a centre and a kiosk are needed")
    first = certs.read_unverified_certificate(chain[0])
    issuer_key = keys.public_from_raw(keys.KIND_ED25519, b64d(first.signing_key, "chain[0].signing_key", 32))
    if not isinstance(issuer_key, Ed25519PublicKey):
        raise UntrustedError("the embedded centre certificate names no signing key")
    verified = certs.read_certificate(chain[1], issuer_key)
    for document in chain[2:]:
        verified = certs.read_certificate(document, verified.signing_public)
    if (first.role, first.subject) != (certs.ROLE_CENTRE, header.centre_id) or \
            (verified.cert.role, verified.cert.subject) != (certs.ROLE_KIOSK, header.kiosk_id):
        raise UntrustedError(f"the embedded chain is for {first.role} {first.subject} -> {verified.cert.role} "
                             f"{verified.cert.subject}; the header says centre {header.centre_id}, kiosk "
                             f"{header.kiosk_id}")
    if verified.key_id != keys.key_id(kiosk):
        raise UntrustedError("the embedded kiosk certificate is for another key than the one given")


def _signed(result: Inspection, data: bytes, issuer: Ed25519PublicKey | None) -> None:
    doc = signing.read_unverified(data)
    payload = loads_strict(doc.payload_bytes)
    result.header = {"purpose": doc.purpose, "signer_key_id": doc.signer,
                     **(payload if isinstance(payload, dict) else {"payload": payload})}
    if result.kind == "certificate":
        cert = certs.read_unverified_certificate(data)
        result.header.pop("signing_key", None)
        subject_key = keys.ed25519_public_from_raw(b64d(cert.signing_key))
        result.header["subject_key_id"] = keys.key_id(subject_key)
    if result.kind == "revocation-list" and isinstance(payload, dict) and isinstance(payload.get("serials"), list):
        result.header["serials"] = len(payload["serials"])
    if issuer is None:
        return
    if result.kind == "certificate":
        verified = certs.read_certificate(data, issuer)
        result.signature_valid = True
        verified.check_valid_at(utc_now())
    elif result.kind == "revocation-list":
        certs.read_revocation_list(data, issuer)
        result.signature_valid = True
    elif result.kind == "receipt":
        receipt.parse_receipt_payload(signing.open_signed(data, issuer, purposes.RECEIPT).payload, data)
        result.signature_valid = True
    else:
        signing.open_signed(data, issuer, doc.purpose)
        result.signature_valid = True


def _public_key(result: Inspection, data: bytes, _issuer: Ed25519PublicKey | None) -> None:
    public = keys.parse_public_key_document(data)
    doc = loads_strict(data)
    result.header = {"key_kind": keys.key_kind(public), "key_id": keys.key_id(public)}
    if "label" in doc:
        result.header["label"] = doc["label"]


def _private_key(result: Inspection, doc: dict[str, Any], _issuer: Ed25519PublicKey | None) -> None:
    """Only the public facts: never the key material, encrypted or not."""
    result.header = {"key_kind": doc.get("kind"), "key_id": doc.get("key_id"),
                     "passphrase_protected": "encryption" in doc}


def _read_key_source(path: str) -> tuple[bytes, Any]:
    """A small JSON file (key or certificate) and its ``format`` field."""
    with open(path, "rb") as handle:
        data = handle.read(limits.SIGNED_DOC_MAX_BYTES + 1)
    try:
        doc = loads_strict(data, max_bytes=limits.SIGNED_DOC_MAX_BYTES)
    except ArtefactError as exc:
        raise KeyFileError(f"{path}: {exc}") from None
    return data, doc.get("format") if isinstance(doc, dict) else None


def _signing_key_file(path: str, fmt: Any) -> Ed25519PublicKey:
    try:
        public = (keys.public_of(keys.load_private_key(path)) if fmt == keys.PRIVATE_KEY_FORMAT
                  else keys.load_public_key(path))
    except ArtefactError as exc:
        raise KeyFileError(f"{path}: {exc}") from None
    if not isinstance(public, Ed25519PublicKey):
        raise KeyFileError(f"{path}: an issuer or root must be an Ed25519 signing key, not {keys.key_kind(public)}")
    return public


def load_root(path: str) -> Ed25519PublicKey:
    """The trust anchor: the central body's public key file, or its self-signed root certificate.

    A root certificate proves nothing by itself (anyone can sign their own); it is accepted here
    because the operator names it as the anchor, and only if it is a well-formed, currently valid
    central certificate signed by its own key.
    """
    data, fmt = _read_key_source(path)
    if fmt != signing.SIGNED_FORMAT:
        return _signing_key_file(path, fmt)
    try:
        cert = certs.read_unverified_certificate(data)
        public = keys.ed25519_public_from_raw(b64d(cert.signing_key))
        certs.verify_root_certificate(data, public)
    except ArtefactError as exc:
        raise KeyFileError(f"{path}: not a usable root certificate: {type(exc).__name__}: {exc}") from None
    return public


def load_issuer(path: str, root: Ed25519PublicKey | None = None, via: Sequence[str] = (),
                revocations: Sequence[str] = ()) -> Ed25519PublicKey:
    """The key that should have signed the artefact, from a key file or a verified certificate.

    A key file is trusted as given (the operator vouches for it). A certificate is only as good
    as its chain, so it needs ``root`` and is verified as ``[*via, certificate]`` from that root
    (roles, issuers, validity now, and the given revocation lists); a failure raises the chain's
    ``ArtefactError``. Without ``root``, or with ``via``/``revocations`` for a key file, the request
    is refused (``KeyFileError``) rather than checked less than it appears to be.
    """
    data, fmt = _read_key_source(path)
    if fmt != signing.SIGNED_FORMAT:
        if root is not None or via or revocations:
            raise KeyFileError(f"{path}: --root, --via and --revocations apply only when --issuer is a certificate")
        return _signing_key_file(path, fmt)
    if root is None:
        raise KeyFileError(f"{path}: an issuer certificate is not trusted on its own; give --root (the central "
                           "body's public key or root certificate) to verify its chain, or pass a public key file")
    try:
        role = certs.read_unverified_certificate(data).role
    except ArtefactError as exc:
        raise KeyFileError(f"{path}: not a certificate: {exc}") from None
    if role == certs.ROLE_CENTRAL:
        if via:
            raise KeyFileError(f"{path}: a central root certificate has no intermediates (--via)")
        return certs.verify_root_certificate(data, root).signing_public
    chain = [_read_certificate_file(name) for name in via] + [data]
    lists = [_read_certificate_file(name) for name in revocations]
    return certs.verify_chain(chain, root, revocations=lists)[-1].signing_public


def _read_certificate_file(path: str) -> bytes:
    with open(path, "rb") as handle:
        data = handle.read(limits.SIGNED_DOC_MAX_BYTES + 1)
    if len(data) > limits.SIGNED_DOC_MAX_BYTES:
        raise KeyFileError(f"{path}: larger than {limits.SIGNED_DOC_MAX_BYTES} bytes")
    return data


def untrusted_issuer(data: bytes, reason: ArtefactError) -> Inspection:
    """The artefact's kind and header, marked invalid because its issuer's chain failed."""
    result = inspect_bytes(data, None)
    result.signature_valid = False
    result.error = f"issuer certificate not trusted: {type(reason).__name__}: {reason}"
    return result


def read_artefact(path: str) -> bytes:
    with open(path, "rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise KeyFileError(f"{path}: larger than {MAX_FILE_BYTES} bytes")
    return data


__all__ = ["Inspection", "inspect_bytes", "load_issuer", "load_root", "read_artefact", "untrusted_issuer"]
