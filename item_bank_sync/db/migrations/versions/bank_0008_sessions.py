"""Exam sessions, bookings, waiting lists and signed rosters (issue 16).

Reserved in the revision chain so that work landing in parallel keeps one line of revisions; the
engineer who owns it fills in upgrade and downgrade together with the tables'
definitions on the shared MetaData (a test compares the two on both engines).

Revision ID: bank_0008
"""

from __future__ import annotations

revision = "bank_0008"
down_revision = "bank_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet (reserved)."""


def downgrade() -> None:
    """Nothing yet (reserved)."""
