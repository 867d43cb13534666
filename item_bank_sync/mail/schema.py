"""The mail outbox (revision ``bank_0014``), in the bank store.

``mail_outbox``  one row per message the body has to send: written in the same transaction as the
                 change that causes it (a registration's link, a booking's notice), so a change is
                 never made without its mail nor a mail sent for a change rolled back. ``outbox_id``
                 is the stable left-hand side of the message's Message-ID (the same on every retry).
                 ``state`` is ``pending``, ``sent`` or ``failed`` (given up after
                 :data:`~item_bank_sync.mail.outbox.MAX_ATTEMPTS`); ``claimed_until`` is the lease of
                 the sender that took it (another sender may take it once the lease ends: a sender
                 killed mid-send leaves no message behind); ``last_error`` names the error's type
                 only. The body holds single-use links and is never logged.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, Text

from item_bank_sync.db.metadata import BANK, central_table

mail_outbox = central_table(
    "mail_outbox", BANK,
    Column("outbox_id", Text, primary_key=True),
    Column("recipient", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_try_at", Text, nullable=False),
    Column("claimed_until", Text),
    Column("sent_at", Text),
    Column("last_error", Text),
    Index("mail_outbox_due", "state", "next_try_at"),
)
