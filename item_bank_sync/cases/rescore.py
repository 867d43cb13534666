"""Re-scoring an attempt by replaying its exact original inputs (ISO/IEC 17024 9.8; issue 17, item 5).

A replay re-opens the envelope's stored bytes (checked against the SHA-256 the attempt was accepted
under), verifies them as intake did (the chain as of the moment they were received), reads the
form version and its item versions' answer keys from the bank (versions are immutable: they are
the keys as they were), uses the cut score stored with the attempt when it was scored, and scores
again with the same scoring code. Human-marked slots keep their final marks (a re-mark is a
marker's job, not a replay's). The result is compared with the stored scores bit for bit (the
IEEE-754 bytes of each slot's score), so "reproduced" means exactly that.

After a key correction (an item found to be mis-keyed), the corrected key replaces the original for
that item only, and applying the re-score changes the stored scores; if that turns a pass into a
fail or the reverse, a new decision is recorded through the release's ``decide`` (a
pass on a released result issues the certificate) and a fail withdraws a standing certificate. Every re-score is kept in
``rescores`` and entered in the audit chain, applied or not.

A new decision on an attempt with integrity flags needs the decider to state they reviewed them, as
any decision does (``results.decisions``). The handler applying a re-score or re-mark has reviewed
the case, but says so explicitly (``flags_reviewed``: the CLI's ``--flags-reviewed``, the page's
check box); without it a change of outcome on a flagged attempt is refused *before* any score is
written, so a refusal never leaves new scores behind an old decision.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import insert, select, update

from exam_core.errors import InvigilError, ValidationError
from exam_core.model import AnswerKey
from exam_core.timestamps import format_time, parse_time, utc_now
from item_bank_sync.cases.handling import involvement
from item_bank_sync.certificates.registry import CertificateRegistry
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import lock, write
from item_bank_sync.release.issuing import decide
from item_bank_sync.release.schema import rescores
from item_bank_sync.results.envelope import open_envelope
from item_bank_sync.results.intake import load_form_scoring
from item_bank_sync.results.decisions import integrity_flag_count
from item_bank_sync.results.marking import person_key, refresh_attempt_total
from item_bank_sync.results.schema import attempts, envelope_archive, envelopes, quarantine, response_scores
from item_bank_sync.results.scoring import HUMAN, passed, score_attempt
from item_bank_sync.sittings.impartiality import check_attempt, staff
from item_bank_sync.trust.identity import CentralKeys

Slot = tuple[str, str]


class RescoreRefused(InvigilError):
    """The attempt cannot be replayed (unknown, bytes not kept, bytes changed, key for another item)."""


@dataclass(frozen=True)
class Rescore:
    """One re-score: its inputs' digests, the scores before and after, and whether they are identical."""

    attempt_id: str
    kind: str
    inputs: dict[str, Any]
    before_total: float | None
    after_total: float
    before_passed: bool | None
    after_passed: bool | None
    identical: bool
    changed_slots: list[str] = field(default_factory=list)
    applied: bool = False
    decision: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _bits(value: float | None) -> bytes | None:
    return None if value is None else struct.pack("<d", float(value))


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def envelope_bytes(ctx: CentralContext, digest: str) -> bytes:
    """The exact bytes an attempt was accepted from (archived, or kept by the quarantine it left)."""
    with ctx.open_results_db().connect() as conn:
        data = conn.execute(select(envelope_archive.c.envelope).where(envelope_archive.c.sha256 == digest)).scalar()
        if data is None:
            data = conn.execute(select(quarantine.c.envelope).where(quarantine.c.sha256 == digest)
                                .order_by(quarantine.c.id.desc()).limit(1)).scalar()
    if data is None:
        raise RescoreRefused(f"the bytes of envelope {digest[:16]}... were not kept (accepted before re-scores "
                             "were possible); it cannot be replayed")
    data = bytes(data)
    if hashlib.sha256(data).hexdigest() != digest:
        raise RescoreRefused(f"the stored bytes of envelope {digest[:16]}... no longer match their digest")
    return data


def _attempt(ctx: CentralContext, attempt_id: str) -> dict[str, Any]:
    a, e = attempts.c, envelopes.c
    with ctx.open_results_db().connect() as conn:
        row = conn.execute(select(a.attempt_id, a.envelope_sha256, a.form_id, a.form_version, a.cut_score, a.total,
                                  a.passed, a.scoring_status, e.received_at)
                           .join_from(attempts, envelopes, e.sha256 == a.envelope_sha256)
                           .where(a.attempt_id == attempt_id)).mappings().first()
        if row is None:
            raise RescoreRefused(f"attempt {attempt_id} is not in the results")
        s = response_scores.c
        stored = {(r[0], r[1]): r[2] for r in conn.execute(select(s.item_id, s.response_id, s.score)
                                                            .where(s.attempt_id == attempt_id))}
    return {**dict(row), "stored": stored}


def _keys(ctx: CentralContext, attempt: dict[str, Any], corrections: dict[str, AnswerKey]) -> list[AnswerKey]:
    keys = load_form_scoring(ctx.open_bank_db(), attempt["form_id"], attempt["form_version"]).keys
    unknown = sorted(set(corrections) - {k.item_id for k in keys})
    if unknown:
        raise RescoreRefused(f"item {unknown[0]} is not on form {attempt['form_id']} v{attempt['form_version']}")
    return [corrections.get(k.item_id, k) for k in keys]


def compute(ctx: CentralContext, attempt_id: str, corrections: dict[str, AnswerKey] | None = None
            ) -> tuple[Rescore, dict[Slot, float | None], dict[Slot, float | None]]:
    """Replay the attempt (with ``corrections`` to items' keys) and compare; nothing is written.
    Returns the comparison, the replayed score of each response slot and the stored one (so a
    reader can put both side by side with their bits rather than trust ``identical``)."""
    corrections = corrections or {}
    attempt = _attempt(ctx, attempt_id)
    data = envelope_bytes(ctx, attempt["envelope_sha256"])
    central = CentralKeys.load(ctx)
    opened = open_envelope(data, central.root_public, central.results, (),
                           received=parse_time(attempt["received_at"], "envelopes.received_at"))
    if opened.attempt.attempt_id != attempt_id:
        raise RescoreRefused(f"envelope {attempt['envelope_sha256'][:16]}... is not attempt {attempt_id}'s")
    keys = _keys(ctx, attempt, corrections)
    scored = score_attempt(keys, opened.responses)
    stored: dict[Slot, float | None] = attempt["stored"]
    after: dict[Slot, float | None] = {}
    for r in scored.responses:
        slot = (r.item_id, r.response_id)
        after[slot] = stored.get(slot) if r.template == HUMAN else r.score
    changed = sorted(f"{i}.{r}" for (i, r) in set(after) | set(stored)
                     if _bits(after.get((i, r))) != _bits(stored.get((i, r))))
    total = sum(v for v in after.values() if v is not None)
    cut = attempt["cut_score"]
    complete = all(v is not None for v in after.values())
    inputs = {"envelope_sha256": attempt["envelope_sha256"], "form": f"{attempt['form_id']} v{attempt['form_version']}",
              "keys_sha256": _digest([k.to_dict() for k in keys]), "cut_score": cut,
              "corrected_items": sorted(corrections)}
    before = None if attempt["passed"] is None else bool(attempt["passed"])
    result = Rescore(attempt_id, "key_correction" if corrections else "replay", inputs, attempt["total"], total,
                     before, passed(total, cut) if cut is not None and complete else None, not changed, changed)
    return result, after, dict(stored)


def rescore(ctx: CentralContext, attempt_id: str, by: str, reason: str, *,
            corrections: dict[str, AnswerKey] | None = None, apply: bool = False,
            flags_reviewed: bool = False) -> Rescore:
    """Replay and record the re-score (audited); with ``apply`` store changed scores and act on a
    changed pass/fail (a new decision by ``by``, the certificate issued or withdrawn).
    ``flags_reviewed``: ``by`` states they reviewed the attempt's integrity flags (see the module)."""
    actor = person_key(by)
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 2000:
        raise ValidationError("reason", "must be given (1-2000 characters)")
    result, after, _stored = compute(ctx, attempt_id, corrections)
    applied = apply and not result.identical
    if applied:
        check_applier(ctx, attempt_id, by, "apply a re-score")
        check_flags(ctx, result, flags_reviewed)
    now = format_time(utc_now())
    with write(ctx.open_results_db()) as conn:
        lock(conn, f"attempt:{attempt_id}")
        if applied:
            s = response_scores.c
            for (item_id, response_id), score in after.items():
                conn.execute(update(response_scores).where(s.attempt_id == attempt_id, s.item_id == item_id,
                                                           s.response_id == response_id).values(score=score))
            refresh_attempt_total(conn, attempt_id, now)
        conn.execute(insert(rescores).values(
            attempt_id=attempt_id, kind=result.kind, by=actor, reason=reason.strip(),
            inputs_json=json.dumps(result.inputs, sort_keys=True), before_total=result.before_total,
            after_total=result.after_total, before_passed=_int(result.before_passed),
            after_passed=_int(result.after_passed), identical=int(result.identical), at=now))
    ctx.audit_log().append(actor, "results.rescore", {"attempt_id": attempt_id, "kind": result.kind,
                                                      "identical": result.identical, "applied": applied,
                                                      "before_total": result.before_total,
                                                      "after_total": result.after_total, **result.inputs})
    decision = act_on_change(ctx, result, by, reason, flags_reviewed=flags_reviewed) if applied else None
    return Rescore(**{**asdict(result), "applied": applied, "decision": decision})


def _int(value: bool | None) -> int | None:
    return None if value is None else int(value)


def changes_outcome(result: Rescore) -> bool:
    """Whether the re-score or re-mark turns a pass into a fail or the reverse."""
    return result.after_passed is not None and result.after_passed != result.before_passed


def check_applier(ctx: CentralContext, attempt_id: str, by: str, action: str) -> None:
    """Refuse, before any score is written, one who took part in the attempt (:func:`involvement`)
    or declared a conflict with its candidate: changed scores are a judgement on the result, made by
    someone impartial (ISO/IEC 17024 9.8), even when the outcome stays and no decision follows."""
    roles = involvement(ctx, attempt_id, by)
    if roles:
        raise RescoreRefused(f"{by} acted as {' and '.join(roles)} on attempt {attempt_id}; only someone who took "
                             f"no part in it may {action}")
    check_attempt(ctx, staff(by, "decision_maker"), attempt_id, f"{action} to this candidate's result")


def check_flags(ctx: CentralContext, result: Rescore, flags_reviewed: bool) -> None:
    """Refuse, before anything is written, a change of outcome on an attempt with integrity flags
    that the handler did not state they reviewed (the new decision would be refused after the
    scores changed)."""
    if flags_reviewed or not changes_outcome(result):
        return
    flags = integrity_flag_count(ctx.open_results_db(), result.attempt_id)
    if flags:
        raise RescoreRefused(f"attempt {result.attempt_id} has {flags} integrity flag(s) and this "
                             f"{result.kind.replace('_', ' ')} changes its outcome: review them and state that you "
                             "did (--flags-reviewed, the page's check box) before applying it")


def act_on_change(ctx: CentralContext, result: Rescore, by: str, reason: str, *,
                  flags_reviewed: bool = False) -> str | None:
    """A changed pass/fail becomes a new decision; a fail withdraws the certificate a pass issued.
    ``flags_reviewed`` is passed to the decision as the handler stated it, never assumed."""
    if not changes_outcome(result):
        return None
    outcome = "pass" if result.after_passed else "fail"
    decide(ctx, result.attempt_id, by, outcome, f"{result.kind.replace('_', ' ')}: {reason.strip()}",
           flags_reviewed=flags_reviewed)
    if outcome == "fail":
        registry = CertificateRegistry(ctx)
        cert = registry.of_attempt(result.attempt_id)
        if cert is not None and cert.status in ("valid", "suspended"):
            registry.withdraw(cert.certificate_id, by, f"result changed ({result.kind.replace('_', ' ')})")
    return outcome
