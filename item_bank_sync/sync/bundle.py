"""Air-gapped sync at the central body: the same content as the network path, on removable media.

The bundle formats, their purposes and the seal/open recipe are ``exam_core.sync_wire``
(:class:`~exam_core.sync_wire.CentreBundle` out to a centre: its packages, the revocation list,
the receipts of its envelopes, the kiosk revocations recorded from it and the signed rosters of
its sessions (``sessions publish``);
:class:`~exam_core.sync_wire.EnvelopesBundle` in from a centre: an upload's content). A bundle is
signed by the sender's certified key and sealed to the recipient, so a lost USB stick reveals
nothing and a modified one is refused.

Importing is idempotent on both sides (envelopes by hash, packages by hash, revocation lists by
sequence), so importing the same bundle twice, or an old one, changes nothing. A signed bundle
document is at most ``exam_core.limits.BUNDLE_MAX_BYTES`` (1 GiB), so packages of any size the
package format allows (512 MiB) travel in one file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from exam_core import limits
from exam_core.errors import MalformedError
from exam_core.files import write_atomic
from exam_core.sealed_file import read_sealed_file
from exam_core.sync_wire import (ACCEPTED, QUARANTINED, REJECTED, BundlePackage, CentreBundle, RecordedRevocation,
                                 open_envelopes_bundle, seal_bundle)
from exam_core.timestamps import format_time, utc_now
from item_bank_sync.db.sql import fetch_all
from item_bank_sync.results.schema import envelopes
from item_bank_sync.sync.store import SyncStore
from item_bank_sync.trust import kiosk_revocations


def export_bundle(data_dir: Path, centre_id: str, out_path: Path, db_url: str | None = None) -> dict[str, Any]:
    store = SyncStore(data_dir, db_url=db_url)
    certificate = store.centre_certificate(centre_id)
    if certificate.hpke_public is None:
        raise MalformedError(f"the certificate of {centre_id} carries no HPKE key", "certificate")
    packages, skipped = [], []
    for entry in store.packages_for(centre_id):
        path = store.package_path(centre_id, entry["package_id"])
        if path is None:  # its recorded path leads outside the packages directory
            skipped.append({"package_id": entry["package_id"],
                            "reason": "package file is not in the packages directory"})
            continue
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            # left out and reported: a damaged package file must not keep the receipts and the
            # revocation list from the centre (issue 13, M1)
            skipped.append({"package_id": entry["package_id"],
                            "reason": "package file no longer matches its recorded hash"})
            continue
        packages.append(BundlePackage(entry["package_id"], entry["sha256"], data))
    e = envelopes.c
    receipts = tuple(bytes(r[0]) for r in fetch_all(store.results_db(), select(e.receipt).where(
        e.centre_id == centre_id).order_by(e.received_at, e.sha256)))
    recorded = tuple(RecordedRevocation(**r) for r in kiosk_revocations.recorded_for(store.results_db(), centre_id))
    rosters = tuple(store.rosters_for(centre_id))
    bundle = CentreBundle(centre_id, format_time(utc_now()), tuple(packages), store.revocation_list(), receipts,
                          recorded, rosters)
    write_atomic(out_path, seal_bundle(bundle, store.keys.signing, certificate.hpke_public))
    return {"centre_id": centre_id, "file": str(out_path), "packages": [p.package_id for p in packages],
            "packages_skipped": skipped, "receipts": len(receipts), "rosters": len(rosters)}


def import_bundle(data_dir: Path, bundle_path: Path, db_url: str | None = None) -> dict[str, Any]:
    """Open a centre's envelope bundle, verify its signature, record its kiosk revocations (all or
    none: one that does not verify refuses the bundle), then take every envelope in."""
    store = SyncStore(data_dir, db_url=db_url)

    def centre_key(centre_id: str) -> Ed25519PublicKey:
        certificate = store.centre_certificate(centre_id)
        certificate.check_valid_at(utc_now())
        return certificate.signing_public

    bundle = open_envelopes_bundle(read_sealed_file(bundle_path, limits.BUNDLE_MAX_BYTES), store.keys.results,
                                   centre_key)
    intake = store.intake()
    recorded = intake.record_kiosk_revocations(bundle.centre_id, bundle.kiosk_revocations)
    results = [intake.receive(entry.envelope, bundle.centre_id, entry.meta) for entry in bundle.envelopes]
    return {"centre_id": bundle.centre_id, "kiosk_revocations_recorded": recorded,
            "accepted": sum(r.status == ACCEPTED and not r.duplicate for r in results),
            "quarantined": sum(r.status == QUARANTINED and not r.duplicate for r in results),
            "duplicates": sum(r.duplicate for r in results),
            "rejected": sum(r.status == REJECTED for r in results),
            "flagged": sum(bool(r.flags) for r in results),
            "results": [{k: v for k, v in r.to_dict().items() if k != "receipt"} for r in results]}
