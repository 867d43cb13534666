"""Exam sessions, bookings, waiting lists and signed rosters (issue 16).

The tables are defined once in item_bank_sync/sittings/schema.py; a test compares the two on both
engines. (Signed rosters are built from these tables when a session is published; they add none.)

Revision ID: bank_0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "bank_0008"
down_revision = "bank_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Sessions and bookings (item_bank_sync/sittings/schema.py describes them)."""
    op.create_table(
        "exam_sessions",
        sa.Column("session_id", sa.Text, primary_key=True),
        sa.Column("centre_id", sa.Text, nullable=False),
        sa.Column("scheme_id", sa.Text, nullable=False),
        sa.Column("scheme_version", sa.Integer, nullable=False),
        sa.Column("forms_json", sa.Text, nullable=False),
        sa.Column("starts_at", sa.Text, nullable=False),
        sa.Column("window_minutes", sa.Integer, nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
    )
    op.create_table(
        "bookings",
        sa.Column("booking_id", sa.Text, primary_key=True),
        sa.Column("session_id", sa.Text, nullable=False),
        sa.Column("person_id", sa.Text, nullable=False),
        sa.Column("application_id", sa.Text, nullable=False),
        sa.Column("candidate_id", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("seat", sa.Integer),
        sa.Column("queue_position", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("changed_at", sa.Text),
        sa.Column("changed_by", sa.Text),
        sa.Column("change_reason", sa.Text),
        sa.UniqueConstraint("session_id", "seat", name="bookings_session_seat"),
        sa.UniqueConstraint("candidate_id", name="bookings_candidate"),
    )
    op.create_index("bookings_person", "bookings", ["person_id"])
    _portal_upgrade()


def _portal_upgrade() -> None:
    """The candidate portal's accounts, mailed links, sessions and messages (item_bank_sync/portal/schema.py)."""
    op.create_table(
        "candidate_accounts",
        sa.Column("account_id", sa.Text, primary_key=True),
        sa.Column("person_id", sa.Text, nullable=False, unique=True),
        sa.Column("email", sa.Text, nullable=False, unique=True),
        sa.Column("password_hash", sa.LargeBinary, nullable=False),
        sa.Column("password_salt", sa.LargeBinary, nullable=False),
        sa.Column("password_params", sa.Text, nullable=False),
        sa.Column("totp_sealed", sa.LargeBinary),
        sa.Column("totp_last_step", sa.Integer),
        sa.Column("created_at", sa.Text, nullable=False),
    )
    op.create_table(
        "portal_tokens",
        sa.Column("token_sha256", sa.Text, primary_key=True),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("payload_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Text, nullable=False),
        sa.Column("used_at", sa.Text),
    )
    op.create_table(
        "portal_sessions",
        sa.Column("token_sha256", sa.Text, primary_key=True),
        sa.Column("account_id", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Text, nullable=False),
        sa.Column("second_factor", sa.Integer, nullable=False),
        sa.Column("ended_at", sa.Text),
    )
    op.create_index("portal_sessions_account", "portal_sessions", ["account_id"])
    op.create_table(
        "portal_messages",
        sa.Column("message_id", sa.Integer, primary_key=True),
        sa.Column("person_id", sa.Text, nullable=False),
        sa.Column("sent_at", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("portal_messages_person", "portal_messages", ["person_id"])


def downgrade() -> None:
    """Drop sessions and bookings."""
    for table in ("portal_messages", "portal_sessions", "portal_tokens", "candidate_accounts"):
        op.drop_table(table)
    op.drop_table("bookings")
    op.drop_table("exam_sessions")
