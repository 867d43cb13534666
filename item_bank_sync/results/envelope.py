"""Opening one envelope for intake: the cryptographic checks, then the kiosk's attempt result.

``exam_core.envelope.open_envelope`` verifies the chain kiosk -> centre -> central body (at the
envelope's creation time and, given the receive time, at that time too; revocations applied), the
kiosk-signed header and the ciphertext hash. This module then reads the payload the kiosk seals at
submission, the attempt result (``exam_core.result``, strict and checked against itself), and checks
that it agrees with the signed header: same attempt, centre, kiosk, form, form version and package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from collections.abc import Iterable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exam_core import certs, envelope, keys, limits
from exam_core.errors import TamperedError
from exam_core.jsonio import b64d, loads_strict
from exam_core.keys import HpkePrivateKey
from exam_core.model import Attempt, Response
from exam_core.result import Submission, Timings, parse_result


@dataclass(frozen=True)
class OpenedEnvelope:
    envelope_id: str
    centre_id: str
    kiosk_id: str
    submitted_at: str
    attempt: Attempt
    responses: list[Response]
    journal_head: str
    journal_seq: int
    item_time_ms: dict[str, int] = field(default_factory=dict)
    #: Row hashes 1..journal_seq, 32 bytes each (None from kiosks that did not seal the chain).
    journal_chain: bytes | None = None
    #: Key id of the kiosk key that signed the header (what a centre's kiosk revocation names).
    kiosk_key_id: str = ""
    #: The kiosk's certified signing key (leaf of the verified chain) and the sealed release
    #: attestation (base64 text as sealed, or None): judged by ``item_bank_sync.trust.release_allowlist``.
    kiosk_public: Ed25519PublicKey | None = None
    attestation: str | None = None
    #: The kiosk's exam clock (time allowed with extensions, time used, pauses, extensions) and
    #: what ended the attempt: the timing record, and a proctor's end, which needs a decision.
    timings: Timings = field(default_factory=Timings)
    submission: Submission | None = None


def open_envelope(data: bytes, root_public: Ed25519PublicKey, results_private: HpkePrivateKey,
                  revocations: Iterable[bytes] = (), received: datetime | None = None) -> OpenedEnvelope:
    """Open and check one envelope; with ``received`` the chain must also be valid at that moment."""
    header, payload = envelope.open_envelope(data, results_private, root_public, revocations, also_at=received)
    result = parse_result(payload)
    attempt = result.attempt
    signed = (header.attempt_id, header.centre_id, header.kiosk_id, header.form_id, header.form_version,
              header.package_id)
    stated = (attempt.attempt_id, attempt.centre_id, attempt.kiosk_id, attempt.form_id, attempt.form_version,
              attempt.package_id)
    if signed != stated:
        raise TamperedError("the attempt in the payload does not match the envelope's signed header")
    attestation = result.attestation
    return OpenedEnvelope(header.envelope_id, header.centre_id, header.kiosk_id, header.created, attempt,
                          list(result.answers), result.journal_head.hash, result.journal_head.seq,
                          dict(result.timings.item_time_ms), result.journal_chain, header.signer_key_id,
                          _kiosk_public(data, header.signer_key_id) if attestation else None, attestation,
                          result.timings, result.submission)


def _kiosk_public(data: bytes, signer_key_id: str) -> Ed25519PublicKey:
    """The signing key of the envelope's kiosk certificate (the chain and the header signature by
    this key were verified by ``envelope.open_envelope``; the key id is compared again here)."""
    chain = loads_strict(data, max_bytes=limits.ENVELOPE_MAX_BYTES).get("chain")
    cert = certs.read_unverified_certificate(b64d(chain[-1], "chain[-1]", limits.SIGNED_DOC_MAX_BYTES))
    public = keys.ed25519_public_from_raw(b64d(cert.signing_key, "signing_key", 32))
    if keys.key_id(public) != signer_key_id:
        raise TamperedError("the kiosk certificate does not certify the key that signed the header")
    return public
