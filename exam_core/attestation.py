"""Kiosk release attestation: the signed document a kiosk presents and how a console checks it.

A kiosk measures itself (``hardening.attestation.measure``: SHA-256 over its code or frozen binary
and its hardening policy) and signs that measurement with its certified Ed25519 device key,
together with the login challenge of the connection it is answering (``protocol.Challenge``).
The console, which issued that challenge, checks the signature, that the nonce is the challenge of
*this* connection (an attestation recorded on an earlier connection is refused as stale), and
then whether the measurement is on the allow-list of released builds.

The format lives here, next to the other wire formats, because both tiers need it and the tiers
never import each other: the kiosk side builds it (``make_attestation_document``), the console
side opens it (``open_attestation``, ``verify_attestation``).

What a software measurement cannot prove: it is reported by the code it measures. A kiosk whose
interpreter or measuring code is patched, or an attacker with root and the device key, simply
reports the released value. Only a hardware root of trust (a TPM quote over measured-boot PCRs
and IMA, with the nonce as the quote's qualifying data) closes that gap; see docs/HARDENING.md.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from collections.abc import Iterable, Mapping

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from exam_core import purposes, signing
from exam_core.errors import ExpiredError, MalformedError, UntrustedError, ValidationError
from exam_core.jsonio import b64d, b64e

PURPOSE = purposes.KIOSK_ATTESTATION
ATTESTATION_FORMAT = "invigil-attestation"
ATTESTATION_VERSION = 1
NONCE_MIN_BYTES, NONCE_MAX_BYTES = 16, 64
TEXT_MAX = 128
MAX_FILES = 1_000_000
KINDS = ("source", "frozen")
SHA256_HEX_RE = re.compile(r"^[0-9a-f]{64}$")
_PAYLOAD_FIELDS = {"format", "v", "kiosk_id", "nonce", "measurement", "kind", "policy_sha256", "files"}


class NotAllowlistedError(UntrustedError):
    """The kiosk's measurement is not one of the allowed release measurements."""


class StaleAttestationError(ExpiredError):
    """The attestation answers another nonce: replayed, or made for another connection."""


@dataclass(frozen=True)
class Attestation:
    """A verified attestation (signature and nonce checked); ``release`` is set once allow-listed."""

    kiosk_id: str
    measurement: str
    kind: str
    policy_sha256: str
    files: int
    release: str | None = None


def check_nonce(nonce: bytes) -> bytes:
    """The nonce bound into an attestation: 16-64 bytes (a console login challenge is 32)."""
    if not isinstance(nonce, (bytes, bytearray)) or not NONCE_MIN_BYTES <= len(nonce) <= NONCE_MAX_BYTES:
        raise ValidationError("nonce", f"must be {NONCE_MIN_BYTES}-{NONCE_MAX_BYTES} bytes")
    return bytes(nonce)


def make_attestation_document(device_signing_key: Ed25519PrivateKey, *, kiosk_id: str, nonce: bytes,
                              measurement: str, kind: str, policy_sha256: str, files: int) -> bytes:
    """Kiosk side: the signed document binding the measurement to this kiosk and the nonce."""
    if not isinstance(kiosk_id, str) or not 0 < len(kiosk_id) <= TEXT_MAX:
        raise ValidationError("kiosk_id", f"must be 1-{TEXT_MAX} characters")
    for name, value in (("measurement", measurement), ("policy_sha256", policy_sha256)):
        if not isinstance(value, str) or not SHA256_HEX_RE.match(value):
            raise ValidationError(name, "must be a lower-case hex SHA-256")
    if kind not in KINDS:
        raise ValidationError("kind", f"must be one of {', '.join(KINDS)}")
    payload = {"format": ATTESTATION_FORMAT, "v": ATTESTATION_VERSION, "kiosk_id": kiosk_id,
               "nonce": b64e(check_nonce(nonce)), "measurement": measurement, "kind": kind,
               "policy_sha256": policy_sha256, "files": int(files)}
    return signing.make_signed(device_signing_key, PURPOSE, payload)


def open_attestation(data: bytes, device_public: Ed25519PublicKey, nonce: bytes) -> Attestation:
    """Console side: signature, exact shape, then the nonce; the allow-list is the caller's.

    Raises the ``exam_core`` artefact errors for a bad document and ``StaleAttestationError`` when
    it answers another nonce. Separate from ``verify_attestation`` so that a console can report
    *what* an unlisted kiosk measured.
    """
    payload = signing.open_signed(data, device_public, PURPOSE).payload
    if set(payload) != _PAYLOAD_FIELDS or payload["format"] != ATTESTATION_FORMAT \
            or payload["v"] != ATTESTATION_VERSION:
        raise MalformedError(f"attestation payload must have exactly {sorted(_PAYLOAD_FIELDS)}")
    for name in ("kiosk_id", "measurement", "kind", "policy_sha256"):
        if not isinstance(payload[name], str) or not 0 < len(payload[name]) <= TEXT_MAX:
            raise MalformedError("must be a short string", name)
    for name in ("measurement", "policy_sha256"):
        if not SHA256_HEX_RE.match(payload[name]):
            raise MalformedError("must be a lower-case hex SHA-256", name)
    if payload["kind"] not in KINDS:
        raise MalformedError(f"must be one of {', '.join(KINDS)}", "kind")
    files = payload["files"]
    if not isinstance(files, int) or isinstance(files, bool) or not 0 <= files <= MAX_FILES:
        raise MalformedError("must be a file count", "files")
    sent_nonce = b64d(payload["nonce"], "nonce", NONCE_MAX_BYTES)
    if not hmac.compare_digest(sent_nonce, check_nonce(nonce)):
        raise StaleAttestationError("attestation was made for another nonce (replayed?)", "nonce")
    return Attestation(payload["kiosk_id"], payload["measurement"], payload["kind"], payload["policy_sha256"],
                       files)


def verify_attestation(data: bytes, device_public: Ed25519PublicKey,
                       allowlist: Mapping[str, str] | Iterable[str], nonce: bytes) -> Attestation:
    """``open_attestation`` and the allow-list (measurement -> release label, or a plain collection).

    Raises ``NotAllowlistedError`` (whose message says what was measured) for an unlisted build.
    """
    found = open_attestation(data, device_public, nonce)
    releases = dict(allowlist) if isinstance(allowlist, Mapping) else {m: m for m in allowlist}
    if found.measurement not in releases:
        raise NotAllowlistedError(
            f"kiosk {found.kiosk_id} runs {found.kind} measurement {found.measurement} "
            f"(policy {found.policy_sha256[:12]}), which is not an allowed release measurement", "measurement")
    return Attestation(found.kiosk_id, found.measurement, found.kind, found.policy_sha256, found.files,
                       releases[found.measurement])
