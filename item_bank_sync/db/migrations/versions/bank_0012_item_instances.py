"""Item families (QTI template processing, issue 18): the instance drawn for each form version.

``item_instances`` holds, per form version and item, the concrete item the package carries and the
answer key that scores it, with the seed it was drawn from, so every candidate of a form sees the
same instance and is scored against its key. Definition in ``item_bank_sync/bank/schema.py``.

Revision ID: bank_0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "bank_0012"
down_revision = "bank_0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "item_instances",
        sa.Column("form_id", sa.Text, primary_key=True),
        sa.Column("form_version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("item_id", sa.Text, primary_key=True),
        sa.Column("item_version", sa.Integer, nullable=False),
        sa.Column("seed", sa.Text, nullable=False),
        sa.Column("item_json", sa.Text, nullable=False),
        sa.Column("key_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["form_id", "form_version"], ["forms.form_id", "forms.version"]),
        sa.ForeignKeyConstraint(["item_id", "item_version"], ["items.item_id", "items.version"]),
    )


def downgrade() -> None:
    op.drop_table("item_instances")
