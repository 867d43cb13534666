"""Intake: verify, open, de-duplicate, score and receipt the sealed response envelopes.

For each envelope, in this order (the first failure quarantines it, with the reason):

0. **Delivering centre**: an envelope whose header names another centre than the one delivering
   it is rejected at once, with no row and no receipt (:func:`misdelivery`): it must not take the
   envelope's slot (its hash) from the centre it belongs to (issue 13, M2).
1. **Idempotency**: the SHA-256 of the exact bytes is looked up first. An envelope seen before
   gets the receipt it got then, byte for byte, whatever its fate was; nothing is re-processed.
   A receipt names the centre it was taken in from and the status then (``exam_core.receipt``).
2. **Chain**: the envelope's certificate chain must lead kiosk -> centre -> this central body,
   be unrevoked, valid at the envelope's ``created`` time *and* at the moment the central body
   received it (its own clock: a kiosk whose certificate has expired cannot backdate ``created``
   into its validity), and the centre in the chain must be the centre that delivered it.
3. **Signatures and sealing**: the kiosk-signed header and the kiosk-signed inner payload, opened
   with the central results key (``exam_core.envelope``); header and payload must agree.
4. **Content**: the attempt belongs to the delivering centre and to the certified kiosk; the form
   version and package exist in the bank and match; the journal head in the payload equals the
   one in the signed header and the response sequence numbers are unique.
   **Window**: ``created`` lies within the package's window, from ``opens`` (less
   ``CLOCK_SKEW``) to ``closes`` plus a grace: the form's duration stretched by the attempt's
   extra-time accommodation (once: ``exam_core.model.allowed_seconds``), plus
   ``INTERRUPTION_ALLOWANCE`` for pauses, rest breaks and incidents (which never run the exam
   clock). A candidate admitted just before ``closes`` can thus submit.
5. **Replays**: a second, different envelope for an attempt already accepted is a replay.
6. **Scoring**: with the answer keys from the bank (they never left the central body).
7. **Review**: the attempt's timing record, and why its result needs a person's decision (a
   proctor ended it; its time allowed or accommodations differ from its form's and scheme's:
   :mod:`item_bank_sync.results.review`), are stored with it; such an attempt is accepted, not refused.

Journal-head and kiosk revocation quarantines (:class:`ReviewableRefusal`) are custody evidence for
a person to weigh; :mod:`item_bank_sync.results.release` lets one release them after review.

An accepted envelope, its responses, scores, marking tasks and the signed receipt are written in
one ``synchronous=FULL`` transaction before the receipt is returned: once a centre holds a
receipt, the central body holds the data, and the centre may delete its copy. A quarantined
envelope's bytes are kept too, so the receipt is honest for it as well.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from collections.abc import Callable

from sqlalchemy import Connection, Engine, case, delete, insert, select, update

from exam_core import limits
from exam_core.envelope import read_unverified_header
from exam_core.errors import ArtefactError, InvigilError, ValidationError
from exam_core.model import AccommodationPolicy, AnswerKey, Attempt, Form, allowed_seconds
from exam_core.protocol import JournalHeadInfo
from exam_core.receipt import issue_receipt
from exam_core.sync_wire import ACCEPTED, QUARANTINED, REJECTED, EnvelopeMeta, EnvelopeOutcome
from exam_core.timestamps import format_time, parse_time, utc_now
from item_bank_sync.bank.schema import forms, item_instances, items, packages, schemes
from item_bank_sync.db.sql import fetch_one, insert_ignore_many, lock, write
from item_bank_sync.results import marking
from item_bank_sync.results.envelope import OpenedEnvelope, open_envelope
from item_bank_sync.results.review import review, scheme_policy
from item_bank_sync.results.cuts import CutInForce, cut_in_force
from item_bank_sync.results.schema import (attempt_roles, attempts, envelope_archive, envelopes, incidents, quarantine,
                                           response_scores)
from item_bank_sync.results.schema import responses as responses_table
from item_bank_sync.results.scoring import AttemptScore, score_attempt
from item_bank_sync.trust import kiosk_revocations, release_allowlist
from item_bank_sync.trust.schema import attestation_checks
from item_bank_sync.trust.identity import CentralKeys

#: Kiosk clocks follow the console's; a few minutes of drift before ``opens`` are not a breach.
CLOCK_SKEW = timedelta(minutes=10)
#: Wall time an attempt may spend paused or on breaks beyond its (extended) duration.
INTERRUPTION_ALLOWANCE = timedelta(hours=2)
#: The metadata of an envelope delivered without any (an empty EnvelopeMeta; shared, it is read-only).
NO_META = EnvelopeMeta()


class IntakeRefusal(InvigilError):
    """An envelope that verified cryptographically but cannot be accepted (reason given)."""


class ReviewableRefusal(IntakeRefusal):
    """A failed custody check that a person may override after review (``intake release``): the
    envelope verified, opened and belongs here; what failed is evidence about how it got here."""


class JournalHeadRefusal(ReviewableRefusal):
    """The sealed journal does not contain a head the console saw (cut off, forked, or no chain)."""


class RevokedKioskRefusal(ReviewableRefusal):
    """The kiosk key sealed the envelope at or after its centre revoked it."""


def check_journal_heads(opened: OpenedEnvelope, heads: tuple[JournalHeadInfo, ...]) -> None:
    """The sealed journal must extend every head the console saw: each one is a row of its chain.

    A head beyond the sealed journal's end means rows were cut off its tail; a head whose row
    in the sealed chain has another hash means the journal was rolled back and rewritten (the
    row count alone would not show it). Either way the attempt goes to human review.
    """
    if not heads:
        return
    attempt_id = opened.attempt.attempt_id
    if opened.journal_chain is None:
        raise JournalHeadRefusal(f"journal of attempt {attempt_id}: the console saw {len(heads)} journal head(s) but "
                            "the envelope carries no journal chain to check them against")
    for head in heads:
        seq, head_hash = head.seq, head.hash
        if seq > opened.journal_seq:
            raise JournalHeadRefusal(f"journal of attempt {attempt_id} was cut off: the sealed journal ends at row "
                                f"{opened.journal_seq}, but the console saw row {seq} in the kiosk's heartbeats")
        if opened.journal_chain[(seq - 1) * 32:seq * 32].hex() != head_hash:
            raise JournalHeadRefusal(f"journal of attempt {attempt_id} forked: row {seq} of the sealed journal is not "
                                "the row the console saw in the kiosk's heartbeats (answers may have been rolled "
                                "back and rewritten)")


def attestation_flags(verdict: release_allowlist.AttestationVerdict) -> tuple[str, ...]:
    return (f"release attestation {verdict.status}: {verdict.reason}",) if verdict.flagged else ()


def check_kiosk_not_revoked(conn: Any, opened: OpenedEnvelope) -> None:
    """An envelope the kiosk key sealed at or after its centre revoked it is untrusted."""
    revoked = kiosk_revocations.revocation_of(conn, opened.centre_id, opened.kiosk_id, opened.kiosk_key_id)
    if revoked is None:
        return
    if parse_time(opened.submitted_at, "header.created") >= parse_time(revoked["revoked_at"], "revoked_at"):
        raise RevokedKioskRefusal(f"kiosk {opened.kiosk_id} (key {opened.kiosk_key_id}) was revoked by centre "
                            f"{opened.centre_id} at {revoked['revoked_at']} by {revoked['revoked_by']} "
                            f"({revoked['reason'] or 'no reason given'}); this envelope was sealed at "
                            f"{opened.submitted_at}, after that")


@dataclass
class FormScoring:
    """A form's answer keys in form order and its cut score (None when the scheme has none)."""

    form: Form
    keys: list[AnswerKey]
    cut_score: float | None
    #: The scheme's accommodation policy (None when its stored document states none).
    policy: AccommodationPolicy | None = None
    #: Where the cut comes from: the adopted or scheme cut, through the form's equating (issue 19).
    cut_basis: CutInForce | None = None


class Intake:
    def __init__(self, bank: Engine, results: Engine, keys: CentralKeys,
                 revocations: list[bytes], clock: Callable[[], datetime] = utc_now) -> None:
        self.clock = clock
        self.bank = bank
        self.results = results
        self.keys = keys
        self.revocations = revocations
        self._forms: dict[tuple[str, int], FormScoring] = {}

    # --- the whole step ---------------------------------------------------------------------------
    def receive(self, data: bytes, via_centre: str, meta: EnvelopeMeta = NO_META) -> EnvelopeOutcome:
        """Take in one envelope delivered by ``via_centre``: a signed receipt for every envelope of
        ``via_centre`` that can be read; nothing recorded, and no receipt, for another centre's."""
        digest = hashlib.sha256(data).hexdigest()
        misdelivered = misdelivery(data, digest, via_centre)
        if misdelivered is not None:
            return misdelivered
        self._forget_misdelivery(digest, via_centre)
        seen = self._seen(digest)
        if seen is not None:
            return seen
        if len(data) > limits.ENVELOPE_MAX_BYTES:
            return EnvelopeOutcome(digest, REJECTED,
                                   f"envelope of {len(data)} bytes exceeds {limits.ENVELOPE_MAX_BYTES}", None, None)
        received = self.clock()
        try:
            opened, scoring, scored = self.evaluate(data, via_centre, meta, received)
        except (ArtefactError, ValidationError, IntakeRefusal) as exc:
            try:
                read_unverified_header(data)
            except ArtefactError as unreadable:
                # Not even a readable envelope: no receipt can name it, so the centre keeps its copy.
                return EnvelopeOutcome(digest, REJECTED, f"unreadable envelope: {unreadable}", None, None)
            return self._quarantine(data, digest, via_centre, exc, meta, received)
        return self._accept(data, digest, via_centre, opened, scoring, scored, meta, received)

    def evaluate(self, data: bytes, via_centre: str, meta: EnvelopeMeta, received: datetime,
                  waived: list[ReviewableRefusal] | None = None) -> tuple[OpenedEnvelope, FormScoring, AttemptScore]:
        """Steps 2-6 of the module doc: raises the reason an envelope cannot be accepted. With
        ``waived`` (a release after review), the custody checks' refusals are collected there
        instead; every other check still applies."""
        opened = open_envelope(data, self.keys.root_public, self.keys.results, self.revocations, received=received)
        opens, closes = self._check(opened, via_centre, meta, waived)
        scoring = self._form_scoring(opened.attempt.form_id, opened.attempt.form_version)
        check_window(opened, scoring.form, opens, closes)
        return opened, scoring, score_attempt(scoring.keys, opened.responses)

    def retry(self, digest: str) -> EnvelopeOutcome:
        """Run a quarantined envelope through every check again (after its cause was dealt with,
        e.g. a form added to the bank). Accepted now, it is stored as if it had just arrived; still
        failing, its quarantine reason is updated. Its receipt is unchanged either way."""
        held = self.quarantined(digest)
        if held is None:
            raise IntakeRefusal(f"no quarantined envelope {digest[:16]}...")
        data, centre, meta, received, _, _ = held  # the chain is judged as of arrival
        try:
            opened, scoring, scored = self.evaluate(data, centre, meta, received)
        except (ArtefactError, ValidationError, IntakeRefusal) as exc:
            with write(self.results) as conn:
                conn.execute(update(envelopes).where(envelopes.c.sha256 == digest).values(reason=str(exc)[:500]))
            return EnvelopeOutcome(digest, QUARANTINED, str(exc)[:500], None, self._recorded_receipt(digest))
        verdict = self.promote(digest, centre, opened, scoring, scored, meta)
        return EnvelopeOutcome(digest, ACCEPTED, "", opened.attempt.attempt_id, self._recorded_receipt(digest),
                               flags=attestation_flags(verdict))

    def quarantined(self, digest: str) -> tuple[bytes, str, EnvelopeMeta, datetime, str, str] | None:
        """``(bytes, centre, meta, received, error class, reason)`` of a quarantined envelope."""
        q, e = quarantine.c, envelopes.c
        row = fetch_one(self.results, select(q.envelope, q.centre_id, q.meta_json, q.received_at, q.error, e.reason)
                        .join_from(quarantine, envelopes, e.sha256 == q.sha256)
                        .where(q.sha256 == digest, e.status == QUARANTINED).order_by(q.id.desc()).limit(1))
        if row is None:
            return None
        return (bytes(row[0]), row[1], EnvelopeMeta.from_dict(json.loads(row[2])),
                parse_time(row[3], "quarantine.received_at"), row[4], row[5])

    def promote(self, digest: str, centre: str, opened: OpenedEnvelope, scoring: FormScoring, scored: AttemptScore,
                meta: EnvelopeMeta, note: str = "",
                also: Callable[[Connection], None] = lambda conn: None) -> release_allowlist.AttestationVerdict:
        """Store a quarantined envelope's attempt as accepted (its receipt unchanged), with ``also``
        run in the same transaction; refused as a replay if another envelope of the attempt won."""
        verdict = self._attestation(opened)
        with write(self.results) as conn:
            lock(conn, f"attempt:{opened.attempt.attempt_id}")
            if _attempt_known(conn, opened.attempt.attempt_id):
                raise IntakeRefusal(f"replay: attempt {opened.attempt.attempt_id} was already received in "
                                    "another envelope")
            conn.execute(update(envelopes).where(envelopes.c.sha256 == digest)
                         .values(status=ACCEPTED, reason=note[:500], attempt_id=opened.attempt.attempt_id))
            _store_attempt(conn, digest, centre, opened, scoring, scored, meta, None, format_time(utc_now()))
            release_allowlist.record(conn, digest, opened.attempt.attempt_id, verdict)
            also(conn)
        return verdict

    def _attestation(self, opened: OpenedEnvelope) -> release_allowlist.AttestationVerdict:
        return release_allowlist.judge(opened.attestation, opened.kiosk_public, opened.kiosk_id,
                                       release_allowlist.entries(self.results))

    def record_kiosk_revocations(self, via_centre: str, documents: tuple[bytes, ...]) -> int:
        """Record the centre's signed kiosk revocations before any envelope of the same upload is
        judged (all verify or none is recorded: the caller refuses the whole upload)."""
        return len(kiosk_revocations.record(self.results, self.bank, self.keys.root_public, via_centre, documents))

    def _seen(self, digest: str) -> EnvelopeOutcome | None:
        with self.results.connect() as conn:
            return _seen_in(conn, digest)

    def _recorded_receipt(self, digest: str) -> bytes | None:
        """The receipt of an envelope this intake has just recorded."""
        seen = self._seen(digest)
        if seen is None:
            raise IntakeRefusal(f"envelope {digest[:16]}... is not recorded")
        return seen.receipt

    def _forget_misdelivery(self, digest: str, via_centre: str) -> None:
        """Drop the quarantine of this envelope that an earlier version recorded when another centre
        delivered it first (issue 13, M2: it took the envelope's slot for good, and its receipt was
        then returned to the rightful centre). Only a quarantined row can name another centre."""
        with self.results.connect() as conn:
            held = conn.execute(select(envelopes.c.centre_id).where(envelopes.c.sha256 == digest)).first()
        if held is None or held[0] == via_centre:
            return
        with write(self.results) as conn:
            lock(conn, f"envelope:{digest}")
            conn.execute(delete(quarantine).where(quarantine.c.sha256 == digest, quarantine.c.centre_id != via_centre))
            conn.execute(delete(envelopes).where(envelopes.c.sha256 == digest, envelopes.c.centre_id != via_centre,
                                                 envelopes.c.status == QUARANTINED))

    # --- checks -------------------------------------------------------------------------------------
    def _check(self, opened: OpenedEnvelope, via_centre: str, meta: EnvelopeMeta,
               waived: list[ReviewableRefusal] | None = None) -> tuple[datetime, datetime]:
        """The content checks of step 4 and the replay check; returns the package's window."""
        attempt = opened.attempt
        for custody_check in (lambda: check_journal_heads(opened, meta.journal_heads),
                              lambda: self._check_kiosk_not_revoked(opened)):
            try:
                custody_check()
            except ReviewableRefusal as exc:
                if waived is None:
                    raise
                waived.append(exc)
        if opened.centre_id != via_centre:
            raise IntakeRefusal(f"envelope certified under centre {opened.centre_id} was delivered by {via_centre}")
        if attempt.centre_id != opened.centre_id:
            raise IntakeRefusal(f"attempt names centre {attempt.centre_id}, the chain {opened.centre_id}")
        if attempt.kiosk_id != opened.kiosk_id:
            raise IntakeRefusal(f"attempt names kiosk {attempt.kiosk_id}, the signer is {opened.kiosk_id}")
        p = packages.c
        package = fetch_one(self.bank, select(p.form_id, p.form_version, p.centre_id, p.opens, p.closes)
                            .where(p.package_id == attempt.package_id))
        if package is None:
            raise IntakeRefusal(f"package {attempt.package_id} was never published")
        if tuple(package[:3]) != (attempt.form_id, attempt.form_version, opened.centre_id):
            raise IntakeRefusal(f"package {attempt.package_id} is form {package[0]} v{package[1]} for centre "
                                f"{package[2]}, not form {attempt.form_id} v{attempt.form_version} here")
        if any(r.attempt_id != attempt.attempt_id for r in opened.responses):
            raise IntakeRefusal("a response belongs to another attempt")
        with self.results.connect() as conn:
            accepted = _attempt_known(conn, attempt.attempt_id)
        if accepted:
            raise IntakeRefusal(f"replay: attempt {attempt.attempt_id} was already received in another envelope")
        try:
            return parse_time(package[3], "packages.opens"), parse_time(package[4], "packages.closes")
        except ArtefactError:
            raise IntakeRefusal(f"package {attempt.package_id} has no readable window in the bank") from None

    def _check_kiosk_not_revoked(self, opened: OpenedEnvelope) -> None:
        with self.results.connect() as conn:
            check_kiosk_not_revoked(conn, opened)

    def _form_scoring(self, form_id: str, version: int) -> FormScoring:
        if (form_id, version) not in self._forms:
            self._forms[(form_id, version)] = load_form_scoring(self.bank, form_id, version)
        return self._forms[(form_id, version)]

    # --- writing ------------------------------------------------------------------------------------
    def _receipt(self, data: bytes, centre: str, status: str) -> bytes:
        """The receipt says from which centre the envelope was taken in and with what status, so a
        console drops its copy only on a receipt for its own delivery (``receipt.check_held_for``)."""
        return issue_receipt(self.keys.signing, data, self.keys.issuer, centre_id=centre, status=status)

    def _quarantine(self, data: bytes, digest: str, centre: str, exc: Exception,
                    meta: EnvelopeMeta, received: datetime) -> EnvelopeOutcome:
        now = format_time(received)
        reason = str(exc)[:500]
        attempt_id = read_unverified_header(data).attempt_id  # unverified: for listing only
        receipt = self._receipt(data, centre, QUARANTINED)
        with write(self.results) as conn:
            lock(conn, f"envelope:{digest}")  # a second delivery waits, then finds this one's receipt
            seen = _seen_in(conn, digest)
            if seen is not None:
                return seen
            conn.execute(insert(envelopes).values(sha256=digest, centre_id=centre, attempt_id=attempt_id,
                                                  status=QUARANTINED, reason=reason, receipt=receipt, received_at=now))
            conn.execute(insert(quarantine).values(sha256=digest, centre_id=centre, attempt_id=attempt_id,
                                                   error=type(exc).__name__, reason=reason, envelope=data,
                                                   received_at=now, meta_json=json.dumps(meta.to_dict())))
        return EnvelopeOutcome(digest, QUARANTINED, reason, attempt_id, receipt)

    def _accept(self, data: bytes, digest: str, centre: str, opened: OpenedEnvelope, scoring: FormScoring,
                scored: AttemptScore, meta: EnvelopeMeta, received: datetime) -> EnvelopeOutcome:
        attempt = opened.attempt
        now = format_time(received)
        receipt = self._receipt(data, centre, ACCEPTED)
        verdict = self._attestation(opened)
        with write(self.results) as conn:
            lock(conn, f"envelope:{digest}")
            lock(conn, f"attempt:{attempt.attempt_id}")
            seen = _seen_in(conn, digest)
            if seen is not None:
                return seen
            # re-checked under the write lock: a concurrent upload for the same attempt may have won
            replay = _attempt_known(conn, attempt.attempt_id)
            if not replay:
                _store_attempt(conn, digest, centre, opened, scoring, scored, meta, receipt, now)
                conn.execute(insert(envelope_archive).values(sha256=digest, envelope=data))  # for a re-score replay
                release_allowlist.record(conn, digest, attempt.attempt_id, verdict)
        if replay:
            refusal = IntakeRefusal(f"replay: attempt {attempt.attempt_id} was already received in another envelope")
            return self._quarantine(data, digest, centre, refusal, meta, received)
        return EnvelopeOutcome(digest, ACCEPTED, "", attempt.attempt_id, receipt, flags=attestation_flags(verdict))


def misdelivery(data: bytes, digest: str, via_centre: str) -> EnvelopeOutcome | None:
    """``REJECTED``, with no row and no receipt, for an envelope whose header names another centre
    than the one delivering it; None otherwise (an unreadable envelope is judged as before).

    Why nothing is recorded (issue 13, M2): the envelope's slot is its hash, so a quarantine row
    made for a second enrolled centre that delivered a copy first was found again when the
    rightful centre uploaded, which then got that row's receipt and deleted its copy; the envelope
    stayed quarantined for good. Only the centre an envelope names can hand it in; any other
    keeps its copy and learns nothing of the envelope's fate."""
    try:
        named = read_unverified_header(data).centre_id
    except ArtefactError:
        return None
    if named == via_centre:
        return None
    return EnvelopeOutcome(digest, REJECTED, f"envelope of centre {named} delivered by centre {via_centre}: only "
                                             "its own centre can hand it in (nothing recorded)", None, None)


def _seen_in(conn: Connection, digest: str) -> EnvelopeOutcome | None:
    """What was decided for an envelope already received (same receipt every time), or None."""
    e = envelopes.c
    row = conn.execute(select(e.status, e.reason, e.attempt_id, e.receipt).where(e.sha256 == digest)).first()
    if row is None:
        return None
    return EnvelopeOutcome(digest, row[0], row[1], row[2], bytes(row[3]), duplicate=True)


def _attempt_known(conn: Connection, attempt_id: str) -> bool:
    found = conn.execute(select(attempts.c.envelope_sha256).where(attempts.c.attempt_id == attempt_id)).first()
    return found is not None


def _store_attempt(conn: Connection, digest: str, centre: str, opened: OpenedEnvelope, scoring: FormScoring,
                   scored: AttemptScore, meta: EnvelopeMeta, receipt: bytes | None, now: str) -> None:
    """Write an accepted attempt; ``receipt`` None when its envelope row exists (a retry)."""
    attempt = opened.attempt
    if receipt is not None:
        conn.execute(insert(envelopes).values(sha256=digest, centre_id=centre, attempt_id=attempt.attempt_id,
                                              status=ACCEPTED, reason="", receipt=receipt, received_at=now))
    checked = review(attempt, scoring.form, opened.timings, opened.submission, scoring.policy)
    conn.execute(insert(attempts).values(
        time_allowed_ms=checked.time_allowed_ms, time_used_ms=checked.time_used_ms, ended_by=checked.ended_by,
        end_reason=checked.end_reason, review=checked.text,
        attempt_id=attempt.attempt_id, envelope_sha256=digest, candidate_id=attempt.candidate_id,
        form_id=attempt.form_id, form_version=attempt.form_version, package_id=attempt.package_id, centre_id=centre,
        kiosk_id=attempt.kiosk_id, seat=attempt.seat, submitted_at=opened.submitted_at,
        journal_head=opened.journal_head, attempt_json=json.dumps(attempt.to_dict(), sort_keys=True),
        item_time_json=json.dumps(opened.item_time_ms), cut_score=scoring.cut_score))
    _insert_many(conn, responses_table, [
        {"attempt_id": attempt.attempt_id, "seq": r.seq, "item_id": r.item_id, "response_id": r.response_id,
         "value_json": json.dumps(r.value), "wall_time": r.wall_time, "elapsed_ms": r.elapsed_ms}
        for r in opened.responses])
    _insert_many(conn, response_scores, [
        {"attempt_id": attempt.attempt_id, "item_id": s.item_id, "response_id": s.response_id,
         "template": s.template, "score": s.score, "max_score": s.max_score} for s in scored.responses])
    marking.create_tasks(conn, attempt.attempt_id,
                         [(s.item_id, s.response_id, s.max_score) for s in scored.pending], now, attempt.form_id)
    insert_ignore_many(conn, attempt_roles, [
        {"attempt_id": attempt.attempt_id, "person": marking.person_key(p), "role": "proctor"} for p in meta.proctors])
    _insert_many(conn, incidents, [
        {"attempt_id": attempt.attempt_id, "centre_id": centre, "kind": i.kind, "severity": i.severity,
         "rule": i.rule, "at": i.at, "detail_json": json.dumps(i.detail)} for i in meta.incidents])
    marking.refresh_attempt_total(conn, attempt.attempt_id, now)


def _insert_many(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(table), rows)


def submission_deadline(closes: datetime, form: Form, attempt: Attempt) -> datetime:
    """The latest ``created`` time an honest envelope of this package can carry (module doc)."""
    allowed = allowed_seconds(form.duration_seconds, attempt.accommodations)  # the bank's form, stretched once
    return closes + timedelta(seconds=allowed) + INTERRUPTION_ALLOWANCE


def check_window(opened: OpenedEnvelope, form: Form, opens: datetime, closes: datetime) -> None:
    """Refuse an envelope sealed before its package opened or after the submission deadline."""
    created = parse_time(opened.submitted_at, "header.created")
    if created < opens - CLOCK_SKEW:
        raise IntakeRefusal(f"envelope created {opened.submitted_at}, before package {opened.attempt.package_id} "
                            f"opened at {format_time(opens)}")
    deadline = submission_deadline(closes, form, opened.attempt)
    if created > deadline:
        raise IntakeRefusal(f"envelope created {opened.submitted_at}, after package {opened.attempt.package_id}'s "
                            f"submission deadline {format_time(deadline)} (closes plus duration and allowances)")


def load_form_scoring(bank: Engine, form_id: str, version: int) -> FormScoring:
    """The form, its items' answer keys (form order) and the scheme's cut score, from the bank."""
    with bank.connect() as conn:
        row = conn.execute(select(forms.c.form_json, forms.c.scheme_id, forms.c.scheme_version)
                           .where(forms.c.form_id == form_id, forms.c.version == version)).first()
        if row is None:
            raise IntakeRefusal(f"form {form_id} v{version} is not in the bank")
        form = Form.from_dict(json.loads(row[0]))
        ii = item_instances.c       # an item family's key is this form's draw: one query for all of them
        drawn = dict(conn.execute(select(ii.item_id, ii.key_json).where(ii.form_id == form_id,
                                                                          ii.form_version == version)).all())
        keys = []
        for ref in form.items:
            key_row = (drawn[ref.item_id],) if ref.item_id in drawn else conn.execute(
                select(items.c.key_json).where(items.c.item_id == ref.item_id, items.c.version == ref.version)).first()
            if key_row is None:
                raise IntakeRefusal(f"item {ref.item_id} v{ref.version} of form {form_id} has no key in the bank")
            keys.append(AnswerKey.from_dict(json.loads(key_row[0])))
        scheme = conn.execute(select(schemes.c.scheme_json)
                              .where(schemes.c.scheme_id == row[1], schemes.c.version == row[2])).first()
    doc = json.loads(scheme[0]) if scheme else {}
    cut = cut_in_force(bank, form_id, version, row[1], row[2], cut_score_of(doc, keys))
    return FormScoring(form, keys, cut.cut, scheme_policy(doc), cut)


def cut_score_of(scheme: dict[str, Any], keys: list[AnswerKey]) -> float | None:
    """The scheme's cut score in raw points: ``cut_score`` (points) or ``cut_score_percent``
    of the form's maximum. None when the scheme states neither (pass/fail then stays open)."""
    if isinstance(scheme.get("cut_score"), (int, float)) and not isinstance(scheme.get("cut_score"), bool):
        return float(scheme["cut_score"])
    percent = scheme.get("cut_score_percent")
    if isinstance(percent, (int, float)) and not isinstance(percent, bool):
        maximum = sum(rk.max_score for k in keys for rk in k.responses)
        return maximum * float(percent) / 100
    return None


def envelope_listing(results: Engine, status: str | None = None) -> list[dict[str, Any]]:
    """Every envelope received (``intake list``), oldest first, with its attestation verdict and,
    when that is flagged, why it needs review."""
    e, a = envelopes.c, attestation_checks.c
    query = (select(e.sha256, e.centre_id, e.attempt_id, e.status, e.reason, e.received_at,
                    a.status.label("attestation"), case((a.flagged == 1, a.reason), else_="").label("review"))
             .outerjoin_from(envelopes, attestation_checks, a.envelope_sha256 == e.sha256)
             .order_by(e.received_at, e.sha256))
    if status:
        query = query.where(e.status == status)
    with results.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
