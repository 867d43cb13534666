"""Air-gapped sync at the centre: a bundle of envelopes out (``export-bundle``) and one of packages,
revocations and receipts in (``import-bundle``), on removable media, signed and sealed like the
network path.

The formats and the seal/open recipe are ``exam_core.sync_wire`` (the central body uses the same
module). Here the centre signs with its certified key and seals to the central results key carried
in the installed root certificate; what comes back is verified against the central key and opened
with the centre's HPKE key. Envelopes are dropped only for receipts that verify for their exact
bytes, exactly as after a network upload.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exam_core import certs, limits, signing
from exam_core.errors import InvigilError
from exam_core.files import write_atomic
from exam_core.keys import HpkePublicKey
from exam_core.sealed_file import read_sealed_file
from exam_core.sync_wire import (BUNDLE_MAX_ENVELOPES, BundlePackage, EnvelopesBundle, RecordedRevocation,
                                 UploadEntry, open_centre_bundle, seal_bundle)
from exam_core.timestamps import format_time, utc_now
from proctor_console import services
from proctor_console.context import ConsoleContext
from proctor_console.errors import Conflict
from proctor_console.sync.outbox import SyncOutbox
from proctor_console.sync.run import SyncReport, import_rosters, package_failure, settle_receipt, store_revocations


def _central_results_key(ctx: ConsoleContext) -> tuple[Ed25519PublicKey, HpkePublicKey]:
    root_doc = ctx.root_certificate_path.read_bytes() if ctx.root_certificate_path.exists() else None
    root = ctx.root_public()
    if root_doc is None or root is None:
        raise Conflict("install the centre certificate first (it carries the central body's keys)")
    verified = certs.verify_root_certificate(root_doc, root)
    if verified.hpke_public is None:
        raise Conflict("the central root certificate carries no results key")
    return root, verified.hpke_public


def export_bundle(ctx: ConsoleContext, out_path: Path) -> dict[str, Any]:
    """Seal every envelope still without a receipt into one bundle for the central body."""
    _, results_key = _central_results_key(ctx)
    store = SyncOutbox(ctx)
    entries: tuple[UploadEntry, ...] = ()
    budget = limits.BUNDLE_MAX_BYTES * 2 // 3        # base64 and the signature wrapper must still fit
    for batch in store.pending(budget, BUNDLE_MAX_ENVELOPES):
        entries = tuple(UploadEntry(e.data, store.meta(e.attempt_id)) for e in batch)
        break                                          # one bundle per run; export again for the rest
    revocations = tuple(doc for _, _, doc in store.unsent_revocations())   # sent once a bundle back acknowledges
    bundle = EnvelopesBundle(ctx.centre_id, format_time(utc_now()), entries, revocations)
    write_atomic(out_path, seal_bundle(bundle, ctx.signing_key, results_key))
    ctx.audit.append("sync", "bundle.export", {"envelopes": len(entries), "kiosk_revocations": len(revocations)})
    return {"file": str(out_path), "envelopes": len(entries), "kiosk_revocations": len(revocations),
            "pending_after": store.pending_count() - len(entries)}


def import_bundle(ctx: ConsoleContext, bundle_path: Path) -> SyncReport:
    """Import packages, the revocation list and the signed session rosters, settle envelopes whose
    receipts verify, and mark sent the kiosk revocations the central body acknowledges. A package
    (or roster) that fails its import is reported in ``packages_failed`` (``rosters_failed``); the
    rest of the bundle is still taken in."""
    root, _ = _central_results_key(ctx)
    bundle = open_centre_bundle(read_sealed_file(bundle_path, limits.BUNDLE_MAX_BYTES), ctx.hpke_key, root,
                                ctx.centre_id)
    report = SyncReport()
    report.revocation_sequence = store_revocations(ctx, bundle.revocations)
    _import_packages(ctx, bundle.packages, report)
    import_rosters(ctx, bundle.rosters, "bundle", report)
    _settle_receipts(ctx, bundle.receipts, root, report)
    _acknowledged_revocations(ctx, bundle.kiosk_revocations_recorded, report)
    ctx.audit.append("sync", "bundle.import", {"packages": report.packages_imported,
                                               "packages_failed": [f["package_id"] for f in report.packages_failed],
                                               "rosters": report.rosters_imported,
                                               "receipted": report.envelopes_receipted,
                                               "kiosk_revocations_sent": report.kiosk_revocations_sent})
    return report


def _import_packages(ctx: ConsoleContext, entries: tuple[BundlePackage, ...], report: SyncReport) -> None:
    """Import each package not held intact; a failure is reported and never keeps the receipts
    and revocations of the same bundle from being taken in (issue 13, M1)."""
    packages = services.packages(ctx)
    held = packages.held_hashes()
    for entry in entries:
        if entry.sha256 in held:
            report.packages_present += 1
            continue
        try:
            packages.import_package(entry.data, f"bundle:{entry.package_id}", "sync")
        except InvigilError as exc:
            report.packages_failed.append(package_failure(entry.package_id, exc))
            continue
        report.packages_imported.append(entry.package_id)


def _settle_receipts(ctx: ConsoleContext, receipts: tuple[bytes, ...], root: Ed25519PublicKey,
                     report: SyncReport) -> None:
    """Match each receipt to a pending envelope by the hash it names; verify; settle."""
    store = SyncOutbox(ctx)
    by_hash: dict[str, bytes] = {}
    for receipt_bytes in receipts:
        try:
            named = json.loads(signing.read_unverified(receipt_bytes).payload_bytes).get("envelope_sha256")
        except (InvigilError, ValueError, AttributeError):
            continue
        if isinstance(named, str):
            by_hash[named] = receipt_bytes
    for batch in store.pending(limits.HPKE_MAX_PLAINTEXT, 10_000):
        for envelope in batch:
            if envelope.sha256 in by_hash:
                settle_receipt(store, envelope, by_hash[envelope.sha256], root, report)


def _acknowledged_revocations(ctx: ConsoleContext, recorded: tuple[RecordedRevocation, ...],
                              report: SyncReport) -> None:
    """Mark sent the pending kiosk revocations the central body says it recorded (the air-gap
    counterpart of an answered upload; the acknowledgement is inside the centrally signed bundle)."""
    named = {(r.kiosk_id, r.key_id) for r in recorded}
    store = SyncOutbox(ctx)
    acknowledged = [pending for pending in store.unsent_revocations() if pending[:2] in named]
    if acknowledged:
        store.mark_revocations_sent(acknowledged)
        report.kiosk_revocations_sent += len(acknowledged)
