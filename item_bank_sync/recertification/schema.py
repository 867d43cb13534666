"""Tables of recertification (ISO/IEC 17024 9.6), bank store, Alembic revision bank_0009.

``cpd_records``      one continuing professional development activity a holder recorded against a
                     certificate: category, credits, date, description, and an optional evidence
                     document sealed at rest (AES-GCM under the body's evidence key, as the registry's
                     evidence; the SHA-256 of the plaintext kept beside it). ``audit_status`` follows
                     the audit sampling: ``recorded`` -> ``sampled`` -> ``verified`` or ``rejected``;
                     ``renewal_id`` names the renewal the record counted towards (once only).
``cpd_samples``      each audit draw: the share, the seed and the ids drawn, so anyone can draw again
                     from the same population and get the same records.
``recert_renewals``  each renewal decision: who, when, the cycle it closed, the credits that counted, the
                     re-examination it relied on. One per certificate and cycle start (a unique key:
                     two decisions at once make one renewal).
``recert_reminders`` each reminder before expiry: one per certificate, expiry date and threshold (a
                     unique key: two runs at once send it once), how it went out (mail or portal).
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Float, ForeignKey, Index, Integer, LargeBinary, Text, UniqueConstraint

from item_bank_sync.db.metadata import BANK, central_table

AUDIT_STATUSES = ("recorded", "sampled", "verified", "rejected")

cpd_records = central_table(
    "cpd_records", BANK,
    Column("record_id", Text, primary_key=True),
    Column("certificate_id", Text, ForeignKey("certificates.certificate_id"), nullable=False),
    Column("category", Text, nullable=False),
    Column("credits", Float, nullable=False),
    Column("activity_date", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("evidence_filename", Text),
    Column("evidence_media_type", Text),
    Column("evidence_sha256", Text),
    Column("evidence_sealed", LargeBinary),
    Column("recorded_by", Text, nullable=False),
    Column("recorded_at", Text, nullable=False),
    Column("audit_status", Text, nullable=False, server_default="recorded"),
    Column("sample_id", Text),
    Column("audited_by", Text),
    Column("audited_at", Text),
    Column("audit_reason", Text),
    Column("renewal_id", Text),
    CheckConstraint("audit_status IN ('recorded', 'sampled', 'verified', 'rejected')",
                    name="cpd_records_audit_status_check"),
    Index("cpd_records_certificate", "certificate_id"),
)

cpd_samples = central_table(
    "cpd_samples", BANK,
    Column("sample_id", Text, primary_key=True),
    Column("share", Float, nullable=False),
    Column("seed", Text, nullable=False),
    Column("population", Integer, nullable=False),
    Column("drawn_json", Text, nullable=False),
    Column("drawn_by", Text, nullable=False),
    Column("drawn_at", Text, nullable=False),
)

recert_renewals = central_table(
    "recert_renewals", BANK,
    Column("renewal_id", Text, primary_key=True),
    Column("certificate_id", Text, ForeignKey("certificates.certificate_id"), nullable=False),
    Column("cycle_start", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("previous_valid_until", Text, nullable=False),
    Column("new_valid_until", Text),
    Column("credits_json", Text, nullable=False, server_default="{}"),
    Column("reexam_attempt_id", Text),
    Column("decided_by", Text, nullable=False),
    Column("decided_at", Text, nullable=False),
    UniqueConstraint("certificate_id", "cycle_start", name="recert_renewals_cycle"),
)

recert_reminders = central_table(
    "recert_reminders", BANK,
    Column("id", Integer, primary_key=True),
    Column("certificate_id", Text, ForeignKey("certificates.certificate_id"), nullable=False),
    Column("valid_until", Text, nullable=False),
    Column("threshold_days", Integer, nullable=False),
    Column("person_id", Text),
    Column("channel", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("sent_at", Text),
    UniqueConstraint("certificate_id", "valid_until", "threshold_days", name="recert_reminders_once"),
    Index("recert_reminders_person", "person_id"),
)
