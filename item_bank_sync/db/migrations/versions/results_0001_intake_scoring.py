"""Intake, scoring, marking, decisions, sync nonces (the hand-numbered results.db migration 1).

Revision ID: results_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "results_0001"
down_revision = None
branch_labels = ("results",)
depends_on = None

TABLES = ("integrity_flags", "sync_nonces", "decisions", "incidents", "attempt_roles", "marks", "marking_tasks",
          "response_scores", "responses", "attempts", "quarantine", "envelopes")


def upgrade() -> None:
    _intake()
    _scoring()
    _records()


def _intake() -> None:
    op.create_table(
        "envelopes",
        sa.Column("sha256", sa.Text, primary_key=True),
        sa.Column("centre_id", sa.Text, nullable=False),
        sa.Column("attempt_id", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("receipt", sa.LargeBinary, nullable=False),
        sa.Column("received_at", sa.Text, nullable=False),
        sa.CheckConstraint("status IN ('accepted', 'quarantined')", name="envelopes_status_check"),
    )
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("centre_id", sa.Text, nullable=False),
        sa.Column("attempt_id", sa.Text),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("envelope", sa.LargeBinary, nullable=False),
        sa.Column("received_at", sa.Text, nullable=False),
    )
    op.create_table(
        "attempts",
        sa.Column("attempt_id", sa.Text, primary_key=True),
        sa.Column("envelope_sha256", sa.Text, sa.ForeignKey("envelopes.sha256"), nullable=False),
        sa.Column("candidate_id", sa.Text, nullable=False),
        sa.Column("form_id", sa.Text, nullable=False),
        sa.Column("form_version", sa.Integer, nullable=False),
        sa.Column("package_id", sa.Text, nullable=False),
        sa.Column("centre_id", sa.Text, nullable=False),
        sa.Column("kiosk_id", sa.Text, nullable=False),
        sa.Column("seat", sa.Text, nullable=False, server_default=""),
        sa.Column("submitted_at", sa.Text, nullable=False),
        sa.Column("journal_head", sa.Text, nullable=False),
        sa.Column("attempt_json", sa.Text, nullable=False),
        sa.Column("item_time_json", sa.Text, nullable=False, server_default="{}"),
        sa.Column("total", sa.Float),
        sa.Column("max_total", sa.Float),
        sa.Column("cut_score", sa.Float),
        sa.Column("passed", sa.Integer),
        sa.Column("scoring_status", sa.Text, nullable=False, server_default="unscored"),
        sa.Column("scored_at", sa.Text),
        sa.CheckConstraint("scoring_status IN ('unscored', 'awaiting_marking', 'scored')",
                           name="attempts_scoring_status_check"),
    )
    op.create_index("attempts_form", "attempts", ["form_id", "form_version"])
    op.create_table(
        "responses",
        sa.Column("attempt_id", sa.Text, sa.ForeignKey("attempts.attempt_id"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("item_id", sa.Text, nullable=False),
        sa.Column("response_id", sa.Text, nullable=False),
        sa.Column("value_json", sa.Text, nullable=False),
        sa.Column("wall_time", sa.Text, nullable=False),
        sa.Column("elapsed_ms", sa.Integer, nullable=False),
    )


def _scoring() -> None:
    op.create_table(
        "response_scores",
        sa.Column("attempt_id", sa.Text, sa.ForeignKey("attempts.attempt_id"), primary_key=True),
        sa.Column("item_id", sa.Text, primary_key=True),
        sa.Column("response_id", sa.Text, primary_key=True),
        sa.Column("template", sa.Text, nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("max_score", sa.Float, nullable=False),
    )
    op.create_table(
        "marking_tasks",
        sa.Column("task_id", sa.Integer, primary_key=True),
        sa.Column("attempt_id", sa.Text, sa.ForeignKey("attempts.attempt_id"), nullable=False),
        sa.Column("item_id", sa.Text, nullable=False),
        sa.Column("response_id", sa.Text, nullable=False),
        sa.Column("max_score", sa.Float, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="open"),
        sa.Column("tolerance", sa.Float, nullable=False),
        sa.Column("final_score", sa.Float),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.CheckConstraint("status IN ('open', 'adjudication', 'done')", name="marking_tasks_status_check"),
        sa.UniqueConstraint("attempt_id", "item_id", "response_id", name="marking_tasks_slot_key"),
    )
    op.create_table(
        "marks",
        sa.Column("task_id", sa.Integer, sa.ForeignKey("marking_tasks.task_id"), primary_key=True,
                  autoincrement=False),
        sa.Column("marker", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("at", sa.Text, nullable=False),
        sa.CheckConstraint("kind IN ('mark', 'adjudication')", name="marks_kind_check"),
    )
    op.create_table(
        "attempt_roles",
        sa.Column("attempt_id", sa.Text, primary_key=True),
        sa.Column("person", sa.Text, primary_key=True),
        sa.Column("role", sa.Text, primary_key=True),
        sa.CheckConstraint("role IN ('proctor', 'marker', 'adjudicator')", name="attempt_roles_role_check"),
    )


def _records() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("attempt_id", sa.Text, nullable=False),
        sa.Column("centre_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("rule", sa.Text, nullable=False, server_default=""),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("detail_json", sa.Text, nullable=False, server_default="{}"),
    )
    op.create_index("incidents_attempt", "incidents", ["attempt_id"])
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("attempt_id", sa.Text, sa.ForeignKey("attempts.attempt_id"), nullable=False),
        sa.Column("decided_by", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.CheckConstraint("outcome IN ('pass', 'fail', 'withheld')", name="decisions_outcome_check"),
    )
    op.create_index("decisions_attempt", "decisions", ["attempt_id"])
    op.create_table(
        "sync_nonces",
        sa.Column("centre_id", sa.Text, primary_key=True),
        sa.Column("nonce", sa.Text, primary_key=True),
        sa.Column("seen_at", sa.Float, nullable=False),
    )
    op.create_index("sync_nonces_age", "sync_nonces", ["seen_at"])
    op.create_table(
        "integrity_flags",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("attempt_id", sa.Text, nullable=False),
        sa.Column("other_attempt_id", sa.Text),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("detail_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
