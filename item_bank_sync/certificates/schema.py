"""Tables of certificates, their credentials, status history and the issuer's public keys (bank store).

``certificates``            one certificate (ISO/IEC 17024 9.4): holder (``person_id`` when the
                            registry of persons knows the candidate), scheme and version, scope,
                            dates, status, the holder agreement accepted at issue, consent to be
                            found by name. ``status`` is the registry's truth; the status lists are
                            computed from it at every request, so they can never disagree.
``certificate_credentials`` every VC-JWT issued for a certificate, with its two status-list
                            indexes (random, unique per list). A newer credential (scope reduced,
                            later a renewal) supersedes the older one, whose revocation bit is set.
``certificate_events``      the status history: issue, suspend, restore, withdraw, reduce-scope,
                            expire; who decided, why, when (append-only).
``issuer_keys``             public halves of the issuer's signing keys by key id (the JWKS); the
                            private halves stay in the data directory's ``keys/issuer/``.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, Text

from item_bank_sync.db.metadata import BANK, central_table

STATUSES = ("valid", "suspended", "withdrawn", "expired")

certificates = central_table(
    "certificates", BANK,
    Column("certificate_id", Text, primary_key=True),
    Column("attempt_id", Text, nullable=False),
    Column("candidate_id", Text, nullable=False),
    Column("person_id", Text),
    Column("holder_name", Text, nullable=False),
    Column("holder_name_source", Text, nullable=False),
    Column("name_key", Text, nullable=False),
    Column("name_consent", Integer, nullable=False, server_default="0"),
    Column("scheme_id", Text, nullable=False),
    Column("scheme_version", Integer, nullable=False),
    Column("scheme_title", Text, nullable=False),
    Column("scope_json", Text, nullable=False),
    Column("scope_reduced", Integer, nullable=False, server_default="0"),
    Column("valid_from", Text, nullable=False),
    Column("valid_until", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="valid"),
    Column("status_reason", Text, nullable=False, server_default=""),
    Column("suspended_until", Text),
    Column("agreement_version", Text, nullable=False),
    Column("agreement_accepted_at", Text, nullable=False),
    Column("issued_by", Text, nullable=False),
    Column("issued_at", Text, nullable=False),
    CheckConstraint("status IN ('valid', 'suspended', 'withdrawn', 'expired')", name="certificates_status_check"),
    Index("certificates_attempt", "attempt_id"),
    Index("certificates_name_key", "name_key"),
    Index("certificates_person", "person_id"),
)

certificate_credentials = central_table(
    "certificate_credentials", BANK,
    Column("credential_id", Text, primary_key=True),
    Column("certificate_id", Text, ForeignKey("certificates.certificate_id"), nullable=False),
    Column("kid", Text, nullable=False),
    Column("revocation_index", Integer, nullable=False, unique=True),
    Column("suspension_index", Integer, nullable=False, unique=True),
    Column("jwt", Text, nullable=False),
    Column("issued_at", Text, nullable=False),
    Column("superseded_at", Text),
    Index("certificate_credentials_certificate", "certificate_id"),
)

certificate_events = central_table(
    "certificate_events", BANK,
    Column("id", Integer, primary_key=True),
    Column("certificate_id", Text, ForeignKey("certificates.certificate_id"), nullable=False),
    Column("action", Text, nullable=False),
    Column("decided_by", Text, nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("detail_json", Text, nullable=False, server_default="{}"),
    Column("at", Text, nullable=False),
    Index("certificate_events_certificate", "certificate_id"),
)

issuer_keys = central_table(
    "issuer_keys", BANK,
    Column("kid", Text, primary_key=True),
    Column("public_jwk_json", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("retired_at", Text),
)
