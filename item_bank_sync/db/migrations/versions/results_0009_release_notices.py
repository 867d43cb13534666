"""The e-mail a candidate gets when their result is released (issue 17, item 1): one row per
attempt (``release_notices`` of :mod:`item_bank_sync.release.schema`), so a retried release never
mails twice and staff see who was not told.

Revision ID: results_0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "results_0009"
down_revision = "results_0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "release_notices",
        sa.Column("attempt_id", sa.Text, primary_key=True),
        sa.Column("person_id", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("sent_at", sa.Text),
        sa.CheckConstraint("status IN ('sending', 'sent', 'failed', 'no_relay', 'no_address')",
                           name="release_notices_status_check"),
    )
    op.create_index("release_notices_person", "release_notices", ["person_id"])


def downgrade() -> None:
    op.drop_index("release_notices_person", table_name="release_notices")
    op.drop_table("release_notices")
