"""Air-gapped sync: the same content as the network path, carried on removable media.

A bundle file is ``exam_core.sealed_file.seal_file(recipient, purpose, signed document)`` (a
per-bundle AES-256-GCM key HPKE-sealed to the recipient, the document in authenticated chunks):
signed by the sender's certified key and sealed to the recipient, so a lost USB stick reveals
nothing and a modified one is refused. Purposes (bound into both the signature and the HPKE ``info``):

``sync-bundle-to-centre``    central -> centre, sealed to the centre's HPKE key (from its
                             certificate), signed by the central key. Payload
                             ``{"format": "invigil-bundle-for-centre", "v": 1, "centre_id",
                             "created", "packages": [{"package_id", "sha256", "data"}],
                             "revocations", "receipts": [...], "kiosk_revocations_recorded":
                             [{"kiosk_id", "key_id"}]}`` (binary fields base64; the last
                             acknowledges the centre's kiosk revocations recorded centrally).
``sync-bundle-to-central``   centre -> central, sealed to the central results key, signed by the
                             centre key. Payload ``{"format": "invigil-bundle-envelopes", "v": 1,
                             "centre_id", "created", "envelopes": [{"envelope", "proctors",
                             "incidents", "journal_heads"?}], "kiosk_revocations"?: [b64]}``
                             (the upload body's fields; revocations recorded before any envelope).

Importing is idempotent on both sides (envelopes by hash, packages by hash, revocation lists by
sequence), so importing the same bundle twice, or an old one, changes nothing. A signed bundle
document is at most ``exam_core.limits.BUNDLE_MAX_BYTES`` (1 GiB), so packages of any size the
package format allows (512 MiB) travel in one file.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from exam_core import limits, signing
from exam_core.errors import MalformedError, TamperedError
from exam_core.files import write_atomic
from exam_core.jsonio import b64e, format_time, utc_now
from exam_core.sealed_file import open_file, read_sealed_file, seal_file
from item_bank_sync.results.intake import ACCEPTED, QUARANTINED, REJECTED
from item_bank_sync.sync.store import SyncStore
from item_bank_sync.sync.upload import parse_upload
from item_bank_sync.trust import kiosk_revocations

TO_CENTRE = "sync-bundle-to-centre"
TO_CENTRAL = "sync-bundle-to-central"
FOR_CENTRE_FORMAT = "invigil-bundle-for-centre"
ENVELOPES_FORMAT = "invigil-bundle-envelopes"


def export_bundle(data_dir: Path, centre_id: str, out_path: Path) -> dict[str, Any]:
    store = SyncStore(data_dir)
    certificate = store.centre_certificate(centre_id)
    if certificate.hpke_public is None:
        raise MalformedError(f"the certificate of {centre_id} carries no HPKE key", "certificate")
    packages = []
    for entry in store.packages_for(centre_id):
        data = store.package_path(centre_id, entry["package_id"]).read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise TamperedError(f"package file {entry['package_id']} no longer matches its recorded hash")
        packages.append({"package_id": entry["package_id"], "sha256": entry["sha256"], "data": b64e(data)})
    receipts = [b64e(bytes(r[0])) for r in store.results_db().execute(
        "SELECT receipt FROM envelopes WHERE centre_id = ? ORDER BY received_at", [centre_id])]
    payload = {"format": FOR_CENTRE_FORMAT, "v": 1, "centre_id": centre_id, "created": format_time(utc_now()),
               "packages": packages, "revocations": b64e(store.revocation_list()), "receipts": receipts,
               "kiosk_revocations_recorded": kiosk_revocations.recorded_for(store.results_db(), centre_id)}
    signed = signing.make_signed(store.keys.signing, TO_CENTRE, json.dumps(payload).encode())
    write_atomic(out_path, seal_file(certificate.hpke_public, TO_CENTRE, signed, limits.BUNDLE_MAX_BYTES))
    return {"centre_id": centre_id, "file": str(out_path), "packages": [p["package_id"] for p in packages],
            "receipts": len(receipts)}


def import_bundle(data_dir: Path, bundle_path: Path) -> dict[str, Any]:
    """Open a centre's envelope bundle, verify its signature, record its kiosk revocations (all or
    none: one that does not verify refuses the bundle), then take every envelope in."""
    data = read_sealed_file(bundle_path, limits.BUNDLE_MAX_BYTES)
    store = SyncStore(data_dir)
    signed = open_file(store.keys.results, TO_CENTRAL, data, limits.BUNDLE_MAX_BYTES)
    claimed = json.loads(signing.read_unverified(signed, limits.BUNDLE_MAX_BYTES).payload_bytes).get("centre_id")
    if not isinstance(claimed, str):
        raise MalformedError("bundle names no centre", "centre_id")
    certificate = store.centre_certificate(claimed)
    certificate.check_valid_at(utc_now())
    payload = signing.open_signed(signed, certificate.signing_public, TO_CENTRAL,
                                  max_bytes=limits.BUNDLE_MAX_BYTES).payload
    if payload.get("format") != ENVELOPES_FORMAT or payload.get("v") != 1 or payload.get("centre_id") != claimed:
        raise MalformedError(f"not a version 1 {ENVELOPES_FORMAT} of {claimed}", "bundle")
    upload = parse_upload(json.dumps({k: payload[k] for k in ("envelopes", "kiosk_revocations") if k in payload}
                                     ).encode())
    intake = store.intake()
    recorded = intake.record_kiosk_revocations(claimed, upload.kiosk_revocations)
    results = [intake.receive(envelope, claimed, meta) for envelope, meta in upload.envelopes]
    return {"centre_id": claimed, "kiosk_revocations_recorded": recorded,
            "accepted": sum(r.status == ACCEPTED and not r.duplicate for r in results),
            "quarantined": sum(r.status == QUARANTINED and not r.duplicate for r in results),
            "duplicates": sum(r.duplicate for r in results),
            "rejected": sum(r.status == REJECTED for r in results),
            "flagged": sum(bool(r.flags) for r in results),
            "results": [{k: v for k, v in r.to_dict().items() if k != "receipt"} for r in results]}
