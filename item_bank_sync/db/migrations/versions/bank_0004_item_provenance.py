"""Item provenance: import namespace and source key (the hand-numbered bank.db migration 4).

Revision ID: bank_0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "bank_0004"
down_revision = "bank_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("items", sa.Column("namespace", sa.Text, nullable=False, server_default=""))
    op.add_column("items", sa.Column("source_key", sa.Text))
    op.create_index("items_namespace", "items", ["namespace"])


def downgrade() -> None:
    op.drop_index("items_namespace", "items")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("source_key")
        batch.drop_column("namespace")
