"""What the console owes the central body, as a sync run sees it: envelopes without a receipt
(with what to say about each), and kiosk revocations no upload has carried yet.

The records belong to their modules (``envelopes``, ``revocations``, and for the envelope
metadata ``attempts``, ``alerts``, ``incidents``, ``commands``, ``journal_heads``); this gathers
them for the network run and the air-gap bundle alike, so both send the same thing.
"""

from __future__ import annotations

from collections.abc import Iterator

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exam_core import receipt as receipts
from exam_core.protocol import JournalHeadInfo
from exam_core.sync_wire import MAX_INCIDENTS, MAX_PROCTORS, EnvelopeMeta, Incident
from proctor_console import services
from proctor_console.attempts import Attempts
from proctor_console.context import ConsoleContext
from proctor_console.envelopes import PendingEnvelope
from proctor_console.journal_heads import journal_heads_seen
from proctor_console.revocations import KioskRevocations

class SyncOutbox:
    def __init__(self, ctx: ConsoleContext) -> None:
        self.db = ctx.db
        self.attempts = Attempts(ctx.db)
        self.envelopes = services.envelopes(ctx)
        self.revocations = KioskRevocations(ctx.db)
        self.alerts = services.alerts(ctx)
        self.incidents = services.incidents(ctx)
        self.commands = services.command_records(ctx)  # who issued the attempt's commands

    def pending_count(self) -> int:
        return self.envelopes.pending_count()

    def pending(self, max_batch_bytes: int, max_count: int) -> Iterator[list[PendingEnvelope]]:
        return self.envelopes.pending(max_batch_bytes, max_count)

    def settle(self, envelope: PendingEnvelope, receipt_bytes: bytes, central: Ed25519PublicKey) -> receipts.Receipt:
        return self.envelopes.settle(envelope, receipt_bytes, central)

    def meta(self, attempt_id: str) -> EnvelopeMeta:
        """Who proctored the attempt, which alerts and incidents concern it, and every journal head
        the kiosk reported for it (the central body checks each against the sealed chain)."""
        proctors: set[str] = set()
        admitted_by = self.attempts.admitted_by(attempt_id)
        if admitted_by is not None:
            proctors.add(admitted_by)
        incidents = []
        for alert in self.alerts.for_attempt(attempt_id):
            incidents.append(Incident(alert["type"], alert["severity"], alert["opened"], alert["rule"],
                                      {"count": alert["count"], "status": alert["status"]}))
            if alert["resolved_by"]:
                proctors.add(alert["resolved_by"])
        for incident in self.incidents.for_attempt(attempt_id):
            incidents.append(Incident("incident", "medium", incident["created"], "",
                                      {"category": str(incident["category"])[:100]}))
            proctors.add(incident["author"])
        proctors |= self.commands.issuers(attempt_id)
        heads = tuple(JournalHeadInfo(h["seq"], h["hash"]) for h in journal_heads_seen(self.db, attempt_id))
        return EnvelopeMeta(tuple(sorted(p for p in proctors if p)[:MAX_PROCTORS]), tuple(incidents[:MAX_INCIDENTS]),
                            heads)

    def unsent_revocations(self) -> list[tuple[str, str, bytes]]:
        return self.revocations.unsent()

    def mark_revocations_sent(self, sent: list[tuple[str, str, bytes]]) -> None:
        self.revocations.mark_sent(sent)
