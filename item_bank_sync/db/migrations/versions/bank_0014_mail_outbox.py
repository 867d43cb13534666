"""Mail outbox and shared rate-limit counters (issue 16 follow-ups).

``mail_outbox`` (item_bank_sync/mail/schema.py): mail written with the change that causes it, sent
by a sender loop at least once. ``rate_counters`` (item_bank_sync/public/schema.py): the public
site's and the portal's limits, shared by every listener process.

Revision ID: bank_0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "bank_0014"
down_revision = "bank_0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_outbox",
        sa.Column("outbox_id", sa.Text, primary_key=True),
        sa.Column("recipient", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_try_at", sa.Text, nullable=False),
        sa.Column("claimed_until", sa.Text),
        sa.Column("sent_at", sa.Text),
        sa.Column("last_error", sa.Text),
    )
    op.create_index("mail_outbox_due", "mail_outbox", ["state", "next_try_at"])
    op.create_table(
        "rate_counters",
        sa.Column("bucket", sa.Text, primary_key=True),
        sa.Column("window_start", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("hits", sa.Integer, nullable=False),
        sa.Column("not_before", sa.Float),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("rate_counters_expiry", "rate_counters", ["expires_at"])


def downgrade() -> None:
    op.drop_index("rate_counters_expiry", "rate_counters")
    op.drop_table("rate_counters")
    op.drop_index("mail_outbox_due", "mail_outbox")
    op.drop_table("mail_outbox")
