"""Staff accounts, roles, second factors and web sign-ins of the central body (issue 15).

The tables are defined in :mod:`item_bank_sync.staff.schema` (a test compares the two on both engines).

Revision ID: bank_0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "bank_0006"
down_revision = "bank_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_accounts",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("password_hash", sa.LargeBinary, nullable=False),
        sa.Column("password_salt", sa.LargeBinary, nullable=False),
        sa.Column("password_params", sa.Text, nullable=False),
        sa.Column("password_changed_at", sa.Text, nullable=False),
        sa.Column("enabled", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("totp_sealed", sa.LargeBinary),
        sa.Column("totp_pending_sealed", sa.LargeBinary),
        sa.Column("totp_enrolled_at", sa.Text),
        sa.Column("totp_last_step", sa.Integer),
    )
    op.create_table(
        "staff_roles",
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("granted_at", sa.Text, nullable=False),
        sa.Column("granted_by", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("name", "role", name="pk_staff_roles"),
    )
    op.create_table(
        "staff_recovery_codes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("code_hash", sa.Text, nullable=False),
        sa.Column("used_at", sa.Text),
    )
    op.create_index("ix_staff_recovery_codes_name", "staff_recovery_codes", ["name"])
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("started_at", sa.Text, nullable=False),
        sa.Column("last_seen", sa.Float, nullable=False),
        sa.Column("second_factor", sa.Integer, nullable=False),
        sa.Column("ended_at", sa.Text),
        sa.Column("end_reason", sa.Text),
    )
    op.create_index("ix_staff_sessions_name", "staff_sessions", ["name"])
    op.create_table(
        "staff_backoff",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("not_before", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("staff_backoff")
    op.drop_index("ix_staff_sessions_name", table_name="staff_sessions")
    op.drop_table("staff_sessions")
    op.drop_index("ix_staff_recovery_codes_name", table_name="staff_recovery_codes")
    op.drop_table("staff_recovery_codes")
    op.drop_table("staff_roles")
    op.drop_table("staff_accounts")
