"""Releasing a quarantined envelope after human review (``intake release``).

Two intake checks are about custody, not about the envelope itself: the journal heads the
centre's console saw must lie on the sealed journal (:class:`~item_bank_sync.results.intake.JournalHeadRefusal`),
and the kiosk key must not have sealed it after its centre revoked it
(:class:`~item_bank_sync.results.intake.RevokedKioskRefusal`). Either failure is evidence for a person to
weigh (a kiosk that lost power mid-write, a revocation made minutes late), so it quarantines the
envelope rather than deciding. ``intake retry`` cannot help there: the evidence does not change.

A release is the explicit, recorded decision to score the attempt anyway. It runs every check
again with only those two waived, so an envelope whose chain, signatures, sealing, content,
window or replay check fails (tampered, undecryptable, foreign, a second envelope) is never
released. The person releasing must not have proctored the attempt (as far as the centre's
console said who did), and must give a reason. The quarantine reason, the waived refusals, who,
why and when are kept in ``intake_releases`` (append-only), the envelope's listed reason says it
was released, and the quarantine row with the bytes stays as it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from exam_core.errors import ArtefactError, InvigilError, ValidationError
from exam_core.timestamps import format_time, utc_now
from item_bank_sync.db.sql import fetch_all
from item_bank_sync.results.intake import Intake, IntakeRefusal, ReviewableRefusal, attestation_flags
from item_bank_sync.results.marking import person_key
from item_bank_sync.results.schema import intake_releases

REASON_MAX = 2000


class ReleaseRefused(InvigilError):
    """The envelope cannot be released (the reason says why)."""


@dataclass(frozen=True)
class Release:
    envelope_sha256: str
    attempt_id: str
    quarantine_reason: str
    waived: tuple[str, ...]
    released_by: str
    reason: str
    released_at: str
    flags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"envelope_sha256": self.envelope_sha256, "status": "accepted", "attempt_id": self.attempt_id,
                "quarantine_reason": self.quarantine_reason, "waived": list(self.waived),
                "released_by": self.released_by, "reason": self.reason, "released_at": self.released_at,
                "flags": list(self.flags)}


def release(intake: Intake, digest: str, by: str, reason: str) -> Release:
    """Accept and score a quarantined envelope whose only failures are custody checks (module doc)."""
    person = person_key(by)
    if not isinstance(reason, str) or not reason.strip() or len(reason) > REASON_MAX:
        raise ValidationError("reason", f"must be given (1-{REASON_MAX} characters)")
    held = intake.quarantined(digest)
    if held is None:
        raise ReleaseRefused(f"no quarantined envelope {digest[:16]}...")
    data, centre, meta, received, _, quarantine_reason = held
    if person in {person_key(p) for p in meta.proctors}:
        raise ReleaseRefused(f"{by} proctored this attempt (as the centre reported) and cannot release it "
                             "(ISO/IEC 17024 impartiality)")
    waived: list[ReviewableRefusal] = []
    try:
        opened, scoring, scored = intake.evaluate(data, centre, meta, received, waived)
    except (ArtefactError, ValidationError, IntakeRefusal) as exc:
        raise ReleaseRefused(f"not releasable: it fails a check no review can waive: {exc}") from None
    if not waived:
        raise ReleaseRefused("it passes every check now: use `intake retry`, which needs no override")
    now = format_time(utc_now())
    record = Release(digest, opened.attempt.attempt_id, quarantine_reason, tuple(str(w)[:500] for w in waived),
                     person, reason.strip(), now)

    def write_record(conn: Connection) -> None:
        conn.execute(insert(intake_releases).values(
            envelope_sha256=digest, attempt_id=record.attempt_id, quarantine_reason=quarantine_reason,
            waived_json=json.dumps(list(record.waived)), released_by=person, reason=record.reason, released_at=now))

    note = f"released by {person} after review ({record.reason}); quarantined: {quarantine_reason}"
    verdict = intake.promote(digest, centre, opened, scoring, scored, meta, note, write_record)
    return Release(**{**record.__dict__, "flags": attestation_flags(verdict)})


def releases(results: Engine) -> list[dict[str, Any]]:
    """Every release made, oldest first (for listing and audits)."""
    r = intake_releases.c
    rows = fetch_all(results, select(r.envelope_sha256, r.attempt_id, r.quarantine_reason, r.waived_json,
                                     r.released_by, r.reason, r.released_at).order_by(r.id))
    return [{"envelope_sha256": r[0], "attempt_id": r[1], "quarantine_reason": r[2], "waived": json.loads(r[3]),
             "released_by": r[4], "reason": r[5], "released_at": r[6]} for r in rows]
