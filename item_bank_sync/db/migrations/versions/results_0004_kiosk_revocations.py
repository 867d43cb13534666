"""Kiosk revocations reported by centres (the hand-numbered results.db migration 4).

Revision ID: results_0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "results_0004"
down_revision = "results_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kiosk_revocations",
        sa.Column("centre_id", sa.Text, primary_key=True),
        sa.Column("kiosk_id", sa.Text, primary_key=True),
        sa.Column("key_id", sa.Text, primary_key=True),
        sa.Column("cert_serial", sa.Text, nullable=False),
        sa.Column("revoked_at", sa.Text, nullable=False),
        sa.Column("revoked_by", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=False),
        sa.Column("received_at", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("kiosk_revocations")
