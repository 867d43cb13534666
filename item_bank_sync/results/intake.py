"""Intake: verify, open, de-duplicate, score and receipt the sealed response envelopes.

For each envelope, in this order (the first failure quarantines it, with the reason):

1. **Idempotency**: the SHA-256 of the exact bytes is looked up first. An envelope seen before
   gets the receipt it got then, byte for byte, whatever its fate was; nothing is re-processed.
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
   extra-time accommodation, plus ``INTERRUPTION_ALLOWANCE`` for pauses, rest breaks and incidents
   (which never run the exam clock). A candidate admitted just before ``closes`` can thus submit.
5. **Replays**: a second, different envelope for an attempt already accepted is a replay.
6. **Scoring**: with the answer keys from the bank (they never left the central body).

Journal-head and kiosk-revocation quarantines (:class:`ReviewableRefusal`) are custody evidence for
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
from typing import Any, Callable

import sqlite_utils

from exam_core import limits
from exam_core.envelope import read_unverified_header
from exam_core.errors import ArtefactError, InvigilError, ValidationError
from exam_core.model import AnswerKey, Attempt, Form
from exam_core.protocol import JournalHeadInfo
from exam_core.receipt import issue_receipt
from exam_core.store import immediate_transaction
from exam_core.sync_wire import ACCEPTED, QUARANTINED, REJECTED, EnvelopeMeta, EnvelopeOutcome
from exam_core.timestamps import format_time, parse_time, utc_now
from item_bank_sync.results import marking
from item_bank_sync.results.envelope import OpenedEnvelope, open_envelope
from item_bank_sync.results.scoring import AttemptScore, score_attempt
from item_bank_sync.trust import kiosk_revocations, release_allowlist
from item_bank_sync.trust.identity import CentralKeys

#: Kiosk clocks follow the console's; a few minutes of drift before ``opens`` are not a breach.
CLOCK_SKEW = timedelta(minutes=10)
#: Wall time an attempt may spend paused or on breaks beyond its (extended) duration.
INTERRUPTION_ALLOWANCE = timedelta(hours=2)


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


class Intake:
    def __init__(self, bank: sqlite_utils.Database, results: sqlite_utils.Database, keys: CentralKeys,
                 revocations: list[bytes], clock: Callable[[], datetime] = utc_now) -> None:
        self.clock = clock
        self.bank = bank
        self.results = results
        self.keys = keys
        self.revocations = revocations
        self._forms: dict[tuple[str, int], FormScoring] = {}

    # --- the whole step ---------------------------------------------------------------------------
    def receive(self, data: bytes, via_centre: str, meta: EnvelopeMeta = EnvelopeMeta()) -> EnvelopeOutcome:
        """Take in one envelope delivered by ``via_centre``; always returns a signed receipt."""
        digest = hashlib.sha256(data).hexdigest()
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
            with immediate_transaction(self.results) as conn:
                conn.execute("UPDATE envelopes SET reason = ? WHERE sha256 = ?", (str(exc)[:500], digest))
            return EnvelopeOutcome(digest, QUARANTINED, str(exc)[:500], None, self._seen(digest).receipt)
        verdict = self.promote(digest, centre, opened, scoring, scored, meta)
        return EnvelopeOutcome(digest, ACCEPTED, "", opened.attempt.attempt_id, self._seen(digest).receipt,
                               flags=attestation_flags(verdict))

    def quarantined(self, digest: str) -> tuple[bytes, str, EnvelopeMeta, datetime, str, str] | None:
        """``(bytes, centre, meta, received, error class, reason)`` of a quarantined envelope."""
        row = self.results.conn.execute(
            "SELECT q.envelope, q.centre_id, q.meta_json, q.received_at, q.error, e.reason FROM quarantine q "
            "JOIN envelopes e USING (sha256) WHERE q.sha256 = ? AND e.status = ? ORDER BY q.id DESC LIMIT 1",
            (digest, QUARANTINED)).fetchone()
        if row is None:
            return None
        return (bytes(row[0]), row[1], EnvelopeMeta.from_dict(json.loads(row[2])),
                parse_time(row[3], "quarantine.received_at"), row[4], row[5])

    def promote(self, digest: str, centre: str, opened: OpenedEnvelope, scoring: FormScoring, scored: AttemptScore,
                meta: EnvelopeMeta, note: str = "",
                also: Callable[[Any], None] = lambda conn: None) -> release_allowlist.AttestationVerdict:
        """Store a quarantined envelope's attempt as accepted (its receipt unchanged), with ``also``
        run in the same transaction; refused as a replay if another envelope of the attempt won."""
        verdict = self._attestation(opened)
        with immediate_transaction(self.results) as conn:
            if conn.execute("SELECT 1 FROM attempts WHERE attempt_id = ?", (opened.attempt.attempt_id,)).fetchone():
                raise IntakeRefusal(f"replay: attempt {opened.attempt.attempt_id} was already received in "
                                    "another envelope")
            conn.execute("UPDATE envelopes SET status = ?, reason = ?, attempt_id = ? WHERE sha256 = ?",
                         (ACCEPTED, note[:500], opened.attempt.attempt_id, digest))
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
        row = self.results.conn.execute(
            "SELECT status, reason, attempt_id, receipt FROM envelopes WHERE sha256 = ?", (digest,)).fetchone()
        if row is None:
            return None
        return EnvelopeOutcome(digest, row[0], row[1], row[2], bytes(row[3]), duplicate=True)

    # --- checks -------------------------------------------------------------------------------------
    def _check(self, opened: OpenedEnvelope, via_centre: str, meta: EnvelopeMeta,
               waived: list[ReviewableRefusal] | None = None) -> tuple[datetime, datetime]:
        """The content checks of step 4 and the replay check; returns the package's window."""
        attempt = opened.attempt
        for custody_check in (lambda: check_journal_heads(opened, meta.journal_heads),
                              lambda: check_kiosk_not_revoked(self.results.conn, opened)):
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
        package = self.bank.conn.execute(
            "SELECT form_id, form_version, centre_id, opens, closes FROM packages WHERE package_id = ?",
            (attempt.package_id,)).fetchone()
        if package is None:
            raise IntakeRefusal(f"package {attempt.package_id} was never published")
        if tuple(package[:3]) != (attempt.form_id, attempt.form_version, opened.centre_id):
            raise IntakeRefusal(f"package {attempt.package_id} is form {package[0]} v{package[1]} for centre "
                                f"{package[2]}, not form {attempt.form_id} v{attempt.form_version} here")
        if any(r.attempt_id != attempt.attempt_id for r in opened.responses):
            raise IntakeRefusal("a response belongs to another attempt")
        accepted = self.results.conn.execute(
            "SELECT envelope_sha256 FROM attempts WHERE attempt_id = ?", (attempt.attempt_id,)).fetchone()
        if accepted is not None:
            raise IntakeRefusal(f"replay: attempt {attempt.attempt_id} was already received in another envelope")
        try:
            return parse_time(package[3], "packages.opens"), parse_time(package[4], "packages.closes")
        except ArtefactError:
            raise IntakeRefusal(f"package {attempt.package_id} has no readable window in the bank") from None

    def _form_scoring(self, form_id: str, version: int) -> FormScoring:
        if (form_id, version) not in self._forms:
            self._forms[(form_id, version)] = load_form_scoring(self.bank, form_id, version)
        return self._forms[(form_id, version)]

    # --- writing ------------------------------------------------------------------------------------
    def _receipt(self, data: bytes) -> bytes:
        return issue_receipt(self.keys.signing, data, self.keys.issuer)

    def _quarantine(self, data: bytes, digest: str, centre: str, exc: Exception,
                    meta: EnvelopeMeta, received: datetime) -> EnvelopeOutcome:
        now = format_time(received)
        reason = str(exc)[:500]
        attempt_id = read_unverified_header(data).attempt_id  # unverified: for listing only
        receipt = self._receipt(data)
        with immediate_transaction(self.results) as conn:
            if conn.execute("SELECT 1 FROM envelopes WHERE sha256 = ?", (digest,)).fetchone():
                return self._seen_in(conn, digest)
            conn.execute("INSERT INTO envelopes (sha256, centre_id, attempt_id, status, reason, receipt, received_at) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)", (digest, centre, attempt_id, QUARANTINED, reason, receipt, now))
            conn.execute("INSERT INTO quarantine (sha256, centre_id, attempt_id, error, reason, envelope, received_at,"
                         " meta_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (digest, centre, attempt_id, type(exc).__name__, reason, data, now, json.dumps(meta.to_dict())))
        return EnvelopeOutcome(digest, QUARANTINED, reason, attempt_id, receipt)

    def _seen_in(self, conn: Any, digest: str) -> EnvelopeOutcome:
        row = conn.execute("SELECT status, reason, attempt_id, receipt FROM envelopes WHERE sha256 = ?",
                           (digest,)).fetchone()
        return EnvelopeOutcome(digest, row[0], row[1], row[2], bytes(row[3]), duplicate=True)

    def _accept(self, data: bytes, digest: str, centre: str, opened: OpenedEnvelope, scoring: FormScoring,
                scored: AttemptScore, meta: EnvelopeMeta, received: datetime) -> EnvelopeOutcome:
        attempt = opened.attempt
        now = format_time(received)
        receipt = self._receipt(data)
        verdict = self._attestation(opened)
        with immediate_transaction(self.results) as conn:
            if conn.execute("SELECT 1 FROM envelopes WHERE sha256 = ?", (digest,)).fetchone():
                return self._seen_in(conn, digest)
            # re-checked under the write lock: a concurrent upload for the same attempt may have won
            replay = conn.execute("SELECT 1 FROM attempts WHERE attempt_id = ?", (attempt.attempt_id,)).fetchone()
            if replay is None:
                _store_attempt(conn, digest, centre, opened, scoring, scored, meta, receipt, now)
                release_allowlist.record(conn, digest, attempt.attempt_id, verdict)
        if replay is not None:
            refusal = IntakeRefusal(f"replay: attempt {attempt.attempt_id} was already received in another envelope")
            return self._quarantine(data, digest, centre, refusal, meta, received)
        return EnvelopeOutcome(digest, ACCEPTED, "", attempt.attempt_id, receipt, flags=attestation_flags(verdict))


def _store_attempt(conn: Any, digest: str, centre: str, opened: OpenedEnvelope, scoring: FormScoring,
                   scored: AttemptScore, meta: EnvelopeMeta, receipt: bytes | None, now: str) -> None:
    """Write an accepted attempt; ``receipt`` None when its envelope row exists (a retry)."""
    attempt = opened.attempt
    if receipt is not None:
        conn.execute("INSERT INTO envelopes (sha256, centre_id, attempt_id, status, reason, receipt, received_at) "
                     "VALUES (?, ?, ?, ?, '', ?, ?)", (digest, centre, attempt.attempt_id, ACCEPTED, receipt, now))
    conn.execute(
        "INSERT INTO attempts (attempt_id, envelope_sha256, candidate_id, form_id, form_version, package_id, "
        "centre_id, kiosk_id, seat, submitted_at, journal_head, attempt_json, item_time_json, cut_score) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (attempt.attempt_id, digest, attempt.candidate_id, attempt.form_id, attempt.form_version,
         attempt.package_id, centre, attempt.kiosk_id, attempt.seat, opened.submitted_at, opened.journal_head,
         json.dumps(attempt.to_dict(), sort_keys=True), json.dumps(opened.item_time_ms), scoring.cut_score))
    conn.executemany(
        "INSERT INTO responses (attempt_id, seq, item_id, response_id, value_json, wall_time, elapsed_ms) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(attempt.attempt_id, r.seq, r.item_id, r.response_id, json.dumps(r.value), r.wall_time, r.elapsed_ms)
         for r in opened.responses])
    conn.executemany(
        "INSERT INTO response_scores (attempt_id, item_id, response_id, template, score, max_score) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(attempt.attempt_id, s.item_id, s.response_id, s.template, s.score, s.max_score) for s in scored.responses])
    marking.create_tasks(conn, attempt.attempt_id,
                         [(s.item_id, s.response_id, s.max_score) for s in scored.pending], now, attempt.form_id)
    for proctor in meta.proctors:
        conn.execute("INSERT OR IGNORE INTO attempt_roles (attempt_id, person, role) VALUES (?, ?, 'proctor')",
                     (attempt.attempt_id, marking.person_key(proctor)))
    conn.executemany(
        "INSERT INTO incidents (attempt_id, centre_id, kind, severity, rule, at, detail_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(attempt.attempt_id, centre, i.kind, i.severity, i.rule, i.at, json.dumps(i.detail))
         for i in meta.incidents])
    marking.refresh_attempt_total(conn, attempt.attempt_id, now)


def submission_deadline(closes: datetime, form: Form, attempt: Attempt) -> datetime:
    """The latest ``created`` time an honest envelope of this package can carry (module doc)."""
    duration = max(form.duration_seconds, attempt.duration_seconds)
    extended = duration * (100 + attempt.accommodations.extra_time_percent) / 100
    return closes + timedelta(seconds=extended) + INTERRUPTION_ALLOWANCE


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


def load_form_scoring(bank: sqlite_utils.Database, form_id: str, version: int) -> FormScoring:
    """The form, its items' answer keys (form order) and the scheme's cut score, from the bank."""
    row = bank.conn.execute("SELECT form_json, scheme_id, scheme_version FROM forms WHERE form_id = ? AND version = ?",
                            (form_id, version)).fetchone()
    if row is None:
        raise IntakeRefusal(f"form {form_id} v{version} is not in the bank")
    form = Form.from_dict(json.loads(row[0]))
    keys = []
    for ref in form.items:
        key_row = bank.conn.execute("SELECT key_json FROM items WHERE item_id = ? AND version = ?",
                                    (ref.item_id, ref.version)).fetchone()
        if key_row is None:
            raise IntakeRefusal(f"item {ref.item_id} v{ref.version} of form {form_id} has no key in the bank")
        keys.append(AnswerKey.from_dict(json.loads(key_row[0])))
    scheme = bank.conn.execute("SELECT scheme_json FROM schemes WHERE scheme_id = ? AND version = ?",
                               (row[1], row[2])).fetchone()
    return FormScoring(form, keys, cut_score_of(json.loads(scheme[0]) if scheme else {}, keys))


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
