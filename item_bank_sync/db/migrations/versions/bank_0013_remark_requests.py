"""Re-mark requests (issue 17): a handler asks a named marker; only that marker answers.

``remark_requests`` holds each request: the case, the attempt and item, the named marker (never one
involved in the attempt), who asked and when, and its status: open, answered once (with the id of
the re-mark in the results store) or withdrawn by the handler with a reason. Definition in
``item_bank_sync/cases/schema.py``.

Revision ID: bank_0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "bank_0013"
down_revision = "bank_0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "remark_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Text, sa.ForeignKey("cases.case_id"), nullable=False),
        sa.Column("attempt_id", sa.Text, nullable=False),
        sa.Column("item_id", sa.Text, nullable=False),
        sa.Column("marker", sa.Text, nullable=False),
        sa.Column("asked_by", sa.Text, nullable=False),
        sa.Column("asked_at", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="open"),
        sa.Column("remark_id", sa.Integer),
        sa.Column("answered_at", sa.Text),
        sa.Column("withdrawn_by", sa.Text),
        sa.Column("withdrawn_at", sa.Text),
        sa.Column("withdraw_reason", sa.Text, nullable=False, server_default=""),
        sa.CheckConstraint("status IN ('open', 'answered', 'withdrawn')", name="remark_requests_status_check"),
    )
    op.create_index("remark_requests_marker", "remark_requests", ["marker", "status"])
    op.create_index("remark_requests_case", "remark_requests", ["case_id"])


def downgrade() -> None:
    op.drop_index("remark_requests_case", table_name="remark_requests")
    op.drop_index("remark_requests_marker", table_name="remark_requests")
    op.drop_table("remark_requests")
