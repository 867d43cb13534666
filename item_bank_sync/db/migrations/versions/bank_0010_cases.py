"""Appeals, complaints and corrective actions (issue 17).

The tables of :mod:`item_bank_sync.cases.schema`: ``cases``, ``case_events``, ``case_messages``,
``corrective_actions``.

Revision ID: bank_0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "bank_0010"
down_revision = "bank_0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("case_id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("attempt_id", sa.Text),
        sa.Column("certificate_id", sa.Text),
        sa.Column("centre_id", sa.Text),
        sa.Column("person", sa.Text, nullable=False),
        sa.Column("lodged_via", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="lodged"),
        sa.Column("lodged_at", sa.Text, nullable=False),
        sa.Column("lodged_by", sa.Text, nullable=False),
        sa.Column("acknowledged_at", sa.Text),
        sa.Column("respond_by", sa.Text),
        sa.Column("handler", sa.Text),
        sa.Column("outcome", sa.Text, nullable=False, server_default=""),
        sa.Column("outcome_text", sa.Text, nullable=False, server_default=""),
        sa.Column("decided_at", sa.Text),
        sa.CheckConstraint("kind IN ('appeal', 'complaint')", name="cases_kind_check"),
        sa.CheckConstraint("status IN ('lodged', 'acknowledged', 'assigned', 'decided', 'closed')",
                           name="cases_status_check"),
    )
    op.create_index("cases_lodged", "cases", ["lodged_at"])
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Text, sa.ForeignKey("cases.case_id"), nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("by", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("at", sa.Text, nullable=False),
    )
    op.create_index("case_events_case", "case_events", ["case_id"])
    op.create_table(
        "case_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Text, sa.ForeignKey("cases.case_id"), nullable=False),
        sa.Column("person", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
    )
    op.create_index("case_messages_case", "case_messages", ["case_id"])
    op.create_table(
        "corrective_actions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_ref", sa.Text, nullable=False, server_default=""),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("root_cause", sa.Text, nullable=False, server_default=""),
        sa.Column("action", sa.Text, nullable=False, server_default=""),
        sa.Column("effectiveness_check", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.Text, nullable=False, server_default="open"),
        sa.Column("opened_by", sa.Text, nullable=False),
        sa.Column("opened_at", sa.Text, nullable=False),
        sa.Column("closed_by", sa.Text),
        sa.Column("closed_at", sa.Text),
        sa.CheckConstraint("source IN ('incident', 'appeal', 'complaint', 'audit_finding', 'item_analysis')",
                           name="corrective_actions_source_check"),
        sa.CheckConstraint("status IN ('open', 'closed')", name="corrective_actions_status_check"),
    )


def downgrade() -> None:
    op.drop_table("corrective_actions")
    op.drop_index("case_messages_case", table_name="case_messages")
    op.drop_table("case_messages")
    op.drop_index("case_events_case", table_name="case_events")
    op.drop_table("case_events")
    op.drop_index("cases_lodged", table_name="cases")
    op.drop_table("cases")
