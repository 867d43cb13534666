"""Mail outbox and shared rate-limit counters (issue 16 follow-ups). RESERVED for H30: fill upgrade/downgrade.

Revision ID: bank_0014
"""

from __future__ import annotations

revision = "bank_0014"
down_revision = "bank_0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
