"""Tables of the central body's trust records, defined once on the data layer's MetaData.

In the bank store (``bank.db`` on SQLite):

``centres``            enrolled test centres and the certificates issued to them; revocation state.
``revocation_lists``   every signed revocation list issued (sequence grows by one each time); the
                       latest is also written to ``DIR/centres/revocations.signed`` for sync.

In the results store (``results.db`` on SQLite), beside the envelopes they judge:

``kiosk_revocations``  kiosks a centre revoked (its signed statement): envelopes their keys seal
                       from that moment on are quarantined (:mod:`item_bank_sync.trust.kiosk_revocations`).
``release_allowlist``  kiosk release measurements the central body accepts; ``attestation_checks``
                       the verdict on each accepted envelope's release attestation
                       (:mod:`item_bank_sync.trust.release_allowlist`).
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, LargeBinary, Text

from item_bank_sync.db.metadata import BANK, RESULTS, central_table

centres = central_table(
    "centres", BANK,
    Column("centre_id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("signing_key_id", Text, nullable=False),
    Column("hpke_key_id", Text, nullable=False),
    Column("request_json", Text, nullable=False),
    Column("cert_serial", Text, nullable=False),
    Column("certificate", LargeBinary, nullable=False),
    Column("not_after", Text, nullable=False),
    Column("enrolled_at", Text, nullable=False),
    Column("revoked_at", Text),
    Column("revoked_reason", Text),
)

revocation_lists = central_table(
    "revocation_lists", BANK,
    Column("sequence", Integer, primary_key=True, autoincrement=False),
    Column("issued_at", Text, nullable=False),
    Column("serials_json", Text, nullable=False),
    Column("signed", LargeBinary, nullable=False),
)

kiosk_revocations = central_table(
    "kiosk_revocations", RESULTS,
    Column("centre_id", Text, primary_key=True),
    Column("kiosk_id", Text, primary_key=True),
    Column("key_id", Text, primary_key=True),
    Column("cert_serial", Text, nullable=False),
    Column("revoked_at", Text, nullable=False),
    Column("revoked_by", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("document", LargeBinary, nullable=False),
    Column("received_at", Text, nullable=False),
)

release_allowlist = central_table(
    "release_allowlist", RESULTS,
    Column("measurement", Text, primary_key=True),
    Column("release", Text, nullable=False),
    Column("added_by", Text, nullable=False),
    Column("added_at", Text, nullable=False),
)

attestation_checks = central_table(
    "attestation_checks", RESULTS,
    Column("envelope_sha256", Text, primary_key=True),
    Column("attempt_id", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("measurement", Text),
    Column("release", Text),
    Column("reason", Text, nullable=False),
    Column("flagged", Integer, nullable=False),
    Column("checked_at", Text, nullable=False),
    Index("attestation_checks_attempt", "attempt_id"),
)
