"""Signed revocation lists (the hand-numbered bank.db migration 2).

Revision ID: bank_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "bank_0002"
down_revision = "bank_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revocation_lists",
        sa.Column("sequence", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("issued_at", sa.Text, nullable=False),
        sa.Column("serials_json", sa.Text, nullable=False),
        sa.Column("signed", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("revocation_lists")
