"""Quarantine keeps the centre's meta for a retry (the hand-numbered results.db migration 2).

Revision ID: results_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "results_0002"
down_revision = "results_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("quarantine", sa.Column("meta_json", sa.Text, nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("quarantine") as batch:
        batch.drop_column("meta_json")
