"""Tables of the central body's results store (``results.db`` on SQLite; see ``item_bank_sync.db``).

Kept apart from ``bank.db`` so the item bank (content, keys, forms) and the results of sittings
(candidates' answers, scores, decisions) can be backed up, retained and access-controlled on
their own schedules. SQLite connections run ``synchronous=FULL`` and PostgreSQL commits are
synchronous: an envelope acknowledged by a signed receipt must survive power loss, or the centre
would delete the only other copy.

Tables:

``envelopes``       every envelope received (accepted or not), by SHA-256 of its bytes: the
                    idempotency key of uploads. ``status`` is ``accepted`` or ``quarantined``;
                    ``receipt`` is the signed receipt returned (the same bytes every time).
``quarantine``      why an envelope was refused, with its bytes for investigation.
``attempts``        one accepted attempt (attempt ids are unique: a second envelope for the same
                    attempt is a replay and is quarantined), with its total and pass/fail, its
                    timing record (time allowed and used by the kiosk's clock), what ended it,
                    and why it needs a person's decision (``review``, '' none).
``responses``       every journaled answer change of an accepted attempt (integrity analysis
                    needs the history, scoring uses the last value of each slot).
``response_scores`` the score of each response slot; ``score`` NULL while a marker is needed.
``marking_tasks``   responses awaiting human marking; ``marks`` the marks given (two markers
                    each; disagreement beyond the tolerance goes to adjudication).
``attempt_roles``   who acted on an attempt (proctor, marker, adjudicator): decisions check it.
``incidents``       proctor alerts and incidents forwarded with the envelopes.
``decisions``       certification decisions (append-only; the latest one stands).
``sync_nonces``     nonces of authenticated sync requests, kept for the replay window.
``integrity_flags`` integrity findings for human review.
``marking_tolerance`` the marking tolerance as a setting, global ('') or per form.
``intake_releases`` quarantined envelopes a person released after review (``intake release``):
                    who, why, the quarantine reason and the custody checks waived (append-only).
``envelope_archive`` the exact bytes of every accepted envelope (results_0008), so an appeal's
                    re-score can replay the original inputs (``item_bank_sync.cases.rescore``);
                    a quarantined envelope's bytes stay in ``quarantine``.

Kiosk revocations, the release allow-list and attestation verdicts are trust records in this
store too (``trust/schema.py``). Schema changes are Alembic revisions
(``item_bank_sync/db/migrations/versions/results_*.py``); revisions 1-6 are the hand-numbered
SQLite migrations this module held before the data layer.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Float, ForeignKey, Index, Integer, LargeBinary, Text, UniqueConstraint

from item_bank_sync.db.metadata import RESULTS, central_table

envelopes = central_table(
    "envelopes", RESULTS,
    Column("sha256", Text, primary_key=True),
    Column("centre_id", Text, nullable=False),
    Column("attempt_id", Text),
    Column("status", Text, nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("receipt", LargeBinary, nullable=False),
    Column("received_at", Text, nullable=False),
    CheckConstraint("status IN ('accepted', 'quarantined')", name="envelopes_status_check"),
)

quarantine = central_table(
    "quarantine", RESULTS,
    Column("id", Integer, primary_key=True),
    Column("sha256", Text, nullable=False),
    Column("centre_id", Text, nullable=False),
    Column("attempt_id", Text),
    Column("error", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("envelope", LargeBinary, nullable=False),
    Column("received_at", Text, nullable=False),
    Column("meta_json", Text, nullable=False, server_default="{}"),
)

attempts = central_table(
    "attempts", RESULTS,
    Column("attempt_id", Text, primary_key=True),
    Column("envelope_sha256", Text, ForeignKey("envelopes.sha256"), nullable=False),
    Column("candidate_id", Text, nullable=False),
    Column("form_id", Text, nullable=False),
    Column("form_version", Integer, nullable=False),
    Column("package_id", Text, nullable=False),
    Column("centre_id", Text, nullable=False),
    Column("kiosk_id", Text, nullable=False),
    Column("seat", Text, nullable=False, server_default=""),
    Column("submitted_at", Text, nullable=False),
    Column("journal_head", Text, nullable=False),
    Column("attempt_json", Text, nullable=False),
    Column("item_time_json", Text, nullable=False, server_default="{}"),
    Column("total", Float),
    Column("max_total", Float),
    Column("cut_score", Float),
    Column("passed", Integer),
    Column("scoring_status", Text, nullable=False, server_default="unscored"),
    Column("scored_at", Text),
    # The timing record and the reasons for a person's decision (results_0007, results/review.py).
    Column("time_allowed_ms", Integer),
    Column("time_used_ms", Integer),
    Column("ended_by", Text, nullable=False, server_default=""),
    Column("end_reason", Text, nullable=False, server_default=""),
    Column("review", Text, nullable=False, server_default=""),
    CheckConstraint("scoring_status IN ('unscored', 'awaiting_marking', 'scored')",
                    name="attempts_scoring_status_check"),
    Index("attempts_form", "form_id", "form_version"),
)

responses = central_table(
    "responses", RESULTS,
    Column("attempt_id", Text, ForeignKey("attempts.attempt_id"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("item_id", Text, nullable=False),
    Column("response_id", Text, nullable=False),
    Column("value_json", Text, nullable=False),
    Column("wall_time", Text, nullable=False),
    Column("elapsed_ms", Integer, nullable=False),
)

response_scores = central_table(
    "response_scores", RESULTS,
    Column("attempt_id", Text, ForeignKey("attempts.attempt_id"), primary_key=True),
    Column("item_id", Text, primary_key=True),
    Column("response_id", Text, primary_key=True),
    Column("template", Text, nullable=False),
    Column("score", Float),
    Column("max_score", Float, nullable=False),
)

marking_tasks = central_table(
    "marking_tasks", RESULTS,
    Column("task_id", Integer, primary_key=True),
    Column("attempt_id", Text, ForeignKey("attempts.attempt_id"), nullable=False),
    Column("item_id", Text, nullable=False),
    Column("response_id", Text, nullable=False),
    Column("max_score", Float, nullable=False),
    Column("status", Text, nullable=False, server_default="open"),
    Column("tolerance", Float, nullable=False),
    Column("final_score", Float),
    Column("created_at", Text, nullable=False),
    CheckConstraint("status IN ('open', 'adjudication', 'done')", name="marking_tasks_status_check"),
    UniqueConstraint("attempt_id", "item_id", "response_id", name="marking_tasks_slot_key"),
)

marks = central_table(
    "marks", RESULTS,
    Column("task_id", Integer, ForeignKey("marking_tasks.task_id"), primary_key=True, autoincrement=False),
    Column("marker", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("score", Float, nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("at", Text, nullable=False),
    CheckConstraint("kind IN ('mark', 'adjudication')", name="marks_kind_check"),
)

attempt_roles = central_table(
    "attempt_roles", RESULTS,
    Column("attempt_id", Text, primary_key=True),
    Column("person", Text, primary_key=True),
    Column("role", Text, primary_key=True),
    CheckConstraint("role IN ('proctor', 'marker', 'adjudicator')", name="attempt_roles_role_check"),
)

incidents = central_table(
    "incidents", RESULTS,
    Column("id", Integer, primary_key=True),
    Column("attempt_id", Text, nullable=False),
    Column("centre_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("rule", Text, nullable=False, server_default=""),
    Column("at", Text, nullable=False),
    Column("detail_json", Text, nullable=False, server_default="{}"),
    Index("incidents_attempt", "attempt_id"),
)

decisions = central_table(
    "decisions", RESULTS,
    Column("id", Integer, primary_key=True),
    Column("attempt_id", Text, ForeignKey("attempts.attempt_id"), nullable=False),
    Column("decided_by", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", Text, nullable=False),
    CheckConstraint("outcome IN ('pass', 'fail', 'withheld')", name="decisions_outcome_check"),
    Index("decisions_attempt", "attempt_id"),
)

sync_nonces = central_table(
    "sync_nonces", RESULTS,
    Column("centre_id", Text, primary_key=True),
    Column("nonce", Text, primary_key=True),
    Column("seen_at", Float, nullable=False),
    Index("sync_nonces_age", "seen_at"),
)

integrity_flags = central_table(
    "integrity_flags", RESULTS,
    Column("id", Integer, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("attempt_id", Text, nullable=False),
    Column("other_attempt_id", Text),
    Column("score", Float, nullable=False),
    Column("detail_json", Text, nullable=False),
    Column("created_at", Text, nullable=False),
)

marking_tolerance = central_table(
    "marking_tolerance", RESULTS,
    Column("form_id", Text, primary_key=True),
    Column("share", Float, nullable=False),
    Column("set_by", Text, nullable=False),
    Column("set_at", Text, nullable=False),
    CheckConstraint("share >= 0 AND share <= 1", name="marking_tolerance_share_check"),
)

intake_releases = central_table(
    "intake_releases", RESULTS,
    Column("id", Integer, primary_key=True),
    Column("envelope_sha256", Text, nullable=False, unique=True),
    Column("attempt_id", Text, nullable=False),
    Column("quarantine_reason", Text, nullable=False),
    Column("waived_json", Text, nullable=False),
    Column("released_by", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("released_at", Text, nullable=False),
)

envelope_archive = central_table(
    "envelope_archive", RESULTS,
    Column("sha256", Text, primary_key=True),
    Column("envelope", LargeBinary, nullable=False),
)
