"""``sync``, ``export-bundle`` and ``import-bundle``: the console's exchanges with the central body,
over the network (``proctor_console.sync.run``) or on removable media (``proctor_console.sync.bundle``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from exam_core.errors import InvigilError
from proctor_console.cli.common import console_context, data_option, refusals
from proctor_console.context import ConsoleContext
from proctor_console.errors import Conflict, InvalidRequest
from proctor_console.sync.bundle import export_bundle, import_bundle
from proctor_console.sync.client import HubClient
from proctor_console.sync.run import SyncReport, central_root, hub_pin, run_sync


@click.command("sync")
@data_option
@click.option("--hub", required=True, help="URL of the central sync API, e.g. https://central.example:8443")
@click.option("--tls-fingerprint", help="SHA-256 of the hub's TLS certificate (else trusted on first use and pinned).")
@click.option("--insecure-dev", is_flag=True, help="Allow an http:// hub (development only).")
@click.option("--json", "as_json", is_flag=True, help="Print the sync report as JSON.")
@click.pass_obj
def sync_command(obj: Any, data_opt: Path | None, hub: str, tls_fingerprint: str | None, insecure_dev: bool,
                 as_json: bool) -> None:
    """Pull new form packages from the central body and push sealed envelopes for receipts.

    Exit status 1 when the run failed, or when a package could not be imported (the envelopes
    were still uploaded: the report says what was done)."""
    ctx = console_context(obj, data_opt)
    err = Console(stderr=True)
    try:
        report = _sync(ctx, hub, tls_fingerprint, insecure_dev, err, as_json)
    except InvigilError as exc:
        if as_json:
            click.echo(json.dumps({"error": str(exc)}))
        else:
            err.print(f"[red]sync failed:[/] {exc}", highlight=False)
        raise SystemExit(1) from None
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        _print_report(report)
    if report.packages_failed or report.rosters_failed:
        raise SystemExit(1)


def _sync(ctx: ConsoleContext, hub: str, tls_fingerprint: str | None, insecure_dev: bool, err: Console,
          as_json: bool) -> SyncReport:
    if hub.startswith("http://") and not insecure_dev:
        raise InvalidRequest("refusing an http:// hub without --insecure-dev (use https)")
    if ctx.centre_certificate() is None:
        raise Conflict("no centre certificate installed; run `certificate install` first")
    client = HubClient(hub, ctx.centre_id, ctx.signing_key, central_root(ctx),
                       tls_fingerprint=hub_pin(ctx, tls_fingerprint))
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=err, disable=as_json or not err.is_terminal) as progress:
        return run_sync(ctx, client, progress)


def _print_report(report: SyncReport) -> None:
    out = Console()
    out.print(f"packages imported: {len(report.packages_imported)} ({report.packages_present} already held); "
              f"envelopes receipted: {report.envelopes_receipted}; kept: {len(report.envelopes_kept)}; "
              f"kiosk revocations sent: {report.kiosk_revocations_sent}")
    for failed in report.packages_failed:
        out.print(f"  [red]package {failed['package_id']} not imported:[/] {failed['reason']}", highlight=False)
    for roster in report.rosters_imported:
        out.print(f"  roster of session {roster['session_id']}: version {roster['version']} imported", highlight=False)
    for failed in report.rosters_failed:
        out.print(f"  [red]roster {failed['roster']} refused:[/] {failed['reason']}", highlight=False)
    for kept in report.envelopes_kept:
        out.print(f"  kept {kept['sha256'][:16]}: {kept['reason']}", highlight=False)
    for q in report.envelopes_quarantined_centrally:
        out.print(f"  quarantined centrally: attempt {q['attempt_id']}: {q['reason']}", highlight=False)
    for f in report.envelopes_flagged_centrally:
        out.print(f"  flagged for review centrally: attempt {f['attempt_id']}: {'; '.join(f['flags'])}",
                  highlight=False)


@click.command("export-bundle")
@data_option
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Bundle file to write on removable media.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def export_bundle_command(obj: Any, data_opt: Path | None, out_path: Path, as_json: bool) -> None:
    """Write pending envelopes to an encrypted, signed bundle for an air-gapped hand-over."""
    ctx = console_context(obj, data_opt)
    with refusals():
        result = export_bundle(ctx, out_path)
    click.echo(json.dumps(result, indent=2) if as_json else
               f"wrote {result['envelopes']} envelopes and {result['kiosk_revocations']} kiosk revocations to "
               f"{out_path} ({result['pending_after']} envelopes still pending)")


@click.command("import-bundle")
@data_option
@click.argument("bundle_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def import_bundle_command(obj: Any, data_opt: Path | None, bundle_path: Path, as_json: bool) -> None:
    """Import a bundle from the central body: packages, revocation list, receipts, session rosters.

    Exit status 1 when the bundle is refused, or when a package or signed roster in it could not be
    imported (its receipts and revocations were still taken in)."""
    ctx = console_context(obj, data_opt)
    with refusals():
        report = import_bundle(ctx, bundle_path)
    click.echo(json.dumps(report.to_dict(), indent=2) if as_json else
               f"packages imported: {len(report.packages_imported)}; envelopes receipted: "
               f"{report.envelopes_receipted}; kept: {len(report.envelopes_kept)}; kiosk revocations "
               f"acknowledged: {report.kiosk_revocations_sent}" +
               "".join(f"\npackage {f['package_id']} not imported: {f['reason']}" for f in report.packages_failed) +
               "".join(f"\nroster of session {r['session_id']}: version {r['version']} imported"
                       for r in report.rosters_imported) +
               "".join(f"\nroster {f['roster']} refused: {f['reason']}" for f in report.rosters_failed))
    if report.packages_failed or report.rosters_failed:
        raise SystemExit(1)
