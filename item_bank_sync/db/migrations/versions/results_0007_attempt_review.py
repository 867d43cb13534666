"""Each attempt's timing record, what ended it and why it needs a decision (issue 13, items 1 and 6).

Revision ID: results_0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "results_0007"
down_revision = "results_0006"
branch_labels = None
depends_on = None

COLUMNS = (("time_allowed_ms", sa.Integer, None), ("time_used_ms", sa.Integer, None),
           ("ended_by", sa.Text, ""), ("end_reason", sa.Text, ""), ("review", sa.Text, ""))


def upgrade() -> None:
    for name, kind, default in COLUMNS:
        op.add_column("attempts", sa.Column(name, kind, nullable=default is None, server_default=default))


def downgrade() -> None:
    with op.batch_alter_table("attempts") as batch:
        for name, _, _ in reversed(COLUMNS):
            batch.drop_column(name)
