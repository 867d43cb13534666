"""Certificates are issued at RELEASE, not at the pass decision (ISO/IEC 17024 9.4; issue 17, item 2).

Why: until a result is released the body may still hold it (a centre's incident, a key item
analysis flags), and a certificate verifiable on the public site before the candidate was even
told would be one the body may have to take back. So a pass decision on an unreleased attempt
records the decision only (:func:`decide`); releasing a passed attempt issues its certificate
(:func:`settle`, called by :func:`item_bank_sync.release.holds.release`); a decision on a result
already released (an appeal's re-score, a re-mark) issues at once, as before. A pass on a
re-examination renews the holder's certificate instead of issuing a second one
(:func:`item_bank_sync.recertification.renewal.renew_on_pass`).

Nothing twice: the release row and the certificate live in two stores (results and bank), so they
cannot share one transaction. Instead every step is idempotent and a retried release finishes what
a stopped one left: :func:`settle` issues only for a released pass with no certificate at all for
the attempt (the registry's own per-attempt lock makes two at once issue one), and the notices are
claimed per attempt (:mod:`item_bank_sync.release.notices`). A certificate withdrawn later is never
re-issued by a retry: only a new pass decision does that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from exam_core.errors import InvigilError
from item_bank_sync.certificates.decision import Recorded, record_decision
from item_bank_sync.certificates.registry import CertificateRegistry
from item_bank_sync.certificates.schema import certificates
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import fetch_all
from item_bank_sync.recertification.renewal import renew_on_pass
from item_bank_sync.recertification.schema import recert_renewals
from item_bank_sync.release.notices import pending, tell
from item_bank_sync.release.records import latest_decision, release_of
from item_bank_sync.results.marking import person_key


@dataclass(frozen=True)
class Settled:
    """What following up released results did: certificates issued (attempt -> certificate id),
    those that could not be issued (attempt -> why), and the notices sent (attempt -> status)."""

    certificates: dict[str, str] = field(default_factory=dict)
    not_issued: dict[str, str] = field(default_factory=dict)
    told: dict[str, str] = field(default_factory=dict)

    @property
    def did_anything(self) -> bool:
        return bool(self.certificates or self.not_issued or self.told)


def issue_passed(ctx: CentralContext, attempt_id: str, by: str) -> str:
    """Certify a released pass; returns the certificate's id. A pass on a re-examination renews the
    holder's certificate (:func:`renew_on_pass`: a new credential, the old one superseded) instead of
    issuing a second one; otherwise the certificate is issued (the existing one when issued already)."""
    renewal = renew_on_pass(ctx, attempt_id, by)
    if renewal is not None:
        return renewal.certificate_id
    return CertificateRegistry(ctx).issue(attempt_id, by).certificate_id


def decide(ctx: CentralContext, attempt_id: str, by: str, outcome: str, reason: str, *,
           flags_reviewed: bool = False) -> Recorded:
    """Record (:func:`record_decision`) and, for a pass on a result already released, issue at once."""
    recorded = record_decision(ctx, attempt_id, by, outcome, reason, flags_reviewed=flags_reviewed)
    if outcome != "pass" or release_of(ctx, attempt_id) is None:
        return recorded
    return Recorded(recorded.decision, issue_passed(ctx, attempt_id, by))


def _never_issued(ctx: CentralContext, attempt_ids: list[str]) -> list[str]:
    """Those of ``attempt_ids`` no certificate was ever issued for and that renewed none (withdrawn
    ones count as issued)."""
    c, n = certificates.c, recert_renewals.c
    issued = {r[0] for r in fetch_all(ctx.open_bank_db(), select(c.attempt_id).where(c.attempt_id.in_(attempt_ids)))}
    renewed = {r[0] for r in fetch_all(ctx.open_bank_db(), select(n.reexam_attempt_id)
                                       .where(n.reexam_attempt_id.in_(attempt_ids), n.status == "done"))}
    return [a for a in attempt_ids if a not in issued | renewed]


def _passed(ctx: CentralContext, attempt_ids: list[str]) -> list[str]:
    with ctx.open_results_db().connect() as conn:
        return [a for a in attempt_ids if (latest_decision(conn, a) or {}).get("outcome") == "pass"]


def _issue_all(ctx: CentralContext, attempt_ids: list[str], by: str) -> tuple[dict[str, str], dict[str, str]]:
    issued: dict[str, str] = {}
    refused: dict[str, str] = {}
    for attempt_id in _passed(ctx, _never_issued(ctx, attempt_ids)):
        try:
            issued[attempt_id] = issue_passed(ctx, attempt_id, by)
        except InvigilError as exc:      # e.g. the releaser declared a conflict with the holder
            refused[attempt_id] = str(exc)
    return issued, refused


def settle(ctx: CentralContext, by: str, attempt_ids: list[str]) -> Settled:
    """Issue the certificates of the released passes among ``attempt_ids`` and tell their candidates;
    what was done before (a retry, two releasers at once) is not done again."""
    if not attempt_ids:
        return Settled()
    issued, refused = _issue_all(ctx, attempt_ids, by)
    told = {n.attempt_id: n.status for n in tell(ctx, pending(ctx, attempt_ids))}
    if told:
        entry: dict[str, Any] = {"attempts": sorted(told), "sent": sorted(a for a, s in told.items() if s == "sent")}
        ctx.audit_log().append(person_key(by), "results.notify", entry)
    return Settled(issued, refused, told)
