"""Rate-limit counters of the public site and the portal (revision ``bank_0014``), in the bank store.

``rate_counters``  one row per (bucket, window): ``bucket`` is a limit's name and the SHA-256 of
                   its key (a client address or an account: never stored in clear), ``window_start``
                   the window's first second (0 for a back-off record), ``hits`` the requests or
                   failures counted, ``not_before`` the time (epoch seconds) before which a backed-off
                   key is refused, ``expires_at`` when the row may be deleted. Every listener process
                   counts in the same rows, so a limit holds however many processes serve the site.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, Text

from item_bank_sync.db.metadata import BANK, central_table

rate_counters = central_table(
    "rate_counters", BANK,
    Column("bucket", Text, primary_key=True),
    Column("window_start", Integer, primary_key=True, autoincrement=False),
    Column("hits", Integer, nullable=False),
    Column("not_before", Float),
    Column("expires_at", Float, nullable=False),
    Index("rate_counters_expiry", "expires_at"),
)
