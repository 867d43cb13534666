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

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Engine, column, func, select, table

from exam_core import sync_wire
from exam_core.errors import ArtefactError, ValidationError
from exam_core.timestamps import format_time, utc_now
from item_bank_sync.db.sql import fetch_all, insert_ignore_many, write
from item_bank_sync.trust.centres import enrolled_centre_certificate
from item_bank_sync.trust.schema import kiosk_revocations

COLUMNS = ("centre_id", "kiosk_id", "key_id", "cert_serial", "revoked_at", "revoked_by", "reason", "received_at")
#: The three columns of results/schema.py's ``envelopes`` counted here, named without importing
#: results (which comes after trust in the import order); the table itself is defined there.
envelopes = table("envelopes", column("centre_id"), column("status"), column("reason"))


def recorded_for(results: Engine, centre_id: str) -> list[dict[str, str]]:
    """``{kiosk_id, key_id}`` of every revocation recorded from this centre: what a bundle back to
    the centre acknowledges, so its console marks them sent."""
    k = kiosk_revocations.c
    return [{"kiosk_id": kiosk, "key_id": key} for kiosk, key in fetch_all(
        results, select(k.kiosk_id, k.key_id).where(k.centre_id == centre_id).order_by(k.revoked_at))]


def record(results: Engine, bank: Engine, root_public: Ed25519PublicKey,
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
    rows = [dict(zip(COLUMNS, (r.centre_id, r.kiosk_id, r.key_id, r.cert_serial, r.revoked_at, r.revoked_by,
                                r.reason, now)), document=doc) for r, doc in zip(revocations, documents)]
    with write(results) as conn:
        insert_ignore_many(conn, kiosk_revocations, rows)
    return revocations


def revocation_of(conn: Connection, centre_id: str, kiosk_id: str, key_id: str) -> dict[str, Any] | None:
    """The recorded revocation of this kiosk key at this centre, if any."""
    k = kiosk_revocations.c
    row = conn.execute(select(*(k[c] for c in COLUMNS))
                       .where(k.centre_id == centre_id, k.kiosk_id == kiosk_id, k.key_id == key_id)).first()
    return None if row is None else dict(zip(COLUMNS, row))


def list_revocations(results: Engine, centre_id: str | None = None) -> list[dict[str, Any]]:
    """Every recorded kiosk revocation (optionally of one centre), newest first, with how many
    envelopes of that kiosk are quarantined because of it."""
    k = kiosk_revocations.c
    query = select(*(k[c] for c in COLUMNS)).order_by(k.revoked_at.desc())
    if centre_id:
        query = query.where(k.centre_id == centre_id)
    out = []
    with results.connect() as conn:
        for row in conn.execute(query).all():
            entry = dict(zip(COLUMNS, row))
            pattern = f"kiosk {entry['kiosk_id']} (key {entry['key_id']}) was revoked%"
            entry["envelopes_quarantined"] = conn.execute(
                select(func.count()).select_from(envelopes).where(
                    envelopes.c.centre_id == entry["centre_id"], envelopes.c.status == "quarantined",
                    envelopes.c.reason.like(pattern))).scalar_one()
            out.append(entry)
    return out
