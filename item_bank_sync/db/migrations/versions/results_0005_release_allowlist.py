"""Central release allow-list and attestation verdicts (the hand-numbered results.db migration 5).

Revision ID: results_0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "results_0005"
down_revision = "results_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "release_allowlist",
        sa.Column("measurement", sa.Text, primary_key=True),
        sa.Column("release", sa.Text, nullable=False),
        sa.Column("added_by", sa.Text, nullable=False),
        sa.Column("added_at", sa.Text, nullable=False),
    )
    op.create_table(
        "attestation_checks",
        sa.Column("envelope_sha256", sa.Text, primary_key=True),
        sa.Column("attempt_id", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("measurement", sa.Text),
        sa.Column("release", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("flagged", sa.Integer, nullable=False),
        sa.Column("checked_at", sa.Text, nullable=False),
    )
    op.create_index("attestation_checks_attempt", "attestation_checks", ["attempt_id"])


def downgrade() -> None:
    op.drop_table("attestation_checks")
    op.drop_table("release_allowlist")
