"""Tables of the body's registry of people and their certification path (issue 16), in the bank store.

Defined once here on the shared MetaData; revision ``bank_0007`` builds the same tables.

``persons``                 one row per person across schemes and attempts: identity, contact, and
                            the identity-check photo (re-encoded, sealed with the evidence key).
``person_consents``         each consent given or withdrawn: purpose, text version, time, who recorded it.
``applications``            an application for one scheme version: answers, the applicant agreement,
                            the automatic eligibility result, the registrar's decision, an appeal lodged.
``evidence_documents``      uploaded evidence of an application or an accommodation request, sealed
                            (AES-GCM) at rest; the SHA-256 of the plaintext kept beside it.
``conflicts``               a staff member's declared relationship with a person (impartiality).
``accommodation_requests``  requested adjustments, and the profile a registrar approved (with expiry) or
                            the refusal with reasons.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, LargeBinary, Text, UniqueConstraint

from item_bank_sync.db.metadata import BANK, central_table

persons = central_table(
    "persons", BANK,
    Column("person_id", Text, primary_key=True),
    Column("given_name", Text, nullable=False),
    Column("family_name", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("date_of_birth", Text),
    Column("photo_sealed", LargeBinary),
    Column("photo_sha256", Text),
    Column("photo_media_type", Text),
    Column("created_at", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    UniqueConstraint("email", name="persons_email"),
)

person_consents = central_table(
    "person_consents", BANK,
    Column("consent_id", Integer, primary_key=True),
    Column("person_id", Text, nullable=False),
    Column("purpose", Text, nullable=False),
    Column("text_version", Text, nullable=False),
    Column("given", Integer, nullable=False),
    Column("recorded_at", Text, nullable=False),
    Column("recorded_by", Text, nullable=False),
    Index("person_consents_person", "person_id"),
)

applications = central_table(
    "applications", BANK,
    Column("application_id", Text, primary_key=True),
    Column("person_id", Text, nullable=False),
    Column("scheme_id", Text, nullable=False),
    Column("scheme_version", Integer, nullable=False),
    Column("answers_json", Text, nullable=False),
    Column("agreement_json", Text, nullable=False),
    Column("eligibility_json", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("submitted_at", Text, nullable=False),
    Column("submitted_by", Text, nullable=False),
    Column("decided_at", Text),
    Column("decided_by", Text),
    Column("decision_reasons", Text),
    Column("expires_at", Text),
    Column("appeal_lodged_at", Text),
    Column("appeal_lodged_by", Text),
    Column("appeal_note", Text),
    Index("applications_person", "person_id"),
)

evidence_documents = central_table(
    "evidence_documents", BANK,
    Column("document_id", Text, primary_key=True),
    Column("subject_kind", Text, nullable=False),
    Column("subject_id", Text, nullable=False),
    Column("filename", Text, nullable=False),
    Column("media_type", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Column("added_at", Text, nullable=False),
    Column("added_by", Text, nullable=False),
    Index("evidence_documents_subject", "subject_kind", "subject_id"),
)

conflicts = central_table(
    "conflicts", BANK,
    Column("conflict_id", Integer, primary_key=True),
    Column("staff", Text, nullable=False),
    Column("person_id", Text, nullable=False),
    Column("relationship", Text, nullable=False),
    Column("note", Text, nullable=False),
    Column("declared_at", Text, nullable=False),
    Column("declared_by", Text, nullable=False),
    Column("withdrawn_at", Text),
    Column("withdrawn_by", Text),
    Column("withdrawn_reason", Text),
    Index("conflicts_staff_person", "staff", "person_id"),
)

accommodation_requests = central_table(
    "accommodation_requests", BANK,
    Column("request_id", Text, primary_key=True),
    Column("person_id", Text, nullable=False),
    Column("scheme_id", Text, nullable=False),
    Column("scheme_version", Integer, nullable=False),
    Column("requested_json", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("profile_json", Text),
    Column("expires_on", Text),
    Column("requested_at", Text, nullable=False),
    Column("requested_by", Text, nullable=False),
    Column("decided_at", Text),
    Column("decided_by", Text),
    Column("decision_reasons", Text),
    Index("accommodation_requests_person", "person_id"),
)
