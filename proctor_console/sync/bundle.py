"""Air-gapped sync at the centre: a bundle of envelopes out (``export-bundle``) and one of packages,
revocations and receipts in (``import-bundle``), on removable media, signed and sealed like the
network path.

The formats are described in ``item_bank_sync.sync.bundle`` (the central side): a bundle is
``exam_core.sealed_file.seal_file(recipient, purpose, signed document)``. Here the centre signs with its certified key and
seals to the central results key carried in the installed root certificate; what comes back is
verified against the central key and opened with the centre's HPKE key. Envelopes are dropped only
for receipts that verify for their exact bytes, exactly as after a network upload.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exam_core import certs, limits, signing
from exam_core.errors import InvigilError, MalformedError
from exam_core.files import write_atomic
from exam_core.jsonio import b64d, b64e, format_time, utc_now
from exam_core.keys import HpkePublicKey
from exam_core.sealed_file import open_file, read_sealed_file, seal_file
from proctor_console import services
from proctor_console.context import ConsoleContext
from proctor_console.errors import Conflict, InvalidRequest
from proctor_console.sync.outbox import SyncOutbox
from proctor_console.sync.run import SyncReport, package_failure, settle_one, store_revocations

TO_CENTRE = "sync-bundle-to-centre"
TO_CENTRAL = "sync-bundle-to-central"
FOR_CENTRE_FORMAT = "invigil-bundle-for-centre"
ENVELOPES_FORMAT = "invigil-bundle-envelopes"


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
    entries = []
    budget = limits.BUNDLE_MAX_BYTES * 2 // 3        # base64 and the signature wrapper must still fit
    for batch in store.pending(budget, 10_000):
        entries = [{"envelope": b64e(e.data), **store.meta(e.attempt_id)} for e in batch]
        break                                          # one bundle per run; export again for the rest
    revocations = [doc for _, _, doc in store.unsent_revocations()]   # sent once a bundle back acknowledges
    payload = {"format": ENVELOPES_FORMAT, "v": 1, "centre_id": ctx.centre_id,
               "created": format_time(utc_now()), "envelopes": entries, "kiosk_revocations": revocations}
    signed = signing.make_signed(ctx.signing_key, TO_CENTRAL, json.dumps(payload).encode())
    write_atomic(out_path, seal_file(results_key, TO_CENTRAL, signed, limits.BUNDLE_MAX_BYTES))
    ctx.audit.append("sync", "bundle.export", {"envelopes": len(entries), "kiosk_revocations": len(revocations)})
    return {"file": str(out_path), "envelopes": len(entries), "kiosk_revocations": len(revocations),
            "pending_after": store.pending_count() - len(entries)}


def import_bundle(ctx: ConsoleContext, bundle_path: Path) -> SyncReport:
    """Import packages and the revocation list, settle envelopes whose receipts verify, and mark
    sent the kiosk revocations the central body acknowledges. A package that fails its import is
    reported in ``packages_failed``; the rest of the bundle is still taken in."""
    root, _ = _central_results_key(ctx)
    data = read_sealed_file(bundle_path, limits.BUNDLE_MAX_BYTES)
    signed = open_file(ctx.hpke_key, TO_CENTRE, data, limits.BUNDLE_MAX_BYTES)
    payload = signing.open_signed(signed, root, TO_CENTRE, max_bytes=limits.BUNDLE_MAX_BYTES).payload
    if payload.get("format") != FOR_CENTRE_FORMAT or payload.get("v") != 1:
        raise MalformedError(f"not a version 1 {FOR_CENTRE_FORMAT}", "bundle")
    if payload.get("centre_id") != ctx.centre_id:
        raise InvalidRequest(f"bundle is for centre {payload.get('centre_id')!r}, this console is {ctx.centre_id!r}")
    report = SyncReport()
    report.revocation_sequence = store_revocations(ctx, b64d(payload["revocations"], "revocations"))
    _import_packages(ctx, _list(payload, "packages"), report)
    _settle_receipts(ctx, [b64d(r, "receipts") for r in _list(payload, "receipts")], root, report)
    _acknowledged_revocations(ctx, payload.get("kiosk_revocations_recorded", []), report)
    ctx.audit.append("sync", "bundle.import", {"packages": report.packages_imported,
                                               "packages_failed": [f["package_id"] for f in report.packages_failed],
                                               "receipted": report.envelopes_receipted,
                                               "kiosk_revocations_sent": report.kiosk_revocations_sent})
    return report


def _import_packages(ctx: ConsoleContext, entries: list[Any], report: SyncReport) -> None:
    """Import each package not held intact; a failure is reported and never keeps the receipts
    and revocations of the same bundle from being taken in (issue 13, M1)."""
    packages = services.packages(ctx)
    held = packages.held_hashes()
    for entry in entries:
        name = entry.get("package_id") if isinstance(entry, dict) else None
        try:
            if not isinstance(entry, dict):
                raise MalformedError("must be an object", "bundle.packages[]")
            if entry.get("sha256") in held:
                report.packages_present += 1
                continue
            packages.import_package(b64d(entry.get("data"), "packages.data"), f"bundle:{name}", "sync")
        except InvigilError as exc:
            report.packages_failed.append(package_failure(name, exc))
            continue
        report.packages_imported.append(str(name))


def _settle_receipts(ctx: ConsoleContext, receipts: list[bytes], root: Ed25519PublicKey, report: SyncReport) -> None:
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
                settle_one(store, envelope, {"receipt": b64e(by_hash[envelope.sha256])}, root, report)


def _acknowledged_revocations(ctx: ConsoleContext, recorded: Any, report: SyncReport) -> None:
    """Mark sent the pending kiosk revocations the central body says it recorded (the air-gap
    counterpart of an answered upload; the acknowledgement is inside the centrally signed bundle)."""
    if not isinstance(recorded, list) or len(recorded) > 100_000:
        raise MalformedError("must be a list", "bundle.kiosk_revocations_recorded")
    named = {(r.get("kiosk_id"), r.get("key_id")) for r in recorded if isinstance(r, dict)}
    store = SyncOutbox(ctx)
    acknowledged = [pending for pending in store.unsent_revocations() if pending[:2] in named]
    if acknowledged:
        store.mark_revocations_sent(acknowledged)
        report.kiosk_revocations_sent += len(acknowledged)


def _list(payload: dict[str, Any], name: str) -> list[Any]:
    value = payload.get(name)
    if not isinstance(value, list):
        raise MalformedError("must be a list", f"bundle.{name}")
    return value
