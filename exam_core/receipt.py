"""Signed receipts: the central body's statement that it holds one exact envelope, from one centre.

A receipt is a signed document (purpose ``receipt``, central signing key) over
``{"format": "invigil-receipt", "v": 2, "envelope_sha256", "envelope_id", "attempt_id",
"received_at", "issuer", "centre_id", "status"}``: ``centre_id`` is the centre the central body
took the envelope in from (and holds it for), ``status`` what it was then (``accepted``, or
``quarantined``: held for review). The console deletes an envelope only after a receipt verifies
under the central key, for the hash of the exact bytes it holds, naming its own centre and one of
those two statuses (``check_held_for``).

Why version 2 (issue 13, M2). Version 1 named no centre, so a receipt issued when another
enrolled centre delivered a centre's envelope first (and the central body quarantined it as
delivered by the wrong centre) was later returned to the rightful centre, whose console deleted
its copy on it. Version 1 receipts still verify (``centre_id``/``status`` are then None), but
``check_held_for`` refuses them: a console keeps an envelope rather than drop it on a receipt
that does not say for whom it is held.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exam_core import model, purposes, signing
from exam_core.envelope import envelope_hash, read_unverified_header
from exam_core.errors import MalformedError, TamperedError, UnknownVersionError, UntrustedError, ValidationError
from exam_core.timestamps import format_time, parse_time, utc_now

RECEIPT_FORMAT = "invigil-receipt"
RECEIPT_VERSION = 2
_FIELDS_V1 = {"format", "v", "envelope_sha256", "envelope_id", "attempt_id", "received_at", "issuer"}
_FIELDS = _FIELDS_V1 | {"centre_id", "status"}
#: Statuses under which the central body holds an envelope (a receipt is issued for no other).
HELD_STATUSES = ("accepted", "quarantined")


@dataclass(frozen=True)
class Receipt:
    envelope_sha256: str
    envelope_id: str
    attempt_id: str
    received_at: str
    issuer: str
    receipt_bytes: bytes
    #: The centre the envelope was taken in from, and its status then; None in a version 1 receipt.
    centre_id: str | None = None
    status: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"envelope_sha256": self.envelope_sha256, "envelope_id": self.envelope_id,
                "attempt_id": self.attempt_id, "received_at": self.received_at, "issuer": self.issuer,
                "centre_id": self.centre_id, "status": self.status}


def issue_receipt(central_key: Ed25519PrivateKey, envelope_bytes: bytes, issuer: str,
                  received_at: datetime | None = None, *, centre_id: str | None = None,
                  status: str = "accepted") -> bytes:
    """Sign a receipt for the exact ``envelope_bytes`` (ids are taken from its header), held for
    ``centre_id`` (default: the centre the header names) with ``status``."""
    if status not in HELD_STATUSES:
        raise ValidationError("status", f"a receipt is issued only for {' or '.join(HELD_STATUSES)}")
    header = read_unverified_header(envelope_bytes)
    return signing.make_signed(central_key, purposes.RECEIPT, {
        "format": RECEIPT_FORMAT, "v": RECEIPT_VERSION, "envelope_sha256": envelope_hash(envelope_bytes),
        "envelope_id": header.envelope_id, "attempt_id": header.attempt_id,
        "received_at": format_time(received_at or utc_now()), "issuer": issuer,
        "centre_id": centre_id or header.centre_id, "status": status})


def parse_receipt_payload(payload: dict[str, Any], receipt_bytes: bytes) -> Receipt:
    if payload.get("format") != RECEIPT_FORMAT:
        raise MalformedError("not an Invigil receipt")
    version = payload.get("v")
    if type(version) is not int or version not in (1, RECEIPT_VERSION):
        raise UnknownVersionError(f"unknown receipt version {version!r}")
    fields = _FIELDS_V1 if version == 1 else _FIELDS
    if set(payload) != fields:
        raise MalformedError(f"fields must be exactly {sorted(fields)}", "receipt")
    if not isinstance(payload["envelope_sha256"], str) or not model.SHA256_RE.match(payload["envelope_sha256"]):
        raise MalformedError("must be a lower-case hex SHA-256", "receipt.envelope_sha256")
    for name in ("envelope_id", "attempt_id", "issuer", *(("centre_id", "status") if version > 1 else ())):
        if not isinstance(payload[name], str):
            raise MalformedError("must be a string", f"receipt.{name}")
    parse_time(payload["received_at"], "receipt.received_at")
    return Receipt(**{k: payload[k] for k in fields - {"format", "v"}}, receipt_bytes=bytes(receipt_bytes))


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


def check_held_for(receipt: Receipt, centre_id: str) -> None:
    """Refuse (``UntrustedError``) a verified receipt that does not say the central body holds the
    envelope from ``centre_id``: another centre, a status under which nothing is held, or a version
    1 receipt, which names neither. A console checks this before it drops its copy."""
    if receipt.centre_id is None:
        raise UntrustedError("receipt (version 1) does not name the centre it holds the envelope for; "
                             "the envelope is kept")
    if receipt.centre_id != centre_id:
        raise UntrustedError(f"receipt holds the envelope for centre {receipt.centre_id!r}, not {centre_id!r}; "
                             "the envelope is kept")
    if receipt.status not in HELD_STATUSES:
        raise UntrustedError(f"receipt status {receipt.status!r} does not hold the envelope; it is kept")
