"""Kiosk revocations made at test centres, as the central body records and applies them.

A centre admin revokes a kiosk at the console; the console signs a ``sync_wire.KioskRevocation``
(kiosk id, key id, certificate serial, time, who, why) with the centre key and sends it in the
top-level ``kiosk_revocations`` list of its next sync upload (or air-gap bundle), with or without
envelopes. Here it is verified against the **delivering** centre's enrolled certificate (a
centre can only speak for its own kiosks), stored once per kiosk key, and consulted by intake: an
envelope whose header that kiosk key signed at or after ``revoked_at`` is untrusted (quarantined
with the reason, for human review); one sealed before still opens.

Why by time and not by the certificate revocation list: a revocation list makes every signature
of the key invalid, including the honest envelopes the kiosk sealed before it was revoked, which
the centre may still hold. The envelope's ``created`` is asserted by the kiosk, so a stolen kiosk
could backdate it; the package window check bounds that, and the console refuses a revoked kiosk's
connections, so such an envelope could only arrive by another route (see docs/WIRE-FORMATS.md).
"""

from __future__ import annotations

from typing import Any

import sqlite_utils
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exam_core import sync_wire
from exam_core.errors import ArtefactError, ValidationError
from exam_core.store import immediate_transaction
from exam_core.timestamps import format_time, utc_now
from item_bank_sync.trust.centres import enrolled_centre_certificate

COLUMNS = ("centre_id", "kiosk_id", "key_id", "cert_serial", "revoked_at", "revoked_by", "reason", "received_at")


def recorded_for(results: sqlite_utils.Database, centre_id: str) -> list[dict[str, str]]:
    """``{kiosk_id, key_id}`` of every revocation recorded from this centre: what a bundle back to
    the centre acknowledges, so its console marks them sent."""
    return [{"kiosk_id": k, "key_id": key} for k, key in results.conn.execute(
        "SELECT kiosk_id, key_id FROM kiosk_revocations WHERE centre_id = ? ORDER BY revoked_at", (centre_id,))]


def record(results: sqlite_utils.Database, bank: sqlite_utils.Database, root_public: Ed25519PublicKey,
           via_centre: str, documents: tuple[bytes, ...]) -> list[sync_wire.KioskRevocation]:
    """Verify each signed revocation with ``via_centre``'s certificate and store the new ones.

    Raises on the first document that does not verify or names another centre, before anything
    is stored (fail closed: the caller refuses the whole upload or bundle, so no envelope is
    judged without a revocation its centre sent). Recording the same revocation again changes
    nothing (first statement kept).
    """
    if not documents:
        return []
    centre_key = enrolled_centre_certificate(bank, root_public, via_centre).signing_public
    revocations = []
    for index, doc in enumerate(documents):
        where = f"kiosk_revocations[{index}]"
        try:
            revocation = sync_wire.open_kiosk_revocation(doc, centre_key)
        except ArtefactError as exc:
            raise ValidationError(where, f"kiosk revocation does not verify with centre {via_centre}'s key: "
                                  f"{exc.reason}") from None
        if revocation.centre_id != via_centre:
            raise ValidationError(where, f"kiosk revocation for centre {revocation.centre_id} was delivered by "
                                  f"{via_centre}")
        revocations.append(revocation)
    now = format_time(utc_now())
    with immediate_transaction(results) as conn:
        conn.executemany(
            f"INSERT OR IGNORE INTO kiosk_revocations ({', '.join(COLUMNS)}, document) VALUES (?,?,?,?,?,?,?,?,?)",
            [(r.centre_id, r.kiosk_id, r.key_id, r.cert_serial, r.revoked_at, r.revoked_by, r.reason, now, doc)
             for r, doc in zip(revocations, documents)])
    return revocations


def revocation_of(conn: Any, centre_id: str, kiosk_id: str, key_id: str) -> dict[str, Any] | None:
    """The recorded revocation of this kiosk key at this centre, if any."""
    row = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM kiosk_revocations WHERE centre_id = ? AND kiosk_id = ?"
                       " AND key_id = ?", (centre_id, kiosk_id, key_id)).fetchone()
    return None if row is None else dict(zip(COLUMNS, row))


def list_revocations(results: sqlite_utils.Database, centre_id: str | None = None) -> list[dict[str, Any]]:
    """Every recorded kiosk revocation (optionally of one centre), newest first, with how many
    envelopes of that kiosk are quarantined because of it."""
    where, args = ("WHERE centre_id = ?", [centre_id]) if centre_id else ("", [])
    rows = results.conn.execute(f"SELECT {', '.join(COLUMNS)} FROM kiosk_revocations {where}"
                                " ORDER BY revoked_at DESC", args).fetchall()
    out = []
    for row in rows:
        entry = dict(zip(COLUMNS, row))
        entry["envelopes_quarantined"] = results.conn.execute(
            "SELECT COUNT(*) FROM envelopes WHERE centre_id = ? AND status = 'quarantined' AND reason LIKE ?",
            (entry["centre_id"], f"kiosk {entry['kiosk_id']} (key {entry['key_id']}) was revoked%")).fetchone()[0]
        out.append(entry)
    return out
