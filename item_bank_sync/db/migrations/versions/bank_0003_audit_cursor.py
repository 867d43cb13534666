"""Audit cursor over item_status (the hand-numbered bank.db migration 3).

Revision ID: bank_0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "bank_0003"
down_revision = "bank_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_cursor",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("last_id", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_cursor")
