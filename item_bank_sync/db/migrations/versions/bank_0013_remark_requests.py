"""Re-mark requests (issue 17): a handler asks a named marker; only that marker answers. RESERVED for H26: fill upgrade/downgrade.

Revision ID: bank_0013
"""

from __future__ import annotations

revision = "bank_0013"
down_revision = "bank_0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
