"""``centres``: enrol test centres, revoke them, and list the kiosks they revoked."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from item_bank_sync.cli.common import actor_option, central, emit, json_option, refusals_exit, results_db
from item_bank_sync.trust.centres import enrol, list_centres, revoke
from item_bank_sync.trust.kiosk_revocations import list_revocations


@click.group("centres")
def centres_group() -> None:
    """Test centres: enrol from a console's request, list, revoke."""


@centres_group.command("add")
@click.option("--request", "request_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="enrolment-request.json written by `python -m proctor_console init`.")
@actor_option
@json_option
@click.pass_context
@refusals_exit
def centres_add(ctx: click.Context, request_file: Path, actor: str) -> None:
    """Verify a centre's signed enrolment request and issue its certificate (a bundle to hand back)."""
    result = enrol(central(ctx), request_file.read_bytes(), str(request_file), actor)
    emit(ctx, result, lambda c: c.print(
        f"enrolled {result['centre_id']} ({result['name']}), certificate {result['serial']} valid until "
        f"{result['not_after']}\nconsole TLS fingerprint: {result['tls_fingerprint_sha256'] or '-'}\n"
        f"hand back: {result['certificate_bundle']} (proctor_console certificate install FILE)", highlight=False))


@centres_group.command("list")
@json_option
@click.pass_context
@refusals_exit
def centres_list(ctx: click.Context) -> None:
    """List enrolled centres and their certificate state."""
    rows = list_centres(central(ctx).open_bank_db())

    def human(c: Console) -> None:
        table = Table("centre", "name", "serial", "valid until", "revoked")
        for r in rows:
            table.add_row(r["centre_id"], r["name"], r["serial"], r["not_after"],
                          f"{r['revoked_at']} {r['revoked_reason'] or ''}" if r["revoked_at"] else "")
        c.print(table)
    emit(ctx, {"centres": rows}, human)


@centres_group.command("revoke")
@click.argument("centre_id")
@click.option("--reason", default="", help="Why (recorded and audited).")
@actor_option
@json_option
@click.pass_context
@refusals_exit
def centres_revoke(ctx: click.Context, centre_id: str, reason: str, actor: str) -> None:
    """Revoke a centre's certificate and issue the next signed revocation list."""
    result = revoke(central(ctx), centre_id, reason, actor)
    emit(ctx, result, lambda c: c.print(
        f"revoked {centre_id} (serial {result['serial']}); revocation list #{result['revocation_sequence']} "
        f"written to {result['revocation_list']}", highlight=False))


@centres_group.command("revocations")
@click.option("--centre", "centre_id", help="Only this centre's kiosks.")
@json_option
@click.pass_context
@refusals_exit
def centres_revocations(ctx: click.Context, centre_id: str | None) -> None:
    """Kiosks revoked at test centres (signed by the centre, received with its sync uploads).

    Intake quarantines an envelope a listed kiosk key sealed at or after the revocation time;
    envelopes sealed before it still open."""
    rows = list_revocations(results_db(ctx), centre_id)

    def human(c: Console) -> None:
        table = Table("centre", "kiosk", "key id", "revoked at", "by", "reason", "received", "quarantined")
        for r in rows:
            table.add_row(r["centre_id"], r["kiosk_id"], r["key_id"][:16], r["revoked_at"], r["revoked_by"],
                          r["reason"], r["received_at"], str(r["envelopes_quarantined"]))
        c.print(table if rows else "No kiosk revocations received.")
    emit(ctx, {"kiosk_revocations": rows}, human)
