"""Item bank, schemes, forms, centres, packages (the hand-numbered bank.db migration 1).

Revision ID: bank_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "bank_0001"
down_revision = None
branch_labels = ("bank",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("item_id", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("content_hash", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="draft"),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("interaction_types", sa.Text, nullable=False),
        sa.Column("competency_area", sa.Text),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_format", sa.Text, nullable=False),
        sa.Column("item_json", sa.Text, nullable=False),
        sa.Column("key_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.CheckConstraint("status IN ('draft', 'reviewed', 'approved', 'retired')", name="items_status_check"),
    )
    op.create_index("items_status", "items", ["status"])
    op.create_index("items_area", "items", ["competency_area"])
    op.create_table(
        "item_status",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("item_id", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("from_status", sa.Text),
        sa.Column("to_status", sa.Text, nullable=False),
        sa.Column("by", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.ForeignKeyConstraint(["item_id", "version"], ["items.item_id", "items.version"]),
    )
    op.create_index("item_status_item", "item_status", ["item_id", "version"])
    op.create_table(
        "media",
        sa.Column("sha256", sa.Text, primary_key=True),
        sa.Column("mime", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("width", sa.Integer),
        sa.Column("height", sa.Integer),
        sa.Column("created_at", sa.Text, nullable=False),
    )
    op.create_table(
        "schemes",
        sa.Column("scheme_id", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("scheme_json", sa.Text, nullable=False),
        sa.Column("source_text", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
    )
    op.create_table(
        "forms",
        sa.Column("form_id", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("scheme_id", sa.Text, nullable=False),
        sa.Column("scheme_version", sa.Integer, nullable=False),
        sa.Column("build_id", sa.Text, nullable=False),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("form_json", sa.Text, nullable=False),
        sa.Column("mean_p", sa.Float),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["scheme_id", "scheme_version"], ["schemes.scheme_id", "schemes.version"]),
    )
    op.create_table(
        "item_stats",
        sa.Column("item_id", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("p", sa.Float, nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("point_biserial", sa.Float),
        sa.Column("updated_at", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False, server_default=""),
        sa.CheckConstraint("p >= 0 AND p <= 1", name="item_stats_p_check"),
        sa.CheckConstraint("n >= 0", name="item_stats_n_check"),
    )
    op.create_table(
        "centres",
        sa.Column("centre_id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("signing_key_id", sa.Text, nullable=False),
        sa.Column("hpke_key_id", sa.Text, nullable=False),
        sa.Column("request_json", sa.Text, nullable=False),
        sa.Column("cert_serial", sa.Text, nullable=False),
        sa.Column("certificate", sa.LargeBinary, nullable=False),
        sa.Column("not_after", sa.Text, nullable=False),
        sa.Column("enrolled_at", sa.Text, nullable=False),
        sa.Column("revoked_at", sa.Text),
        sa.Column("revoked_reason", sa.Text),
    )
    op.create_table(
        "packages",
        sa.Column("package_id", sa.Text, primary_key=True),
        sa.Column("form_id", sa.Text, nullable=False),
        sa.Column("form_version", sa.Integer, nullable=False),
        sa.Column("centre_id", sa.Text, sa.ForeignKey("centres.centre_id"), nullable=False),
        sa.Column("opens", sa.Text, nullable=False),
        sa.Column("closes", sa.Text, nullable=False),
        sa.Column("release_code_required", sa.Integer, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["form_id", "form_version"], ["forms.form_id", "forms.version"]),
    )


def downgrade() -> None:
    for table in ("packages", "centres", "item_stats", "forms", "schemes", "media", "item_status", "items"):
        op.drop_table(table)
