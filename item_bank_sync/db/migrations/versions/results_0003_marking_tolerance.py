"""Marking tolerance as a setting, global ('') or per form (the hand-numbered results.db migration 3).

Revision ID: results_0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "results_0003"
down_revision = "results_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "marking_tolerance",
        sa.Column("form_id", sa.Text, primary_key=True),
        sa.Column("share", sa.Float, nullable=False),
        sa.Column("set_by", sa.Text, nullable=False),
        sa.Column("set_at", sa.Text, nullable=False),
        sa.CheckConstraint("share >= 0 AND share <= 1", name="marking_tolerance_share_check"),
    )


def downgrade() -> None:
    op.drop_table("marking_tolerance")
