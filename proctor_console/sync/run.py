"""``python -m proctor_console sync --hub URL``: pull packages, push envelopes, settle receipts.

One run does three things, each safe to interrupt and re-run:

1. fetch the central revocation list and keep it if it verifies and is not older than the one held;
2. fetch the signed package list and download every package not yet imported, resuming a partial
   download with HTTP ``Range``; each is checked against the listed SHA-256 and imported through
   the console's own import (manifest signature, addressed to this centre);
3. upload pending envelopes in batches and, for each answer, verify the signed receipt against the
   exact bytes held before the bytes are dropped. An envelope without a verified receipt stays.
   Kiosk revocations not yet sent ride in the first upload's own ``kiosk_revocations`` field, in
   an upload of their own when no envelope is pending; they are marked sent only once the hub
   answered that upload (it records them all before judging any envelope, or refuses it all).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from exam_core import certs, limits
from exam_core.errors import InvigilError
from exam_core.jsonio import b64d, b64e
from proctor_console.context import ConsoleContext, ConsoleError
from proctor_console.sync_client import HubClient
from proctor_console.sync_envelopes import ConsoleEnvelopeStore

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

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def store_revocations(ctx: ConsoleContext, data: bytes) -> int:
    """Keep a verified revocation list unless the one held has a higher sequence number."""
    root = _root(ctx)
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


def _root(ctx: ConsoleContext):
    root = ctx.root_public()
    if root is None:
        raise ConsoleError("install the centre certificate first: everything from the hub is verified against it")
    return root


def pull_packages(ctx: ConsoleContext, client: HubClient, report: SyncReport, progress: Progress | None) -> None:
    from proctor_console.imports import import_package

    held = {row[0] for row in ctx.db.execute("SELECT sha256 FROM packages")}
    for entry in client.list_packages():
        package_id, size, sha256 = entry.get("package_id"), entry.get("size"), entry.get("sha256")
        if not isinstance(package_id, str) or not isinstance(size, int) or not isinstance(sha256, str):
            raise ConsoleError("package list entry lacks package_id, size or sha256")
        if not 0 < size <= limits.PACKAGE_MAX_BYTES:
            raise ConsoleError(f"package {package_id[:40]!r}: listed size {size} is outside 1..{limits.PACKAGE_MAX_BYTES}")
        if sha256 in held:
            report.packages_present += 1
            continue
        ctx.packages_dir.mkdir(parents=True, exist_ok=True)
        part = ctx.packages_dir / f"{_safe_name(package_id)}.part"
        task = progress.add_task(f"package {package_id}", total=size) if progress else None
        data = client.download(package_id, part, size, sha256,
                               on_bytes=lambda n: progress.advance(task, n) if progress else None)
        import_package(ctx, data, f"hub:{package_id}", "sync")
        part.unlink(missing_ok=True)
        report.packages_imported.append(package_id)


def _safe_name(package_id: str) -> str:
    from exam_core.model import IDENTIFIER_RE

    if not IDENTIFIER_RE.match(package_id):
        raise ConsoleError(f"package id {package_id[:40]!r} is not an identifier")
    return package_id


def push_envelopes(ctx: ConsoleContext, client: HubClient, report: SyncReport, progress: Progress | None) -> None:
    store = ConsoleEnvelopeStore(ctx)
    root = _root(ctx)
    task = progress.add_task("envelopes", total=store.pending_count()) if progress else None
    unsent = store.unsent_revocations()
    for batch in store.pending(BATCH_MAX_BYTES, BATCH_MAX_COUNT):
        entries = [{"envelope": b64e(e.data), **store.meta(e.attempt_id)} for e in batch]
        results = client.upload(entries, [doc for _, _, doc in unsent])
        _revocations_sent(store, unsent, report)
        unsent = []
        for envelope, result in zip(batch, results):
            settle_one(store, envelope, result, root, report)
            if progress:
                progress.advance(task, 1)
    if unsent:                                           # nothing to upload: they travel alone
        client.upload([], [doc for _, _, doc in unsent])
        _revocations_sent(store, unsent, report)


def _revocations_sent(store: ConsoleEnvelopeStore, sent: list[tuple[str, str, str]], report: SyncReport) -> None:
    if sent:
        store.mark_revocations_sent(sent)
        report.kiosk_revocations_sent += len(sent)


def settle_one(store: ConsoleEnvelopeStore, envelope: Any, result: dict[str, Any], root: Any,
               report: SyncReport) -> None:
    """Drop an envelope's bytes only for a receipt that verifies for exactly those bytes."""
    receipt_b64 = result.get("receipt") if isinstance(result, dict) else None
    if not isinstance(receipt_b64, str):
        report.envelopes_kept.append({"sha256": envelope.sha256, "reason": str(result.get("reason", "no receipt"))[:300]})
        return
    try:
        store.settle(envelope, b64d(receipt_b64, "receipt"), root)
    except InvigilError as exc:
        report.envelopes_kept.append({"sha256": envelope.sha256, "reason": f"receipt refused: {exc}"})
        return
    report.envelopes_receipted += 1
    flags = result.get("flags")
    if isinstance(flags, list) and flags:
        report.envelopes_flagged_centrally.append({"sha256": envelope.sha256, "attempt_id": envelope.attempt_id,
                                                   "flags": [str(f)[:300] for f in flags[:10]]})
    if result.get("status") == "quarantined":
        report.envelopes_quarantined_centrally.append({"sha256": envelope.sha256, "attempt_id": envelope.attempt_id,
                                                       "reason": str(result.get("reason", ""))[:300]})


def _pin(ctx: ConsoleContext, given: str | None) -> str | None:
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
        (ctx.data / HUB_PIN_FILE).write_text(json.dumps({"sha256": client.seen_fingerprint}))
    pull_packages(ctx, client, report, progress)
    push_envelopes(ctx, client, report, progress)
    ctx.audit.append("sync", "sync.run", {"packages": report.packages_imported,
                                          "receipted": report.envelopes_receipted,
                                          "kept": len(report.envelopes_kept)})
    return report


def data_option(fn: Any) -> Any:
    return click.option("--data", "data_opt", type=click.Path(file_okay=False, path_type=Path),
                        help="Console data directory (same as the global option).")(fn)


def console_context(obj: Any, data_opt: Path | None) -> ConsoleContext:
    ctx = ConsoleContext(data_opt or (obj or {}).get("data", Path("console-data")))
    if not ctx.exists():
        raise click.ClickException(f"{ctx.data}: not a console data directory; run `init` first")
    return ctx


@click.command("sync")
@data_option
@click.option("--hub", required=True, help="URL of the central sync API, e.g. https://central.example:8443")
@click.option("--tls-fingerprint", help="SHA-256 of the hub's TLS certificate (else trusted on first use and pinned).")
@click.option("--insecure-dev", is_flag=True, help="Allow an http:// hub (development only).")
@click.option("--json", "as_json", is_flag=True, help="Print the sync report as JSON.")
@click.pass_obj
def sync_command(obj: Any, data_opt: Path | None, hub: str, tls_fingerprint: str | None, insecure_dev: bool,
                 as_json: bool) -> None:
    """Pull new form packages from the central body and push sealed envelopes for receipts."""
    ctx = console_context(obj, data_opt)
    err = Console(stderr=True)
    try:
        if hub.startswith("http://") and not insecure_dev:
            raise ConsoleError("refusing an http:// hub without --insecure-dev (use https)")
        certificate = ctx.centre_certificate()
        if certificate is None:
            raise ConsoleError("no centre certificate installed; run `certificate install` first")
        client = HubClient(hub, ctx.centre_id, ctx.signing_key, _root(ctx), tls_fingerprint=_pin(ctx, tls_fingerprint))
        columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
        with Progress(*columns, console=err, disable=as_json or not err.is_terminal) as progress:
            report = run_sync(ctx, client, progress)
    except InvigilError as exc:
        if as_json:
            click.echo(json.dumps({"error": str(exc)}))
        else:
            err.print(f"[red]sync failed:[/] {exc}", highlight=False)
        raise SystemExit(1) from None
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
        return
    out = Console()
    out.print(f"packages imported: {len(report.packages_imported)} ({report.packages_present} already held); "
              f"envelopes receipted: {report.envelopes_receipted}; kept: {len(report.envelopes_kept)}; "
              f"kiosk revocations sent: {report.kiosk_revocations_sent}")
    for kept in report.envelopes_kept:
        out.print(f"  kept {kept['sha256'][:16]}: {kept['reason']}", highlight=False)
    for q in report.envelopes_quarantined_centrally:
        out.print(f"  quarantined centrally: attempt {q['attempt_id']}: {q['reason']}", highlight=False)
    for f in report.envelopes_flagged_centrally:
        out.print(f"  flagged for review centrally: attempt {f['attempt_id']}: {'; '.join(f['flags'])}",
                  highlight=False)
