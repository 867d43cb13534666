"""Results release: holds, reviews and releases of scored attempts, re-scores, and the accepted
envelopes' bytes a re-score replays (issue 17).

The tables of :mod:`item_bank_sync.release.schema` (``release_holds``, ``result_releases``,
``rescores``, ``remarks``) and ``envelope_archive`` of :mod:`item_bank_sync.results.schema`. Attempts accepted
before this revision have no archived bytes; their replay is refused with that reason.

Revision ID: results_0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "results_0008"
down_revision = "results_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "release_holds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("held_by", sa.Text, nullable=False),
        sa.Column("held_at", sa.Text, nullable=False),
        sa.Column("lifted_by", sa.Text),
        sa.Column("lifted_at", sa.Text),
        sa.Column("lift_reason", sa.Text, nullable=False, server_default=""),
        sa.CheckConstraint("scope IN ('centre', 'form', 'attempt')", name="release_holds_scope_check"),
    )
    op.create_index("release_holds_target", "release_holds", ["scope", "target"])
    op.create_table(
        "result_releases",
        sa.Column("attempt_id", sa.Text, primary_key=True),
        sa.Column("released_by", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("released_at", sa.Text, nullable=False),
    )
    op.create_table(
        "rescores",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("attempt_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("by", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("inputs_json", sa.Text, nullable=False),
        sa.Column("before_total", sa.Float),
        sa.Column("after_total", sa.Float),
        sa.Column("before_passed", sa.Integer),
        sa.Column("after_passed", sa.Integer),
        sa.Column("identical", sa.Integer, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.CheckConstraint("kind IN ('replay', 'key_correction')", name="rescores_kind_check"),
    )
    op.create_index("rescores_attempt", "rescores", ["attempt_id"])
    op.create_table(
        "remarks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("attempt_id", sa.Text, nullable=False),
        sa.Column("task_id", sa.Integer, nullable=False),
        sa.Column("marker", sa.Text, nullable=False),
        sa.Column("score_before", sa.Float),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("applied", sa.Integer, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
    )
    op.create_index("remarks_attempt", "remarks", ["attempt_id"])
    op.create_table(
        "envelope_archive",
        sa.Column("sha256", sa.Text, primary_key=True),
        sa.Column("envelope", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("envelope_archive")
    op.drop_index("remarks_attempt", table_name="remarks")
    op.drop_table("remarks")
    op.drop_index("rescores_attempt", table_name="rescores")
    op.drop_table("rescores")
    op.drop_table("result_releases")
    op.drop_index("release_holds_target", table_name="release_holds")
    op.drop_table("release_holds")
