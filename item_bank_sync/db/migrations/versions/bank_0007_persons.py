"""Persons, applications, evidence, agreements, eligibility, conflicts of interest and accommodations (issue 16).

The tables are defined once in item_bank_sync/registry/schema.py; a test compares the two on both
engines.

Revision ID: bank_0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "bank_0007"
down_revision = "bank_0006"
branch_labels = None
depends_on = None


TABLES = ("persons", "person_consents", "applications", "evidence_documents", "conflicts", "accommodation_requests")


def upgrade() -> None:
    """The registry's tables (item_bank_sync/registry/schema.py describes them)."""
    op.create_table(
        "persons",
        sa.Column("person_id", sa.Text, primary_key=True),
        sa.Column("given_name", sa.Text, nullable=False),
        sa.Column("family_name", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("date_of_birth", sa.Text),
        sa.Column("photo_sealed", sa.LargeBinary),
        sa.Column("photo_sha256", sa.Text),
        sa.Column("photo_media_type", sa.Text),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.UniqueConstraint("email", name="persons_email"),
    )
    op.create_table(
        "person_consents",
        sa.Column("consent_id", sa.Integer, primary_key=True),
        sa.Column("person_id", sa.Text, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("text_version", sa.Text, nullable=False),
        sa.Column("given", sa.Integer, nullable=False),
        sa.Column("recorded_at", sa.Text, nullable=False),
        sa.Column("recorded_by", sa.Text, nullable=False),
    )
    op.create_index("person_consents_person", "person_consents", ["person_id"])
    op.create_table(
        "applications",
        sa.Column("application_id", sa.Text, primary_key=True),
        sa.Column("person_id", sa.Text, nullable=False),
        sa.Column("scheme_id", sa.Text, nullable=False),
        sa.Column("scheme_version", sa.Integer, nullable=False),
        sa.Column("answers_json", sa.Text, nullable=False),
        sa.Column("agreement_json", sa.Text, nullable=False),
        sa.Column("eligibility_json", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("submitted_at", sa.Text, nullable=False),
        sa.Column("submitted_by", sa.Text, nullable=False),
        sa.Column("decided_at", sa.Text),
        sa.Column("decided_by", sa.Text),
        sa.Column("decision_reasons", sa.Text),
        sa.Column("expires_at", sa.Text),
        sa.Column("appeal_lodged_at", sa.Text),
        sa.Column("appeal_lodged_by", sa.Text),
        sa.Column("appeal_note", sa.Text),
    )
    op.create_index("applications_person", "applications", ["person_id"])
    op.create_table(
        "evidence_documents",
        sa.Column("document_id", sa.Text, primary_key=True),
        sa.Column("subject_kind", sa.Text, nullable=False),
        sa.Column("subject_id", sa.Text, nullable=False),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("media_type", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sa.Column("added_at", sa.Text, nullable=False),
        sa.Column("added_by", sa.Text, nullable=False),
    )
    op.create_index("evidence_documents_subject", "evidence_documents", ["subject_kind", "subject_id"])
    op.create_table(
        "conflicts",
        sa.Column("conflict_id", sa.Integer, primary_key=True),
        sa.Column("staff", sa.Text, nullable=False),
        sa.Column("person_id", sa.Text, nullable=False),
        sa.Column("relationship", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("declared_at", sa.Text, nullable=False),
        sa.Column("declared_by", sa.Text, nullable=False),
        sa.Column("withdrawn_at", sa.Text),
        sa.Column("withdrawn_by", sa.Text),
        sa.Column("withdrawn_reason", sa.Text),
    )
    op.create_index("conflicts_staff_person", "conflicts", ["staff", "person_id"])
    op.create_table(
        "accommodation_requests",
        sa.Column("request_id", sa.Text, primary_key=True),
        sa.Column("person_id", sa.Text, nullable=False),
        sa.Column("scheme_id", sa.Text, nullable=False),
        sa.Column("scheme_version", sa.Integer, nullable=False),
        sa.Column("requested_json", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("profile_json", sa.Text),
        sa.Column("expires_on", sa.Text),
        sa.Column("requested_at", sa.Text, nullable=False),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("decided_at", sa.Text),
        sa.Column("decided_by", sa.Text),
        sa.Column("decision_reasons", sa.Text),
    )
    op.create_index("accommodation_requests_person", "accommodation_requests", ["person_id"])


def downgrade() -> None:
    """Drop the registry's tables (their indexes go with them)."""
    for table in reversed(TABLES):
        op.drop_table(table)
