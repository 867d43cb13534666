"""``pair`` and ``kiosks list|revoke``: pairing codes and paired kiosks, through ``KioskRegistry``
as on the admin page."""

from __future__ import annotations

from typing import Any

import click

from proctor_console import services
from proctor_console.cli.common import by_option, console_context, out, refusals


@click.command(help="Show a one-time pairing code for a new kiosk (valid 10 minutes).")
@click.option("--json", "as_json", is_flag=True)
@by_option
@click.pass_obj
def pair(obj: dict[str, Any], as_json: bool, by: str) -> None:
    ctx = console_context(obj)
    code, expires = services.registry(ctx).new_code(by)
    out({"code": code, "expires": expires, "tls_fingerprint_sha256": ctx.tls_fingerprint}, as_json,
        f"Pairing code: {code}\nValid for 10 minutes. Console TLS fingerprint: {ctx.tls_fingerprint}")


@click.group(help="Paired kiosks.")
def kiosks() -> None:
    pass


@kiosks.command("list", help="List paired kiosks with their certificate serial and state.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def kiosks_list(obj: dict[str, Any], as_json: bool) -> None:
    rows = services.registry(console_context(obj)).list()
    out(rows, as_json, "\n".join(f"{k['kiosk_id']}: paired {k['paired_at']}"
                                 f"{' REVOKED ' + k['revoked_at'] if k['revoked_at'] else ''}" for k in rows)
        or "No kiosks paired.")


@kiosks.command("seat", help="Pin a kiosk to a seat label of the room (an empty SEAT unpins it).")
@click.argument("kiosk_id")
@click.argument("seat")
@by_option
@click.pass_obj
def kiosks_seat(obj: dict[str, Any], kiosk_id: str, seat: str, by: str) -> None:
    service = services.registry(console_context(obj))
    with refusals():
        seat = service.set_seat(kiosk_id, seat, by)
    click.echo(f"Kiosk {kiosk_id} is at seat {seat}." if seat else f"Kiosk {kiosk_id} has no fixed seat now.")


@kiosks.command("revoke", help="Revoke a kiosk: it can no longer log in (pair it again to reuse it).")
@click.argument("kiosk_id")
@click.option("--reason", required=True, help="Why (written to the audit chain).")
@by_option
@click.pass_obj
def kiosks_revoke(obj: dict[str, Any], kiosk_id: str, reason: str, by: str) -> None:
    service = services.registry(console_context(obj))
    with refusals():
        service.revoke(kiosk_id, by, reason)
    click.echo(f"Kiosk {kiosk_id} revoked.")
