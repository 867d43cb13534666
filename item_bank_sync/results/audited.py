"""Decisions and releases after review, entered in the central audit chain: what ``decide`` and
``intake release`` run, from the command line and from the staff pages alike.

Why: both write their own append-only record (``decisions``, ``intake_releases``) in the results
store, but a certification decision and an override of a custody check are exactly what an auditor
follows in the body's signed, hash-chained audit log (ISO/IEC 17024 9.4 and 4.2). Both faces call
these functions, so the chain holds the same entry with the same actor whichever was used; the
entry is written only once the action has succeeded.
"""

from __future__ import annotations

from item_bank_sync.context import CentralContext
from item_bank_sync.results.decisions import Decision, decide
from item_bank_sync.results.intake import Intake
from item_bank_sync.results.release import Release, release

#: The longest reason copied into an audit entry (the full one stays in the record).
REASON_IN_ENTRY = 1000


def decide_audited(ctx: CentralContext, attempt_id: str, by: str, outcome: str, reason: str) -> Decision:
    """:func:`~item_bank_sync.results.decisions.decide`, then the ``decide`` entry by ``by``."""
    decision = decide(ctx.open_results_db(), attempt_id, by, outcome, reason)
    ctx.audit_log().append(by, "decide", {"attempt_id": attempt_id, "outcome": decision.outcome,
                                          "reason": decision.reason[:REASON_IN_ENTRY]})
    return decision


def release_audited(ctx: CentralContext, intake: Intake, digest: str, by: str, reason: str) -> Release:
    """:func:`~item_bank_sync.results.release.release`, then the ``intake.release`` entry by ``by``."""
    done = release(intake, digest, by, reason)
    ctx.audit_log().append(by, "intake.release", {"envelope_sha256": digest, "attempt_id": done.attempt_id,
                                                  "waived": len(done.waived),
                                                  "reason": done.reason[:REASON_IN_ENTRY]})
    return done
