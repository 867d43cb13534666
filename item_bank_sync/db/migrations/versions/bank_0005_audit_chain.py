"""The central audit chain's tables (item_bank_sync.db.audit), now part of the schema.

Before the data layer, ``exam_core.audit.AuditLog`` created ``audit_log`` and
``audit_log_checkpoints`` in bank.db when first used; a data directory made then already has
them (with the same columns) and keeps them and its chain untouched.

Revision ID: bank_0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "bank_0005"
down_revision = "bank_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "audit_log" not in existing:
        op.create_table(
            "audit_log",
            sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("time", sa.Text, nullable=False),
            sa.Column("actor", sa.Text, nullable=False),
            sa.Column("action", sa.Text, nullable=False),
            sa.Column("data", sa.Text, nullable=False),
            sa.Column("prev_hash", sa.Text, nullable=False),
            sa.Column("hash", sa.Text, nullable=False),
        )
    if "audit_log_checkpoints" not in existing:
        op.create_table(
            "audit_log_checkpoints",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("seq", sa.Integer, nullable=False),
            sa.Column("head", sa.Text, nullable=False),
            sa.Column("count", sa.Integer, nullable=False),
            sa.Column("time", sa.Text, nullable=False),
            sa.Column("signed", sa.LargeBinary, nullable=False),
        )


def downgrade() -> None:
    op.drop_table("audit_log_checkpoints")
    op.drop_table("audit_log")
