"""Opening one envelope for intake: the cryptographic checks, then the kiosk's result payload.

``exam_core.envelope.open_envelope`` verifies the chain kiosk -> centre -> central body (at the
envelope's creation time and, given the receive time, at that time too; revocations applied), the kiosk-signed header, the ciphertext hash and
the kiosk-signed inner payload. This module then reads the payload the kiosk seals at submission
(``format: invigil-attempt-result``, see ``kiosk.session.result_payload``) strictly and checks that
it agrees with the signed header: same attempt, centre, kiosk, form, form version and package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exam_core import certs, envelope, keys, limits
from exam_core.errors import MalformedError, TamperedError, ValidationError
from exam_core.jsonio import b64d, loads_strict
from exam_core.keys import HpkePrivateKey
from exam_core.model import IDENTIFIER_RE, TIMESTAMP_RE, Attempt, Response

RESULT_FORMAT = "invigil-attempt-result"
_HASH_RE = re.compile(r"^[0-9a-f]{64}$")
MAX_RESPONSES = limits.ENVELOPE_MAX_RESPONSES


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
    attestation: Any = None


def open_envelope(data: bytes, root_public: Ed25519PublicKey, results_private: HpkePrivateKey,
                  revocations: Iterable[bytes] = (), received: datetime | None = None) -> OpenedEnvelope:
    """Open and check one envelope; with ``received`` the chain must also be valid at that moment."""
    header, payload = envelope.open_envelope(data, results_private, root_public, revocations, also_at=received)
    if payload.get("format") != RESULT_FORMAT or payload.get("v") != 1:
        raise MalformedError(f"payload is not a version 1 {RESULT_FORMAT}", "payload")
    attempt = Attempt.from_dict(payload.get("attempt"), "payload.attempt")
    signed = (header.attempt_id, header.centre_id, header.kiosk_id, header.form_id, header.form_version,
              header.package_id)
    stated = (attempt.attempt_id, attempt.centre_id, attempt.kiosk_id, attempt.form_id, attempt.form_version,
              attempt.package_id)
    if signed != stated:
        raise TamperedError("the attempt in the payload does not match the envelope's signed header")
    head = payload.get("journal_head")
    if not isinstance(head, dict) or not isinstance(head.get("hash"), str) or not _HASH_RE.match(head["hash"]) \
            or not isinstance(head.get("seq"), int) or isinstance(head.get("seq"), bool) or head["seq"] < 0:
        raise MalformedError("must be {seq, hash} with a hex SHA-256 hash", "payload.journal_head")
    responses = _responses(payload.get("responses"), payload.get("history", []))
    if any(r.seq > head["seq"] for r in responses):
        raise TamperedError("a response is newer than the journal head")
    changes = payload.get("answer_changes", 0)
    if type(changes) is not int or changes < 0 or changes > head["seq"]:
        raise TamperedError("the journal head is older than the number of answer changes it should hold")
    return OpenedEnvelope(header.envelope_id, header.centre_id, header.kiosk_id, header.created, attempt,
                          responses, head["hash"], head["seq"], _item_times(payload.get("timings", {})),
                          _journal_chain(payload.get("journal_chain"), head["seq"], head["hash"]),
                          header.signer_key_id,
                          _kiosk_public(data, header.signer_key_id) if payload.get("attestation") else None,
                          payload.get("attestation"))


def _kiosk_public(data: bytes, signer_key_id: str) -> Ed25519PublicKey:
    """The signing key of the envelope's kiosk certificate (the chain and the header signature by
    this key were verified by ``envelope.open_envelope``; the key id is compared again here)."""
    chain = loads_strict(data, max_bytes=limits.ENVELOPE_MAX_BYTES).get("chain")
    cert = certs.read_unverified_certificate(b64d(chain[-1], "chain[-1]", limits.SIGNED_DOC_MAX_BYTES))
    public = keys.public_from_raw(keys.KIND_ED25519, b64d(cert.signing_key, "signing_key", 32))
    if keys.key_id(public) != signer_key_id:
        raise TamperedError("the kiosk certificate does not certify the key that signed the header")
    return public


def _journal_chain(value: Any, seq: int, head_hash: str) -> bytes | None:
    """The sealed journal's row hashes: exactly ``seq`` of them, the last one the head."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedError("must be base64 text", "payload.journal_chain")
    chain = b64d(value, "payload.journal_chain", 32 * seq)
    if len(chain) != 32 * seq:
        raise TamperedError(f"holds {len(chain) // 32} row hashes, the journal head is row {seq}")
    if seq and chain[-32:].hex() != head_hash:
        raise TamperedError("the chain's last row hash is not the journal head")
    return chain


def _responses(finals: Any, history: Any) -> list[Response]:
    """Every answer change known: the optional history, plus the final value of each slot.

    Slots never answered (no sequence number, no time) are left out: scoring treats a missing
    slot as no response.
    """
    if not isinstance(finals, list) or not isinstance(history, list) or len(finals) + len(history) > MAX_RESPONSES:
        raise MalformedError(f"responses/history must be lists of at most {MAX_RESPONSES}", "payload.responses")
    by_seq: dict[int, Response] = {}
    for where, entries in (("payload.history", history), ("payload.responses", finals)):
        for index, raw in enumerate(entries):
            if isinstance(raw, dict) and raw.get("wall_time") is None and raw.get("value") is None:
                continue
            response = _plain_response(raw)
            if response is None:                # not the common shape: the strict reader names the fault
                try:
                    response = Response.from_dict(raw, f"{where}[{index}]")
                except ValidationError as exc:
                    raise MalformedError(exc.reason, exc.field) from None
            previous = by_seq.get(response.seq)
            if previous is not None and previous != response:
                raise TamperedError(f"two different answers carry journal sequence number {response.seq}")
            by_seq[response.seq] = response
    return [by_seq[s] for s in sorted(by_seq)]


_RESPONSE_FIELDS = frozenset({"attempt_id", "seq", "item_id", "response_id", "value", "wall_time", "elapsed_ms",
                              "flagged"})


def _plain_value(value: Any) -> bool:
    if value is None or type(value) is int:
        return True
    if type(value) is str:
        return len(value) <= 100_000
    return type(value) is list and len(value) <= 100 and all(type(v) is str and len(v) <= 128 for v in value)


_KNOWN_IDS: set[str] = set()


def _identifier(value: Any) -> bool:
    """IDENTIFIER_RE, remembered: item and response ids repeat in every envelope of a form."""
    if value in _KNOWN_IDS:
        return True
    if type(value) is not str or not IDENTIFIER_RE.match(value):
        return False
    if len(_KNOWN_IDS) > 100_000:
        _KNOWN_IDS.clear()
    _KNOWN_IDS.add(value)
    return True


def _plain_response(raw: Any) -> Response | None:
    """A fast path for the shape every honest kiosk sends (a few checks instead of the generic reader).

    It accepts only what ``Response.from_dict`` accepts too; anything else returns None and goes
    through the strict reader, so validation is never weaker, only quicker (intake throughput).
    """
    if type(raw) is not dict or raw.keys() != _RESPONSE_FIELDS:
        return None
    seq, elapsed, wall = raw["seq"], raw["elapsed_ms"], raw["wall_time"]
    if type(seq) is not int or seq < 0 or type(elapsed) is not int or elapsed < 0 or type(raw["flagged"]) is not bool:
        return None
    if not (_identifier(raw["attempt_id"]) and _identifier(raw["item_id"]) and _identifier(raw["response_id"])):
        return None
    if type(wall) is not str or not TIMESTAMP_RE.match(wall) or not _plain_value(raw["value"]):
        return None
    return _response_from_checked(raw)


def _response_from_checked(raw: dict[str, Any]) -> Response:
    """Build the frozen Response from a dict already checked to hold exactly its fields.

    Filling ``__dict__`` skips the frozen dataclass's per-field ``object.__setattr__`` calls, a third
    of the per-response cost at intake; the result is an ordinary, equal Response.
    """
    response = object.__new__(Response)
    response.__dict__.update(raw)
    return response


def _item_times(timings: Any) -> dict[str, int]:
    times = timings.get("item_time_ms", {}) if isinstance(timings, dict) else {}
    if not isinstance(times, dict) or len(times) > MAX_RESPONSES:
        raise MalformedError("must be an object", "payload.timings.item_time_ms")
    for item_id, ms in times.items():
        if type(ms) is not int or ms < 0 or len(item_id) > 128:
            raise MalformedError("must be non-negative integers", f"payload.timings.item_time_ms.{item_id[:128]}")
    return times
