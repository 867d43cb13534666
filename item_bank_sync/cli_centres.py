"""``centres`` and ``publish``: enrol test centres, revoke them, publish sealed form packages."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from item_bank_sync.trust.centres import enrol, list_centres, revoke
from item_bank_sync.cli_common import results_db, actor_option, central, emit, err_console, json_option, refusals_exit
from item_bank_sync.forms.export import export_form
from item_bank_sync.trust.kiosk_revocations import list_revocations
from item_bank_sync.forms.publish import parse_when, publish


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


@click.command("publish")
@click.option("--form", "form_id", required=True, help="Form id (see `forms list`).")
@click.option("--form-version", type=int, help="Default: latest version of the form.")
@click.option("--centre", "centre_id", required=True, help="Enrolled centre that may open the package.")
@click.option("--opens", required=True, help="Start of the delivery window, ISO 8601 with offset.")
@click.option("--closes", required=True, help="End of the delivery window, ISO 8601 with offset.")
@click.option("--release-code", is_flag=True, help="Also require a code the proctor enters at the centre.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also copy the package into this folder (e.g. removable media).")
@actor_option
@json_option
@click.pass_context
@refusals_exit
def publish_command(ctx: click.Context, form_id: str, form_version: int | None, centre_id: str, opens: str,
                    closes: str, release_code: bool, out_dir: Path | None, actor: str) -> None:
    """Seal a form for one centre: signed manifest, encrypted content, no answer keys."""
    with err_console.status("sealing package", spinner="dots") if not central(ctx).json_output else nullcontext():
        result = publish(central(ctx), form_id=form_id, centre_id=centre_id, opens=parse_when(opens, "--opens"),
                         closes=parse_when(closes, "--closes"), release_code=release_code, out_dir=out_dir,
                         by=actor, form_version=form_version)

    def human(c: Console) -> None:
        c.print(f"package {result['package_id']}: form {result['form_id']} v{result['form_version']} for "
                f"{centre_id}, {result['items']} items, {result['media']} media, {result['bytes']} bytes\n"
                f"stored {result['stored']}" + (f"\ncopied to {result['file']}" if result["file"] else ""),
                highlight=False)
        if result["release_code"]:
            c.print(f"[bold]release code (shown once, give it to the proctor out of band): "
                    f"{result['release_code']}[/bold]", highlight=False)
    emit(ctx, result, human)


@click.command("export")
@click.option("--form", "form_id", required=True, help="Form id (see `forms list`).")
@click.option("--form-version", type=int, help="Default: latest version of the form.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="FILE.zip to write.")
@actor_option
@json_option
@click.pass_context
@refusals_exit
def export_command(ctx: click.Context, form_id: str, form_version: int | None, out: Path, actor: str) -> None:
    """Write a form's items as a QTI 3.0 content package (with answer keys: keep it confidential)."""
    result = export_form(central(ctx), form_id, out, form_version, actor)
    emit(ctx, result, lambda c: c.print(f"exported {result['items']} items and {result['media']} media files of "
                                        f"{result['form_id']} v{result['form_version']} to {out} "
                                        "(contains answer keys)", highlight=False))

