"""The console's envelope store as sync sees it: what is pending, what to say about it, settling.

The console (``proctor_console.records``) stores each sealed envelope durably before acking the
kiosk, in the ``envelopes`` table of ``console.db``. Sync needs three operations on it, kept here
behind one small class so the rule that matters sits in one place: **an envelope's bytes are
dropped only in the same transaction that records a receipt which verified for exactly those
bytes** (``exam_core.receipt.verify_receipt``). The row stays, with the receipt, as the centre's
record of hand-over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exam_core import receipt as receipts
from exam_core.jsonio import b64e
from exam_core.store import immediate_transaction
from proctor_console.context import ConsoleContext, now_text
from proctor_console.eventlog import journal_heads_seen


@dataclass(frozen=True)
class PendingEnvelope:
    sha256: str
    attempt_id: str
    data: bytes


class ConsoleEnvelopeStore:
    def __init__(self, ctx: ConsoleContext) -> None:
        self.ctx = ctx

    def pending_count(self) -> int:
        return self.ctx.db.execute("SELECT COUNT(*) FROM envelopes WHERE receipt IS NULL").fetchone()[0]

    def pending(self, max_batch_bytes: int, max_count: int) -> Iterator[list[PendingEnvelope]]:
        """Envelopes without a receipt, in batches under both limits (one oversize envelope alone)."""
        rows = self.ctx.db.execute(
            "SELECT sha256, attempt_id, length(body) FROM envelopes WHERE receipt IS NULL ORDER BY received").fetchall()
        batch: list[PendingEnvelope] = []
        size = 0
        for sha256, attempt_id, length in rows:
            if batch and (size + length > max_batch_bytes or len(batch) >= max_count):
                yield batch
                batch, size = [], 0
            body = self.ctx.db.execute("SELECT body FROM envelopes WHERE sha256 = ?", [sha256]).fetchone()[0]
            batch.append(PendingEnvelope(sha256, attempt_id, bytes(body)))
            size += length
        if batch:
            yield batch

    def meta(self, attempt_id: str) -> dict[str, Any]:
        """Who proctored the attempt and which alerts and incidents concern it (for integrity review)."""
        db = self.ctx.db
        proctors: set[str] = set()
        row = db.execute("SELECT admitted_by FROM attempts WHERE attempt_id = ?", [attempt_id]).fetchone()
        if row is not None:
            proctors.add(row[0])
        incidents = []
        for rule, kind, severity, opened, count, status, resolved_by in db.execute(
                "SELECT rule, type, severity, opened, count, status, resolved_by FROM alerts WHERE attempt_id = ?",
                [attempt_id]):
            incidents.append({"kind": kind, "severity": severity, "at": opened, "rule": rule,
                              "detail": {"count": count, "status": status}})
            if resolved_by:
                proctors.add(resolved_by)
        for category, author, created in db.execute(
                "SELECT category, author, created FROM incidents WHERE attempt_id = ?", [attempt_id]):
            incidents.append({"kind": "incident", "severity": "medium", "at": created, "rule": "",
                              "detail": {"category": str(category)[:100]}})
            proctors.add(author)
        for (issued_by,) in db.execute("SELECT DISTINCT issued_by FROM commands WHERE attempt_id = ?", [attempt_id]):
            proctors.add(issued_by)
        meta: dict[str, Any] = {"proctors": sorted(p for p in proctors if p)[:20], "incidents": incidents[:1000]}
        heads = journal_heads_seen(db, attempt_id)
        if heads:
            meta["journal_heads"] = heads  # the central body checks each against the sealed chain
        return meta

    def unsent_revocations(self) -> list[tuple[str, str, str]]:
        """``(kiosk_id, key_id, base64 signed document)`` of revocations no upload has carried yet."""
        return [(kiosk_id, key_id, b64e(bytes(doc))) for kiosk_id, key_id, doc in self.ctx.db.execute(
            "SELECT kiosk_id, key_id, document FROM kiosk_revocations WHERE sent_at IS NULL ORDER BY revoked_at")]

    def mark_revocations_sent(self, sent: list[tuple[str, str, str]]) -> None:
        """Called once the central body answered an upload that carried these revocations, or a
        bundle from it acknowledged them (``(kiosk_id, key_id, _)``; already sent ones unchanged)."""
        with immediate_transaction(self.ctx.db) as conn:
            conn.executemany("UPDATE kiosk_revocations SET sent_at = ? WHERE kiosk_id = ? AND key_id = ? AND sent_at IS NULL",
                             [(now_text(), kiosk_id, key_id) for kiosk_id, key_id, _ in sent])

    def settle(self, envelope: PendingEnvelope, receipt_bytes: bytes, central: Ed25519PublicKey) -> receipts.Receipt:
        """Verify the receipt for these exact bytes, then record it and drop the bytes atomically."""
        verified = receipts.verify_receipt(receipt_bytes, envelope.data, central)
        with immediate_transaction(self.ctx.db) as conn:
            conn.execute("UPDATE envelopes SET receipt = ?, receipt_at = ?, body = x'' "
                         "WHERE sha256 = ? AND receipt IS NULL", [receipt_bytes, now_text(), envelope.sha256])
        self.ctx.audit.append("sync", "envelope.receipted", {"sha256": envelope.sha256,
                                                            "attempt_id": envelope.attempt_id})
        return verified

