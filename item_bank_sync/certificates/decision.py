"""Recording a certification decision, as ``decide`` and the staff decision page both do.

One function so the two faces cannot drift: the decider's declared conflicts of interest with the
candidate are checked (:func:`item_bank_sync.sittings.impartiality.check_attempt`), the decision
is recorded by :func:`item_bank_sync.results.decisions.decide` (which refuses a proctor, marker or
adjudicator of the attempt and a contradiction of the score) and entered in the audit chain
(:func:`item_bank_sync.results.audited.decide_audited`).

It issues nothing: a certificate is issued when the result is released (ISO/IEC 17024 9.4), which
is the release package's business (:func:`item_bank_sync.release.issuing.decide` wraps this and
issues at once for a pass on a result already released). Certificates sit below release in the
layering, so this module cannot know about releases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from item_bank_sync.context import CentralContext
from item_bank_sync.results.audited import decide_audited
from item_bank_sync.results.decisions import Decision
from item_bank_sync.sittings.impartiality import check_attempt, staff


@dataclass(frozen=True)
class Recorded:
    """The decision made and, when the caller issued one with it, the certificate's id."""

    decision: Decision
    certificate_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.decision.__dict__)
        if self.certificate_id is not None:
            data["certificate_id"] = self.certificate_id
        return data


def record_decision(ctx: CentralContext, attempt_id: str, by: str, outcome: str, reason: str, *,
                    flags_reviewed: bool = False) -> Recorded:
    """Check, record and audit the decision of ``by`` on ``attempt_id`` (no certificate: see the module).
    ``flags_reviewed``: the decider states they reviewed the attempt's integrity flags (needed for
    pass or fail when it has any)."""
    check_attempt(ctx, staff(by, "decision_maker"), attempt_id, "decide this candidate's result")
    return Recorded(decide_audited(ctx, attempt_id, by, outcome, reason, flags_reviewed=flags_reviewed))
