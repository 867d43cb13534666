"""Tables of the candidate portal (issue 16, item 5), in the bank store.

Defined once here on the shared MetaData; revision ``bank_0008`` builds the same tables after the
sessions and bookings.

``candidate_accounts``  one sign-in per person: e-mail, Argon2id hash, the optional second factor
                        (TOTP secret sealed under the evidence key, bound to the account id; the last
                        time step used, so a code works once).
``portal_tokens``       single-use, expiring links sent by mail (registration), stored only as the
                        SHA-256 of the token; the pending registration waits here, never as a person.
``portal_sessions``     signed-in browsers: the SHA-256 of the cookie's token, expiry, whether the
                        second factor is done (a signed-out or expired row opens nothing).
``portal_messages``     what the body told the person (the mails sent to them), for the portal's page.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, LargeBinary, Text

from item_bank_sync.db.metadata import BANK, central_table

candidate_accounts = central_table(
    "candidate_accounts", BANK,
    Column("account_id", Text, primary_key=True),
    Column("person_id", Text, nullable=False, unique=True),
    Column("email", Text, nullable=False, unique=True),
    Column("password_hash", LargeBinary, nullable=False),
    Column("password_salt", LargeBinary, nullable=False),
    Column("password_params", Text, nullable=False),
    Column("totp_sealed", LargeBinary),
    Column("totp_last_step", Integer),
    Column("created_at", Text, nullable=False),
)

portal_tokens = central_table(
    "portal_tokens", BANK,
    Column("token_sha256", Text, primary_key=True),
    Column("purpose", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("payload_json", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("expires_at", Text, nullable=False),
    Column("used_at", Text),
)

portal_sessions = central_table(
    "portal_sessions", BANK,
    Column("token_sha256", Text, primary_key=True),
    Column("account_id", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("expires_at", Text, nullable=False),
    Column("second_factor", Integer, nullable=False),
    Column("ended_at", Text),
    Index("portal_sessions_account", "account_id"),
)

portal_messages = central_table(
    "portal_messages", BANK,
    Column("message_id", Integer, primary_key=True),
    Column("person_id", Text, nullable=False),
    Column("sent_at", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Index("portal_messages_person", "person_id"),
)
