"""Kiosk revocations signed by the centre key (the ``kiosk_revocations`` table), until the central
body has them.

``KioskRegistry.revoke`` writes one in the same transaction that marks the kiosk revoked; the sync
runs (network upload or air-gap bundle) read the ones no upload has carried yet and mark them sent
once the central body answered an upload that carried them, or a bundle back acknowledged them.
"""

from __future__ import annotations

import sqlite3

import sqlite_utils

from exam_core.store import immediate_transaction
from exam_core.timestamps import utc_text_us


class KioskRevocations:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    @staticmethod
    def add(conn: sqlite3.Connection, kiosk_id: str, key_id: str, revoked_at: str, document: bytes) -> None:
        """Keep a signed revocation, inside the caller's transaction (the kiosk's own revocation)."""
        conn.execute("INSERT OR REPLACE INTO kiosk_revocations (kiosk_id, key_id, revoked_at, document)"
                     " VALUES (?, ?, ?, ?)", [kiosk_id, key_id, revoked_at, document])

    def unsent(self) -> list[tuple[str, str, bytes]]:
        """``(kiosk_id, key_id, signed document)`` of revocations no upload has carried yet."""
        return [(kiosk_id, key_id, bytes(doc)) for kiosk_id, key_id, doc in self.db.execute(
            "SELECT kiosk_id, key_id, document FROM kiosk_revocations WHERE sent_at IS NULL ORDER BY revoked_at")]

    def mark_sent(self, sent: list[tuple[str, str, bytes]]) -> None:
        """Called once the central body answered an upload that carried these revocations, or a
        bundle from it acknowledged them (``(kiosk_id, key_id, _)``; already sent ones unchanged)."""
        with immediate_transaction(self.db) as conn:
            conn.executemany("UPDATE kiosk_revocations SET sent_at = ? WHERE kiosk_id = ? AND key_id = ?"
                             " AND sent_at IS NULL",
                             [(utc_text_us(), kiosk_id, key_id) for kiosk_id, key_id, _ in sent])
