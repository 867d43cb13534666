"""Releases of quarantined envelopes after review (the hand-numbered results.db migration 6).

Revision ID: results_0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "results_0006"
down_revision = "results_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intake_releases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("envelope_sha256", sa.Text, nullable=False, unique=True),
        sa.Column("attempt_id", sa.Text, nullable=False),
        sa.Column("quarantine_reason", sa.Text, nullable=False),
        sa.Column("waived_json", sa.Text, nullable=False),
        sa.Column("released_by", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("released_at", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("intake_releases")
