"""Signed receipts: the central body's statement that it holds one exact envelope.

A receipt is a signed document (purpose ``receipt``, central signing key) over
``{"format": "invigil-receipt", "v": 1, "envelope_sha256", "envelope_id", "attempt_id",
"received_at", "issuer"}``. The console deletes an envelope only after a receipt whose
``envelope_sha256`` is the hash of the exact bytes it holds verifies under the central key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exam_core import model, purposes, signing
from exam_core.envelope import envelope_hash, read_unverified_header
from exam_core.errors import MalformedError, TamperedError, UnknownVersionError
from exam_core.timestamps import format_time, parse_time, utc_now

RECEIPT_FORMAT = "invigil-receipt"
_FIELDS = {"format", "v", "envelope_sha256", "envelope_id", "attempt_id", "received_at", "issuer"}


@dataclass(frozen=True)
class Receipt:
    envelope_sha256: str
    envelope_id: str
    attempt_id: str
    received_at: str
    issuer: str
    receipt_bytes: bytes

    def to_dict(self) -> dict[str, Any]:
        return {"envelope_sha256": self.envelope_sha256, "envelope_id": self.envelope_id,
                "attempt_id": self.attempt_id, "received_at": self.received_at, "issuer": self.issuer}


def issue_receipt(central_key: Ed25519PrivateKey, envelope_bytes: bytes, issuer: str,
                  received_at: datetime | None = None) -> bytes:
    """Sign a receipt for the exact ``envelope_bytes`` (ids are taken from its header)."""
    header = read_unverified_header(envelope_bytes)
    return signing.make_signed(central_key, purposes.RECEIPT, {
        "format": RECEIPT_FORMAT, "v": 1, "envelope_sha256": envelope_hash(envelope_bytes),
        "envelope_id": header.envelope_id, "attempt_id": header.attempt_id,
        "received_at": format_time(received_at or utc_now()), "issuer": issuer})


def parse_receipt_payload(payload: dict[str, Any], receipt_bytes: bytes) -> Receipt:
    if payload.get("format") != RECEIPT_FORMAT:
        raise MalformedError("not an Invigil receipt")
    if payload.get("v") != 1:
        raise UnknownVersionError(f"unknown receipt version {payload.get('v')!r}")
    if set(payload) != _FIELDS:
        raise MalformedError(f"fields must be exactly {sorted(_FIELDS)}", "receipt")
    if not isinstance(payload["envelope_sha256"], str) or not model.SHA256_RE.match(payload["envelope_sha256"]):
        raise MalformedError("must be a lower-case hex SHA-256", "receipt.envelope_sha256")
    for name in ("envelope_id", "attempt_id", "issuer"):
        if not isinstance(payload[name], str):
            raise MalformedError("must be a string", f"receipt.{name}")
    parse_time(payload["received_at"], "receipt.received_at")
    return Receipt(**{k: payload[k] for k in _FIELDS - {"format", "v"}}, receipt_bytes=bytes(receipt_bytes))


def verify_receipt(receipt_bytes: bytes, envelope_bytes: bytes, central: signing.KeySource) -> Receipt:
    """Verify a receipt and that it is for exactly ``envelope_bytes`` (``TamperedError`` if not)."""
    opened = signing.open_signed(receipt_bytes, central, purposes.RECEIPT)
    receipt = parse_receipt_payload(opened.payload, receipt_bytes)
    if receipt.envelope_sha256 != envelope_hash(envelope_bytes):
        raise TamperedError(f"receipt is for envelope bytes {receipt.envelope_sha256[:16]}..., not these")
    header = read_unverified_header(envelope_bytes)
    if (receipt.envelope_id, receipt.attempt_id) != (header.envelope_id, header.attempt_id):
        raise TamperedError("receipt ids do not match the envelope's header")
    return receipt
