"""Sealed response envelopes held for the central body (the ``envelopes`` table): the one module
that reads or writes it.

An envelope is stored (``synchronous=FULL``) before the kiosk's ack and kept until the central
body's signed receipt arrives; only the outer header is checked here (the console cannot and must
not open the sealed payload). The rule that matters sits in ``settle``: **an envelope's bytes are
dropped only in the same transaction that records a receipt which verified for exactly those
bytes** (``exam_core.receipt.verify_receipt``) **and says the central body holds them from this
centre** (``check_held_for``: a receipt for another centre's delivery, or a version 1 receipt that
names none, is refused and the envelope kept; issue 13, M2). The row stays, with the receipt, as
the centre's record of hand-over.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable, Iterator

import sqlite_utils
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exam_core import envelope, protocol
from exam_core import receipt as receipts
from exam_core.audit import AuditLog
from exam_core.errors import ValidationError
from exam_core.jsonio import b64d
from exam_core.store import immediate_transaction
from exam_core.timestamps import utc_text_us
from proctor_console.attempts import Attempts


@dataclass(frozen=True)
class PendingEnvelope:
    sha256: str
    attempt_id: str
    data: bytes


class Envelopes:
    def __init__(self, db: sqlite_utils.Database, audit: AuditLog, attempts: Attempts, centre_id: str,
                 root_public: Callable[[], Ed25519PublicKey | None]) -> None:
        self.db = db
        self.audit = audit
        self.attempts = attempts
        self.centre_id = centre_id
        self.root_public = root_public

    # --- from kiosks --------------------------------------------------------------------------
    def store(self, kiosk_id: str, kiosk_public: Ed25519PublicKey, message: protocol.EnvelopeMessage) -> bool:
        """Verify the header and store the envelope (the attempt becomes submitted); True for a duplicate."""
        data = b64d(message.envelope)
        if self.attempts.kiosk_of(message.attempt_id) != kiosk_id:
            raise ValidationError("attempt_id", "is not an attempt of this kiosk")
        header = self.verify_header(kiosk_public, kiosk_id, message.attempt_id, data)
        with immediate_transaction(self.db) as conn:
            cur = conn.execute("INSERT OR IGNORE INTO envelopes (sha256, kiosk_id, attempt_id, body, header, received)"
                               " VALUES (?,?,?,?,?,?)",
                               [message.sha256, kiosk_id, message.attempt_id, data,
                                json.dumps(header, sort_keys=True, default=str), utc_text_us()])
            if cur.rowcount:
                self.attempts.mark_submitted(conn, message.attempt_id)
        if cur.rowcount:
            self.audit.append(f"kiosk:{kiosk_id}", "envelope.stored", {"attempt_id": message.attempt_id,
                                                                        "sha256": message.sha256})
        return cur.rowcount == 0

    def verify_header(self, kiosk_public: Ed25519PublicKey, kiosk_id: str, attempt_id: str,
                      data: bytes) -> dict[str, Any]:
        """Check the kiosk-signed outer header without opening the envelope (the console cannot).

        The header must be signed by this kiosk's certified key, name this centre, kiosk and attempt,
        and match the ciphertext; with the root certificate installed the enclosed chain is verified
        too, so the central body will accept it.
        """
        header = envelope.read_envelope_header(data, kiosk_public=kiosk_public, root_public=self.root_public())
        for name, expected in (("kiosk_id", kiosk_id), ("attempt_id", attempt_id), ("centre_id", self.centre_id)):
            if getattr(header, name) != expected:
                raise ValidationError(f"envelope.header.{name}",
                                      f"is {getattr(header, name)!r}, expected {expected!r}")
        return header.to_dict()

    # --- to the central body ------------------------------------------------------------------
    def pending_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM envelopes WHERE receipt IS NULL").fetchone()[0])

    def pending(self, max_batch_bytes: int, max_count: int) -> Iterator[list[PendingEnvelope]]:
        """Envelopes without a receipt, in batches under both limits (one oversize envelope alone)."""
        rows = self.db.execute(
            "SELECT sha256, attempt_id, length(body) FROM envelopes WHERE receipt IS NULL ORDER BY received").fetchall()
        batch: list[PendingEnvelope] = []
        size = 0
        for sha256, attempt_id, length in rows:
            if batch and (size + length > max_batch_bytes or len(batch) >= max_count):
                yield batch
                batch, size = [], 0
            body = self.db.execute("SELECT body FROM envelopes WHERE sha256 = ?", [sha256]).fetchone()[0]
            batch.append(PendingEnvelope(sha256, attempt_id, bytes(body)))
            size += length
        if batch:
            yield batch

    def settle(self, pending: PendingEnvelope, receipt_bytes: bytes, central: Ed25519PublicKey) -> receipts.Receipt:
        """Verify the receipt for these exact bytes and this centre, then record it and drop the
        bytes atomically."""
        verified = receipts.verify_receipt(receipt_bytes, pending.data, central)
        receipts.check_held_for(verified, self.centre_id)
        with immediate_transaction(self.db) as conn:
            conn.execute("UPDATE envelopes SET receipt = ?, receipt_at = ?, body = x'' "
                         "WHERE sha256 = ? AND receipt IS NULL", [receipt_bytes, utc_text_us(), pending.sha256])
        self.audit.append("sync", "envelope.receipted", {"sha256": pending.sha256, "attempt_id": pending.attempt_id})
        return verified

    def for_attempts(self, attempt_ids: list[str]) -> list[dict[str, Any]]:
        """attempt_id, sha256, received, receipt_at of these attempts' envelopes (a session report)."""
        keys = ("attempt_id", "sha256", "received", "receipt_at")
        marks = ",".join("?" for _ in attempt_ids) or "NULL"
        rows = self.db.execute(f"SELECT {', '.join(keys)} FROM envelopes WHERE attempt_id IN ({marks})",  # noqa: S608 - constant column names and ? marks, values bound
                               attempt_ids).fetchall()
        return [dict(zip(keys, r)) for r in rows]
