"""Decisions, marks and releases after review, entered in the central audit chain: what ``decide``,
``marking mark|adjudicate`` and ``intake release`` run, from the command line and from the staff
pages alike.

Why: each writes its own record (``decisions``, ``marks``, ``intake_releases``) in the results
store, but a certification decision, a mark that sets a candidate's score and an override of a
custody check are exactly what an auditor follows in the body's signed, hash-chained audit log
(ISO/IEC 17024 9.4 and 4.2). Both faces call these functions, so the chain holds the same entry
with the same actor whichever was used; the entry is written only once the action has succeeded.

A mark's entry holds ids and scores only: never the candidate's response, never the marker's
note (free text about a candidate's answer stays in the results store, where access is by role).
"""

from __future__ import annotations

from item_bank_sync.context import CentralContext
from item_bank_sync.results.decisions import Decision, decide
from item_bank_sync.results.intake import Intake
from item_bank_sync.results.marking import MarkOutcome, adjudicate, record_mark
from item_bank_sync.results.release import Release, release

#: The longest reason copied into an audit entry (the full one stays in the record).
REASON_IN_ENTRY = 1000


def decide_audited(ctx: CentralContext, attempt_id: str, by: str, outcome: str, reason: str, *,
                   flags_reviewed: bool = False) -> Decision:
    """:func:`~item_bank_sync.results.decisions.decide`, then the ``decide`` entry by ``by`` (with
    how many integrity flags the decider stated they reviewed, when there were any)."""
    decision = decide(ctx.open_results_db(), attempt_id, by, outcome, reason, flags_reviewed=flags_reviewed)
    entry: dict[str, object] = {"attempt_id": attempt_id, "outcome": decision.outcome,
                                "reason": decision.reason[:REASON_IN_ENTRY]}
    if decision.integrity_flags_reviewed:
        entry["integrity_flags_reviewed"] = decision.integrity_flags_reviewed
    ctx.audit_log().append(by, "decide", entry)
    return decision


def release_audited(ctx: CentralContext, intake: Intake, digest: str, by: str, reason: str) -> Release:
    """:func:`~item_bank_sync.results.release.release`, then the ``intake.release`` entry by ``by``."""
    done = release(intake, digest, by, reason)
    ctx.audit_log().append(by, "intake.release", {"envelope_sha256": digest, "attempt_id": done.attempt_id,
                                                  "waived": len(done.waived),
                                                  "reason": done.reason[:REASON_IN_ENTRY]})
    return done


def mark_audited(ctx: CentralContext, task_id: int, by: str, score: float, note: str = "") -> MarkOutcome:
    """:func:`~item_bank_sync.results.marking.record_mark`, then the ``marking.mark`` entry by ``by``."""
    outcome = record_mark(ctx.open_results_db(), task_id, by, score, note)
    ctx.audit_log().append(by, "marking.mark", _mark_entry(outcome, score))
    return outcome


def adjudicate_audited(ctx: CentralContext, task_id: int, by: str, score: float, note: str = "") -> MarkOutcome:
    """:func:`~item_bank_sync.results.marking.adjudicate`, then the ``marking.adjudicate`` entry by ``by``."""
    outcome = adjudicate(ctx.open_results_db(), task_id, by, score, note)
    ctx.audit_log().append(by, "marking.adjudicate", _mark_entry(outcome, score))
    return outcome


def _mark_entry(outcome: MarkOutcome, score: float) -> dict[str, object]:
    """Ids and scores of a mark (module doc: no response, no note)."""
    return {"task_id": outcome.task_id, "attempt_id": outcome.attempt_id, "score": score,
            "status": outcome.status, "final_score": outcome.final_score}
