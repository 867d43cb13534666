"""Certificates, their credentials and status history, and the issuer's public keys (issue 17).

The tables of :mod:`item_bank_sync.certificates.schema`: ``certificates``,
``certificate_credentials``, ``certificate_events``, ``issuer_keys``; and recertification's
(:mod:`item_bank_sync.recertification.schema`): ``cpd_records``, ``cpd_samples``, ``recert_renewals``,
``recert_reminders``.

Revision ID: bank_0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "bank_0009"
down_revision = "bank_0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificates",
        sa.Column("certificate_id", sa.Text, primary_key=True),
        sa.Column("attempt_id", sa.Text, nullable=False),
        sa.Column("candidate_id", sa.Text, nullable=False),
        sa.Column("person_id", sa.Text),
        sa.Column("holder_name", sa.Text, nullable=False),
        sa.Column("holder_name_source", sa.Text, nullable=False),
        sa.Column("name_key", sa.Text, nullable=False),
        sa.Column("name_consent", sa.Integer, nullable=False, server_default="0"),
        sa.Column("scheme_id", sa.Text, nullable=False),
        sa.Column("scheme_version", sa.Integer, nullable=False),
        sa.Column("scheme_title", sa.Text, nullable=False),
        sa.Column("scope_json", sa.Text, nullable=False),
        sa.Column("scope_reduced", sa.Integer, nullable=False, server_default="0"),
        sa.Column("valid_from", sa.Text, nullable=False),
        sa.Column("valid_until", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="valid"),
        sa.Column("status_reason", sa.Text, nullable=False, server_default=""),
        sa.Column("suspended_until", sa.Text),
        sa.Column("agreement_version", sa.Text, nullable=False),
        sa.Column("agreement_accepted_at", sa.Text, nullable=False),
        sa.Column("issued_by", sa.Text, nullable=False),
        sa.Column("issued_at", sa.Text, nullable=False),
        sa.CheckConstraint("status IN ('valid', 'suspended', 'withdrawn', 'expired')",
                           name="certificates_status_check"),
    )
    op.create_index("certificates_attempt", "certificates", ["attempt_id"])
    op.create_index("certificates_name_key", "certificates", ["name_key"])
    op.create_index("certificates_person", "certificates", ["person_id"])
    op.create_table(
        "certificate_credentials",
        sa.Column("credential_id", sa.Text, primary_key=True),
        sa.Column("certificate_id", sa.Text, sa.ForeignKey("certificates.certificate_id"), nullable=False),
        sa.Column("kid", sa.Text, nullable=False),
        sa.Column("revocation_index", sa.Integer, nullable=False, unique=True),
        sa.Column("suspension_index", sa.Integer, nullable=False, unique=True),
        sa.Column("jwt", sa.Text, nullable=False),
        sa.Column("issued_at", sa.Text, nullable=False),
        sa.Column("superseded_at", sa.Text),
    )
    op.create_index("certificate_credentials_certificate", "certificate_credentials", ["certificate_id"])
    op.create_table(
        "certificate_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("certificate_id", sa.Text, sa.ForeignKey("certificates.certificate_id"), nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("decided_by", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("detail_json", sa.Text, nullable=False, server_default="{}"),
        sa.Column("at", sa.Text, nullable=False),
    )
    op.create_index("certificate_events_certificate", "certificate_events", ["certificate_id"])
    op.create_table(
        "issuer_keys",
        sa.Column("kid", sa.Text, primary_key=True),
        sa.Column("public_jwk_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("retired_at", sa.Text),
    )
    _upgrade_recertification()


def _upgrade_recertification() -> None:
    """Recertification (item_bank_sync/recertification/schema.py): CPD records, audit samples,
    renewals, reminders."""
    op.create_table(
        "cpd_records",
        sa.Column("record_id", sa.Text, primary_key=True),
        sa.Column("certificate_id", sa.Text, sa.ForeignKey("certificates.certificate_id"), nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("credits", sa.Float, nullable=False),
        sa.Column("activity_date", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("evidence_filename", sa.Text),
        sa.Column("evidence_media_type", sa.Text),
        sa.Column("evidence_sha256", sa.Text),
        sa.Column("evidence_sealed", sa.LargeBinary),
        sa.Column("recorded_by", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.Text, nullable=False),
        sa.Column("audit_status", sa.Text, nullable=False, server_default="recorded"),
        sa.Column("sample_id", sa.Text),
        sa.Column("audited_by", sa.Text),
        sa.Column("audited_at", sa.Text),
        sa.Column("audit_reason", sa.Text),
        sa.Column("renewal_id", sa.Text),
        sa.CheckConstraint("audit_status IN ('recorded', 'sampled', 'verified', 'rejected')",
                           name="cpd_records_audit_status_check"),
    )
    op.create_index("cpd_records_certificate", "cpd_records", ["certificate_id"])
    op.create_table(
        "cpd_samples",
        sa.Column("sample_id", sa.Text, primary_key=True),
        sa.Column("share", sa.Float, nullable=False),
        sa.Column("seed", sa.Text, nullable=False),
        sa.Column("population", sa.Integer, nullable=False),
        sa.Column("drawn_json", sa.Text, nullable=False),
        sa.Column("drawn_by", sa.Text, nullable=False),
        sa.Column("drawn_at", sa.Text, nullable=False),
    )
    op.create_table(
        "recert_renewals",
        sa.Column("renewal_id", sa.Text, primary_key=True),
        sa.Column("certificate_id", sa.Text, sa.ForeignKey("certificates.certificate_id"), nullable=False),
        sa.Column("cycle_start", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("previous_valid_until", sa.Text, nullable=False),
        sa.Column("new_valid_until", sa.Text),
        sa.Column("credits_json", sa.Text, nullable=False, server_default="{}"),
        sa.Column("reexam_attempt_id", sa.Text),
        sa.Column("decided_by", sa.Text, nullable=False),
        sa.Column("decided_at", sa.Text, nullable=False),
        sa.UniqueConstraint("certificate_id", "cycle_start", name="recert_renewals_cycle"),
    )
    op.create_table(
        "recert_reminders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("certificate_id", sa.Text, sa.ForeignKey("certificates.certificate_id"), nullable=False),
        sa.Column("valid_until", sa.Text, nullable=False),
        sa.Column("threshold_days", sa.Integer, nullable=False),
        sa.Column("person_id", sa.Text),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("sent_at", sa.Text),
        sa.UniqueConstraint("certificate_id", "valid_until", "threshold_days", name="recert_reminders_once"),
    )
    op.create_index("recert_reminders_person", "recert_reminders", ["person_id"])


def downgrade() -> None:
    op.drop_index("recert_reminders_person", table_name="recert_reminders")
    op.drop_table("recert_reminders")
    op.drop_table("recert_renewals")
    op.drop_table("cpd_samples")
    op.drop_index("cpd_records_certificate", table_name="cpd_records")
    op.drop_table("cpd_records")
    op.drop_table("issuer_keys")
    op.drop_index("certificate_events_certificate", table_name="certificate_events")
    op.drop_table("certificate_events")
    op.drop_index("certificate_credentials_certificate", table_name="certificate_credentials")
    op.drop_table("certificate_credentials")
    op.drop_index("certificates_person", table_name="certificates")
    op.drop_index("certificates_name_key", table_name="certificates")
    op.drop_index("certificates_attempt", table_name="certificates")
    op.drop_table("certificates")
