"""Calibrated item parameters per item version, stored equatings and standard-setting records (issue 19).

``item_parameters`` holds every calibration (``analyze --form --irt --write-params``) with its
model, sample, form, convergence and who ran it; ``form_equatings`` a form's conversion to its
reference form's scale; ``standard_setting_*`` a modified-Angoff study of a scheme version: its
panellists (with declared conflicts), rounds of ratings, and the impact, recommended and adopted
cuts (the cut in force is the newest adopted one of the scheme version). Definitions in
``item_bank_sync/bank/schema.py``.

Revision ID: bank_0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "bank_0011"
down_revision = "bank_0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _item_parameters()
    _form_equatings()
    _standard_setting()


def _item_parameters() -> None:
    op.create_table(
        "item_parameters",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("item_id", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("a", sa.Float, nullable=False),
        sa.Column("b", sa.Float, nullable=False),
        sa.Column("d", sa.Float, nullable=False),
        sa.Column("se_a", sa.Float),
        sa.Column("se_b", sa.Float),
        sa.Column("fit_json", sa.Text, nullable=False, server_default="{}"),
        sa.Column("n_candidates", sa.Integer, nullable=False),
        sa.Column("form_id", sa.Text, nullable=False),
        sa.Column("form_version", sa.Integer, nullable=False),
        sa.Column("converged", sa.Integer, nullable=False),
        sa.Column("iterations", sa.Integer, nullable=False),
        sa.Column("loglik", sa.Float),
        sa.Column("calibrated_at", sa.Text, nullable=False),
        sa.Column("calibrated_by", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["item_id", "version"], ["items.item_id", "items.version"]),
    )
    op.create_index("item_parameters_item", "item_parameters", ["item_id", "version"])


def _form_equatings() -> None:
    op.create_table(
        "form_equatings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("form_id", sa.Text, nullable=False),
        sa.Column("form_version", sa.Integer, nullable=False),
        sa.Column("reference_form_id", sa.Text, nullable=False),
        sa.Column("reference_version", sa.Integer, nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("conversion_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["form_id", "form_version"], ["forms.form_id", "forms.version"]),
    )
    op.create_index("form_equatings_form", "form_equatings", ["form_id", "form_version"])


def _standard_setting() -> None:
    op.create_table(
        "standard_setting_studies",
        sa.Column("study_id", sa.Text, primary_key=True),
        sa.Column("scheme_id", sa.Text, nullable=False),
        sa.Column("scheme_version", sa.Integer, nullable=False),
        sa.Column("form_id", sa.Text, nullable=False),
        sa.Column("form_version", sa.Integer, nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("opened_at", sa.Text, nullable=False),
        sa.Column("opened_by", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["scheme_id", "scheme_version"], ["schemes.scheme_id", "schemes.version"]),
    )
    op.create_table(
        "standard_setting_panellists",
        sa.Column("study_id", sa.Text, sa.ForeignKey("standard_setting_studies.study_id"), primary_key=True),
        sa.Column("panellist_id", sa.Text, primary_key=True),
        sa.Column("trained_candidates", sa.Integer, nullable=False),
        sa.Column("conflicts", sa.Text, nullable=False, server_default=""),
        sa.Column("added_at", sa.Text, nullable=False),
    )
    op.create_table(
        "standard_setting_ratings",
        sa.Column("study_id", sa.Text, sa.ForeignKey("standard_setting_studies.study_id"), primary_key=True),
        sa.Column("round", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("panellist_id", sa.Text, primary_key=True),
        sa.Column("item_id", sa.Text, primary_key=True),
        sa.Column("rating", sa.Float, nullable=False),
        sa.Column("imported_at", sa.Text, nullable=False),
        sa.Column("imported_by", sa.Text, nullable=False),
        sa.CheckConstraint("rating >= 0 AND rating <= 1", name="standard_setting_ratings_rating_check"),
    )
    op.create_table(
        "standard_setting_cuts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("study_id", sa.Text, sa.ForeignKey("standard_setting_studies.study_id"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("cut", sa.Float, nullable=False),
        sa.Column("se", sa.Float),
        sa.Column("pass_rate", sa.Float),
        sa.Column("n_candidates", sa.Integer),
        sa.Column("detail_json", sa.Text, nullable=False, server_default="{}"),
        sa.Column("decided_by", sa.Text, nullable=False),
        sa.Column("decided_at", sa.Text, nullable=False),
        sa.CheckConstraint("kind IN ('impact', 'recommended', 'adopted')", name="standard_setting_cuts_kind_check"),
    )
    op.create_index("standard_setting_cuts_study", "standard_setting_cuts", ["study_id"])


def downgrade() -> None:
    op.drop_index("standard_setting_cuts_study", "standard_setting_cuts")
    for table in ("standard_setting_cuts", "standard_setting_ratings", "standard_setting_panellists",
                  "standard_setting_studies"):
        op.drop_table(table)
    op.drop_index("form_equatings_form", "form_equatings")
    op.drop_table("form_equatings")
    op.drop_index("item_parameters_item", "item_parameters")
    op.drop_table("item_parameters")
