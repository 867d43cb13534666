"""A sync run (``python -m proctor_console sync --hub URL``): pull packages, push envelopes, settle receipts.

One run does three things, each safe to interrupt and re-run:

1. fetch the central revocation list and keep it if it verifies and is not older than the one held;
2. fetch the signed package list and download every package not yet imported, resuming a partial
   download with HTTP ``Range``; each is checked against the listed SHA-256 and imported through
   the console's own import (manifest signature, signed content digest, addressed to this centre).
   A package that fails (or a package list that does not verify) is reported in
   ``packages_failed`` and the run goes on: results must still reach the central body when a
   package is bad (issue 13, M1: one corrupted package used to stop every later sync); then the
   signed rosters of the centre's sessions, each verified and imported on its own
   (``proctor_console.signed_roster``; a refused one is reported in ``rosters_failed``);
3. upload pending envelopes in batches and, for each answer, verify the signed receipt against the
   exact bytes held before the bytes are dropped. An envelope without a verified receipt stays.
   Kiosk revocations not yet sent ride in the first upload's own ``kiosk_revocations`` field, in
   an upload of their own when no envelope is pending; they are marked sent only once the hub
   answered that upload (it records them all before judging any envelope, or refuses it all).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rich.progress import Progress

from exam_core import certs
from exam_core.errors import InvigilError
from exam_core.sync_wire import QUARANTINED, EnvelopeOutcome, PackageListEntry, Upload, UploadEntry
from proctor_console import services
from proctor_console.context import ConsoleContext
from proctor_console.envelopes import PendingEnvelope
from proctor_console.errors import Conflict
from proctor_console.sync.client import HubClient
from proctor_console.sync.outbox import SyncOutbox

REVOCATIONS_FILE = "revocations.signed"
HUB_PIN_FILE = "hub-tls.json"
BATCH_MAX_BYTES = 40 * 1024 * 1024
BATCH_MAX_COUNT = 200


@dataclass
class SyncReport:
    revocation_sequence: int | None = None
    packages_imported: list[str] = field(default_factory=list)
    packages_present: int = 0
    envelopes_receipted: int = 0
    envelopes_quarantined_centrally: list[dict[str, Any]] = field(default_factory=list)
    envelopes_kept: list[dict[str, Any]] = field(default_factory=list)
    kiosk_revocations_sent: int = 0
    envelopes_flagged_centrally: list[dict[str, Any]] = field(default_factory=list)
    #: ``{"package_id", "reason"}`` of each package not imported this run (``"*"``: the list itself).
    packages_failed: list[dict[str, str]] = field(default_factory=list)
    #: Signed session rosters taken in (``{"session_id", "version"}``), already held, and refused.
    rosters_imported: list[dict[str, Any]] = field(default_factory=list)
    rosters_present: int = 0
    rosters_failed: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def store_revocations(ctx: ConsoleContext, data: bytes) -> int:
    """Keep a verified revocation list unless the one held has a higher sequence number."""
    root = central_root(ctx)
    fresh = certs.read_revocation_list(data, root)
    path = ctx.data / REVOCATIONS_FILE
    if path.exists():
        held = certs.read_revocation_list(path.read_bytes(), root)
        if held.sequence > fresh.sequence:
            return held.sequence
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return fresh.sequence


def central_root(ctx: ConsoleContext) -> Ed25519PublicKey:
    """The central body's key from the installed root certificate (refused before it is installed)."""
    root = ctx.root_public()
    if root is None:
        raise Conflict("install the centre certificate first: everything from the hub is verified against it")
    return root


def pull_packages(ctx: ConsoleContext, client: HubClient, report: SyncReport, progress: Progress | None) -> None:
    """Import every listed package not held intact; each failure is reported, none stops the run."""
    packages = services.packages(ctx)
    held = packages.held_hashes()
    try:
        listed = client.list_packages()
    except InvigilError as exc:
        report.packages_failed.append(package_failure("*", exc))
        return
    for entry in listed:
        try:
            pull_one(ctx, client, entry, held, report, progress)
        except InvigilError as exc:
            report.packages_failed.append(package_failure(entry.package_id, exc))


def pull_one(ctx: ConsoleContext, client: HubClient, entry: PackageListEntry, held: set[str], report: SyncReport,
             progress: Progress | None) -> None:
    """Download and import one entry of the package list (unless a copy is held intact). The list
    was read strictly (``exam_core.sync_wire``): the id is an identifier, so a safe file name."""
    if entry.sha256 in held:
        report.packages_present += 1
        return
    ctx.packages_dir.mkdir(parents=True, exist_ok=True)
    part = ctx.packages_dir / f"{entry.package_id}.part"
    data = client.download(entry.package_id, part, entry.size, entry.sha256,
                           on_bytes=_progress(progress, f"package {entry.package_id}", entry.size))
    part.unlink(missing_ok=True)          # verified against the list; kept or refused below, never resumed
    services.packages(ctx).import_package(data, f"hub:{entry.package_id}", "sync")
    report.packages_imported.append(entry.package_id)


def package_failure(package_id: Any, exc: InvigilError) -> dict[str, str]:
    """One ``packages_failed`` row: the package named as listed (cut short) and why it failed."""
    name = package_id[:80] if isinstance(package_id, str) else "?"
    return {"package_id": name, "reason": f"{type(exc).__name__}: {exc}"[:300]}


def _progress(progress: Progress | None, description: str, total: int) -> Any:
    """A callback that advances a new progress bar by ``n`` (does nothing without a display)."""
    if progress is None:
        return lambda n: None
    task = progress.add_task(description, total=total)
    return lambda n: progress.advance(task, n)


def import_rosters(ctx: ConsoleContext, documents: tuple[bytes, ...], source: str, report: SyncReport) -> None:
    """Take in each signed roster (``proctor_console.signed_roster``); one refused (tampered, for
    another centre, older than the one held, granting what the scheme does not allow) is reported in
    ``rosters_failed`` and never keeps the others, or the rest of the sync, from being taken in."""
    rosters = services.signed_rosters(ctx)
    for index, document in enumerate(documents):
        try:
            done = rosters.import_document(document, f"{source}[{index}]", "sync")
        except InvigilError as exc:
            report.rosters_failed.append({"roster": str(index), "reason": f"{type(exc).__name__}: {exc}"[:300]})
            continue
        if done.status == "present":
            report.rosters_present += 1
        else:
            report.rosters_imported.append({"session_id": done.session_id, "version": done.version})


def pull_rosters(ctx: ConsoleContext, client: HubClient, report: SyncReport) -> None:
    """Fetch the centre's signed session rosters and import each (failures reported, never fatal)."""
    try:
        documents = client.rosters()
    except InvigilError as exc:
        report.rosters_failed.append({"roster": "*", "reason": f"{type(exc).__name__}: {exc}"[:300]})
        return
    import_rosters(ctx, documents, "hub", report)


def push_envelopes(ctx: ConsoleContext, client: HubClient, report: SyncReport, progress: Progress | None) -> None:
    store = SyncOutbox(ctx)
    root = central_root(ctx)
    advance = _progress(progress, "envelopes", store.pending_count())
    unsent = store.unsent_revocations()
    for batch in store.pending(BATCH_MAX_BYTES, BATCH_MAX_COUNT):
        upload = Upload(tuple(UploadEntry(e.data, store.meta(e.attempt_id)) for e in batch),
                        tuple(doc for _, _, doc in unsent))
        answer = client.upload(upload)
        _revocations_sent(store, unsent, report)
        unsent = []
        for envelope, outcome in zip(batch, answer.results):
            settle_one(store, envelope, outcome, root, report)
            advance(1)
    if unsent:                                           # nothing to upload: they travel alone
        client.upload(Upload((), tuple(doc for _, _, doc in unsent)))
        _revocations_sent(store, unsent, report)


def _revocations_sent(store: SyncOutbox, sent: list[tuple[str, str, bytes]], report: SyncReport) -> None:
    if sent:
        store.mark_revocations_sent(sent)
        report.kiosk_revocations_sent += len(sent)


def settle_one(store: SyncOutbox, envelope: PendingEnvelope, outcome: EnvelopeOutcome, root: Ed25519PublicKey,
               report: SyncReport) -> None:
    """Drop an envelope's bytes only for a receipt that verifies for exactly those bytes; report
    what the central body said about it."""
    if outcome.receipt is None:
        report.envelopes_kept.append({"sha256": envelope.sha256, "reason": (outcome.reason or "no receipt")[:300]})
        return
    if not settle_receipt(store, envelope, outcome.receipt, root, report):
        return
    if outcome.flags:
        report.envelopes_flagged_centrally.append({"sha256": envelope.sha256, "attempt_id": envelope.attempt_id,
                                                   "flags": [f[:300] for f in outcome.flags[:10]]})
    if outcome.status == QUARANTINED:
        report.envelopes_quarantined_centrally.append({"sha256": envelope.sha256, "attempt_id": envelope.attempt_id,
                                                       "reason": outcome.reason[:300]})


def settle_receipt(store: SyncOutbox, envelope: PendingEnvelope, receipt: bytes, root: Ed25519PublicKey,
                   report: SyncReport) -> bool:
    """Settle one envelope with a signed receipt (from an upload answer or a bundle back); False,
    and the envelope kept, when the receipt does not verify for exactly its bytes."""
    try:
        store.settle(envelope, receipt, root)
    except InvigilError as exc:
        report.envelopes_kept.append({"sha256": envelope.sha256, "reason": f"receipt refused: {exc}"})
        return False
    report.envelopes_receipted += 1
    return True


def hub_pin(ctx: ConsoleContext, given: str | None) -> str | None:
    """The hub fingerprint: given on the command line, else remembered from the first contact."""
    path = ctx.data / HUB_PIN_FILE
    if given:
        return given
    if path.exists():
        return json.loads(path.read_text())["sha256"]
    return None


def run_sync(ctx: ConsoleContext, client: HubClient, progress: Progress | None = None) -> SyncReport:
    report = SyncReport()
    report.revocation_sequence = store_revocations(ctx, client.revocations())
    if client.scheme == "https" and client.seen_fingerprint and not (ctx.data / HUB_PIN_FILE).exists():
        (ctx.data / HUB_PIN_FILE).write_text(json.dumps({"sha256": client.seen_fingerprint}))  # first contact
    pull_packages(ctx, client, report, progress)
    pull_rosters(ctx, client, report)
    push_envelopes(ctx, client, report, progress)
    ctx.audit.append("sync", "sync.run", {"packages": report.packages_imported,
                                          "rosters": report.rosters_imported,
                                          "packages_failed": [f["package_id"] for f in report.packages_failed],
                                          "receipted": report.envelopes_receipted,
                                          "kept": len(report.envelopes_kept)})
    return report
