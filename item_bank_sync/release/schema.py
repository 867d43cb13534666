"""Tables of results release and re-scores (results store, revision ``results_0008``).

``release_holds``   a hold on results: a whole centre (after an incident), a form (item analysis
                    flagged a key) or one attempt. A hold stands until a person lifts it; while
                    any hold covers an attempt, its result cannot be released.
``result_releases`` one row per released attempt: who released it, why, when. Only a released
                    result is shown to the candidate (portal, score report).
``release_notices`` (``results_0009``) the one e-mail a candidate gets when their result is released
                    (no score in it): ``sent``, ``failed`` (the relay refused), ``no_relay`` (no mail
                    settings), ``no_address`` (no registry person or address for the candidate), or
                    ``sending`` while claimed. One row per attempt, so a retry never mails twice.
``rescores``        every re-score of an attempt (``replay`` of the exact original inputs, or a
                    ``key_correction``): the digests of its inputs, the totals before and after and
                    whether the replay reproduced the stored scores bit for bit.
``remarks``         re-marks of a human-marked response on appeal, each by a marker who took no
                    part in the attempt: the score before and given, and whether it was applied.

The accepted envelopes' bytes that a replay re-opens are kept by intake in ``envelope_archive``
(:mod:`item_bank_sync.results.schema`, created by the same revision).
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Float, Index, Integer, Text

from item_bank_sync.db.metadata import RESULTS, central_table

SCOPES = ("centre", "form", "attempt")
NOTICE_STATES = ("sending", "sent", "failed", "no_relay", "no_address")
RESCORE_KINDS = ("replay", "key_correction")

release_holds = central_table(
    "release_holds", RESULTS,
    Column("id", Integer, primary_key=True),
    Column("scope", Text, nullable=False),
    Column("target", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("held_by", Text, nullable=False),
    Column("held_at", Text, nullable=False),
    Column("lifted_by", Text),
    Column("lifted_at", Text),
    Column("lift_reason", Text, nullable=False, server_default=""),
    CheckConstraint("scope IN ('centre', 'form', 'attempt')", name="release_holds_scope_check"),
    Index("release_holds_target", "scope", "target"),
)

result_releases = central_table(
    "result_releases", RESULTS,
    Column("attempt_id", Text, primary_key=True),
    Column("released_by", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("released_at", Text, nullable=False),
)

release_notices = central_table(
    "release_notices", RESULTS,
    Column("attempt_id", Text, primary_key=True),
    Column("person_id", Text),
    Column("status", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("sent_at", Text),
    CheckConstraint("status IN ('sending', 'sent', 'failed', 'no_relay', 'no_address')",
                    name="release_notices_status_check"),
    Index("release_notices_person", "person_id"),
)

rescores = central_table(
    "rescores", RESULTS,
    Column("id", Integer, primary_key=True),
    Column("attempt_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("by", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("inputs_json", Text, nullable=False),
    Column("before_total", Float),
    Column("after_total", Float),
    Column("before_passed", Integer),
    Column("after_passed", Integer),
    Column("identical", Integer, nullable=False),
    Column("at", Text, nullable=False),
    CheckConstraint("kind IN ('replay', 'key_correction')", name="rescores_kind_check"),
    Index("rescores_attempt", "attempt_id"),
)

remarks = central_table(
    "remarks", RESULTS,
    Column("id", Integer, primary_key=True),
    Column("attempt_id", Text, nullable=False),
    Column("task_id", Integer, nullable=False),
    Column("marker", Text, nullable=False),
    Column("score_before", Float),
    Column("score", Float, nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("applied", Integer, nullable=False),
    Column("at", Text, nullable=False),
    Index("remarks_attempt", "attempt_id"),
)
