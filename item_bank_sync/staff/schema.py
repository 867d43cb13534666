"""Tables of the central body's staff, defined once on the data layer's MetaData (bank store).

``staff_accounts``        one row per person: Argon2id password, enabled flag, the TOTP secret sealed
                          (AES-GCM, :mod:`exam_core.websec.totp`) and the last code step used.
``staff_roles``           the roles a person holds (several per person).
``staff_recovery_codes``  SHA-256 hashes of the person's one-time recovery codes.
``staff_sessions``        web sign-ins, by the SHA-256 of their cookie token: checked on every
                          request, so a disable or a password change ends them at once.
``staff_backoff``         failed sign-in attempts per key (an account, an address) and the wait they impose,
                          shared by every server process of the body.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, LargeBinary, PrimaryKeyConstraint, Text

from item_bank_sync.db.metadata import BANK, central_table

staff_accounts = central_table(
    "staff_accounts", BANK,
    Column("name", Text, primary_key=True),
    Column("password_hash", LargeBinary, nullable=False),
    Column("password_salt", LargeBinary, nullable=False),
    Column("password_params", Text, nullable=False),
    Column("password_changed_at", Text, nullable=False),
    Column("enabled", Integer, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("totp_sealed", LargeBinary),
    Column("totp_pending_sealed", LargeBinary),
    Column("totp_enrolled_at", Text),
    Column("totp_last_step", Integer),
)

staff_roles = central_table(
    "staff_roles", BANK,
    Column("name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("granted_at", Text, nullable=False),
    Column("granted_by", Text, nullable=False),
    PrimaryKeyConstraint("name", "role", name="pk_staff_roles"),
)

staff_recovery_codes = central_table(
    "staff_recovery_codes", BANK,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("code_hash", Text, nullable=False),
    Column("used_at", Text),
    Index("ix_staff_recovery_codes_name", "name"),
)

staff_sessions = central_table(
    "staff_sessions", BANK,
    Column("token_hash", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("address", Text, nullable=False),
    Column("started_at", Text, nullable=False),
    Column("last_seen", Float, nullable=False),
    Column("second_factor", Integer, nullable=False),
    Column("ended_at", Text),
    Column("end_reason", Text),
    Index("ix_staff_sessions_name", "name"),
)

staff_backoff = central_table(
    "staff_backoff", BANK,
    Column("key", Text, primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("not_before", Float, nullable=False),
)
