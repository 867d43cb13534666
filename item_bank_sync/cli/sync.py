"""``serve``, ``export-bundle`` and ``import-bundle``: the central side of the sync path."""

from __future__ import annotations

from pathlib import Path

import click

from item_bank_sync.cli.common import central, emit, err_console, json_option, refusals_exit


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8443, show_default=True, type=click.IntRange(1, 65535), help="TCP port.")
@click.option("--insecure-dev", is_flag=True, help="Plain HTTP for development; never in production.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes behind the TLS front (above 1 needs PostgreSQL: --db).")
@click.pass_context
@refusals_exit
def serve_command(ctx: click.Context, host: str, port: int, insecure_dev: bool, workers: int) -> None:
    """Run the sync API for test centres (HTTPS with a self-signed certificate made at first run)
    until SIGTERM or Ctrl-C, which stop it gracefully.

    Centres authenticate every request with their certified key; see item_bank_sync.sync.auth.
    With --workers N the API runs in N processes sharing one PostgreSQL database; a worker that
    dies is started again (item_bank_sync.sync.workers).
    """
    from item_bank_sync.sync.server import serve
    from item_bank_sync.sync.workers import WorkersRefused, check_can_share

    try:
        check_can_share(workers, central(ctx).db_url)
    except WorkersRefused as exc:
        raise click.UsageError(str(exc), ctx) from None

    def ready(where: str) -> None:
        err_console.print(f"sync API listening on {where}", highlight=False)

    serve(central(ctx).data_dir, host, port, insecure_dev, ready, db_url=central(ctx).db_url, workers=workers)


@click.command("export-bundle")
@click.option("--centre", "centre_id", required=True, help="Centre the bundle is for (encrypted to its key).")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Bundle file to write (for removable media).")
@json_option
@click.pass_context
@refusals_exit
def export_bundle_command(ctx: click.Context, centre_id: str, out_path: Path) -> None:
    """Write an air-gap bundle for one centre: its packages, the revocation list, and receipts for
    every envelope received from it. Signed by the central key and sealed to the centre's HPKE key."""
    from item_bank_sync.sync.bundle import export_bundle

    summary = export_bundle(central(ctx).data_dir, centre_id, out_path, db_url=central(ctx).db_url)
    emit(ctx, summary, lambda c: c.print(f"wrote {out_path}: {len(summary['packages'])} packages, "
                                         f"{summary['receipts']} receipts for {centre_id}" +
                                         "".join(f"\n[red]left out package {s['package_id']}:[/] {s['reason']}"
                                                 for s in summary["packages_skipped"])))


@click.command("import-bundle")
@click.argument("bundle_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@click.pass_context
@refusals_exit
def import_bundle_command(ctx: click.Context, bundle_path: Path) -> None:
    """Take in a centre's air-gap bundle of envelopes (verified, opened, receipted like an upload).

    The receipts go back to the centre in the next ``export-bundle`` for it.
    """
    from item_bank_sync.sync.bundle import import_bundle

    summary = import_bundle(central(ctx).data_dir, bundle_path, db_url=central(ctx).db_url)
    emit(ctx, summary, lambda c: c.print(
        f"{summary['centre_id']}: {summary['accepted']} accepted, {summary['quarantined']} quarantined, "
        f"{summary['duplicates']} already held, {summary['rejected']} unreadable"))
