"""``certificates``: issue, look up and act on certificates (ISO/IEC 17024 9.4-9.7), their PDF and
the issuer's keys. The service is :mod:`item_bank_sync.certificates.registry`; the public site
that verifies them is ``public`` (:mod:`item_bank_sync.cli.public`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from exam_core.timestamps import parse_time
from item_bank_sync.cli.common import central, emit, json_option, refusals_exit

LIST_COLUMNS = ["certificate_id", "holder_name", "scheme_id", "scheme_version", "state", "valid_until"]


def _registry(ctx: click.Context) -> Any:
    from item_bank_sync.certificates.registry import CertificateRegistry

    return CertificateRegistry(central(ctx))


def _public(cert: Any) -> dict[str, Any]:
    """A certificate for output: everything but the credential itself (``show --jwt`` prints it)."""
    data = cert.to_dict()
    data.pop("jwt", None)
    return data


def _table(rows: list[dict[str, Any]], title: str):
    def show(console: Console) -> None:
        table = Table(*LIST_COLUMNS, title=title)
        for row in rows:
            table.add_row(*(str(row.get(c, "")) for c in LIST_COLUMNS))
        console.print(table)
    return show


def _done(ctx: click.Context, cert: Any, what: str) -> None:
    emit(ctx, _public(cert), lambda c: c.print(f"{cert.certificate_id}: {what}; now {cert.state}", highlight=False))


by_option = click.option("--by", "by", required=True,
                         help="Who decides (never the proctor or a marker of the holder's attempt; recorded).")
reason_option = click.option("--reason", required=True, help="Why (recorded in the status history).")


@click.group("certificates")
def certificates_group() -> None:
    """Certificates: issue on a pass, status (suspend, restore, withdraw, reduce scope, expire), PDF, keys."""


@certificates_group.command("setup")
@click.option("--by", "by", required=True, help="Who changes the settings (recorded in the audit chain).")
@click.option("--public-url", required=True, help="https:// address of the public verification site.")
@click.option("--agreement-version", help="Version of the holder agreement on use of certificates and marks.")
@click.option("--agreement-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Text of the holder agreement (with --agreement-version).")
@json_option
@click.pass_context
@refusals_exit
def setup_command(ctx: click.Context, by: str, public_url: str, agreement_version: str | None,
                  agreement_file: Path | None) -> None:
    """Set the public site's address (in credentials and QR codes) and the holder agreement."""
    from dataclasses import asdict, replace

    from item_bank_sync.certificates.settings import check_public_url, load_settings, save_settings

    settings = replace(load_settings(central(ctx)), public_url=check_public_url(public_url))
    if agreement_version:
        if agreement_file is None:
            raise click.UsageError("--agreement-file is required with --agreement-version")
        settings = replace(settings, agreement_version=agreement_version,
                           agreement_text=agreement_file.read_text("utf-8"))
    save_settings(central(ctx), settings)
    central(ctx).audit_log().append(by, "certificates.setup", {"public_url": settings.public_url,
                                                               "agreement_version": settings.agreement_version})
    emit(ctx, asdict(settings), lambda c: c.print(f"public site {settings.public_url}; agreement "
                                                  f"{settings.agreement_version}", highlight=False))


@certificates_group.command("issue")
@click.option("--attempt", "attempt_id", required=True, help="Attempt with a pass decision standing.")
@by_option
@click.option("--name-consent", is_flag=True, help="The holder consents to be found by name on the public site.")
@json_option
@click.pass_context
@refusals_exit
def issue_command(ctx: click.Context, attempt_id: str, by: str, name_consent: bool) -> None:
    """Issue the certificate of a pass decision (a pass decision with `decide` issues it already)."""
    cert = _registry(ctx).issue(attempt_id, by, name_consent=name_consent)
    _done(ctx, cert, f"issued to {cert.holder_name} (name from the {cert.holder_name_source})")


@certificates_group.command("list")
@click.option("--state", type=click.Choice(["valid", "suspended", "withdrawn", "expired", "scope reduced"]))
@json_option
@click.pass_context
@refusals_exit
def list_command(ctx: click.Context, state: str | None) -> None:
    """List certificates with their status as of now."""
    rows = [_public(c) for c in _registry(ctx).listing(state)]
    emit(ctx, rows, _table(rows, "Certificates"))


@certificates_group.command("show")
@click.argument("certificate_id")
@click.option("--jwt", "as_jwt", is_flag=True, help="Print only the current credential (VC-JWT).")
@json_option
@click.pass_context
@refusals_exit
def show_command(ctx: click.Context, certificate_id: str, as_jwt: bool) -> None:
    """Show one certificate, its status history and its current credential's id."""
    registry = _registry(ctx)
    cert = registry.get(certificate_id)
    if as_jwt:
        click.echo(cert.jwt)
        return
    data = {**_public(cert), "history": registry.history(certificate_id),
            "verify_url": registry.verify_url(certificate_id)}
    emit(ctx, data, lambda c: c.print(json.dumps(data, indent=2), highlight=False))


@certificates_group.command("suspend")
@click.argument("certificate_id")
@by_option
@reason_option
@click.option("--until", required=True, help="Deadline to deal with the cause (ISO date or time, UTC).")
@json_option
@click.pass_context
@refusals_exit
def suspend_command(ctx: click.Context, certificate_id: str, by: str, reason: str, until: str) -> None:
    """Suspend a certificate: it verifies as suspended at once."""
    deadline = parse_time(until if "T" in until else f"{until}T23:59:59Z", "until")
    _done(ctx, _registry(ctx).suspend(certificate_id, by, reason, deadline), "suspended")


@certificates_group.command("restore")
@click.argument("certificate_id")
@by_option
@reason_option
@json_option
@click.pass_context
@refusals_exit
def restore_command(ctx: click.Context, certificate_id: str, by: str, reason: str) -> None:
    """Restore a suspended certificate."""
    _done(ctx, _registry(ctx).restore(certificate_id, by, reason), "restored")


@certificates_group.command("withdraw")
@click.argument("certificate_id")
@by_option
@reason_option
@json_option
@click.pass_context
@refusals_exit
def withdraw_command(ctx: click.Context, certificate_id: str, by: str, reason: str) -> None:
    """Withdraw a certificate for good (its credential is revoked)."""
    _done(ctx, _registry(ctx).withdraw(certificate_id, by, reason), "withdrawn")


@certificates_group.command("reduce-scope")
@click.argument("certificate_id")
@by_option
@reason_option
@click.option("--keep", multiple=True, required=True, help="A part of the scope that stays (repeat).")
@json_option
@click.pass_context
@refusals_exit
def reduce_scope_command(ctx: click.Context, certificate_id: str, by: str, reason: str, keep: tuple[str, ...]) -> None:
    """Reduce the scope: a new credential with the parts kept supersedes the old one."""
    _done(ctx, _registry(ctx).reduce_scope(certificate_id, by, reason, list(keep)), "scope reduced")


@certificates_group.command("expire-due")
@by_option
@json_option
@click.pass_context
@refusals_exit
def expire_due_command(ctx: click.Context, by: str) -> None:
    """Expire every certificate whose certification period has ended; list suspensions past their deadline."""
    registry = _registry(ctx)
    expired = registry.expire_due(by)
    overdue = [c.certificate_id for c in registry.suspensions_overdue()]
    emit(ctx, {"expired": expired, "suspensions_overdue": overdue}, lambda c: c.print(
        f"{len(expired)} certificate(s) expired; {len(overdue)} suspension(s) past their deadline need a "
        "decision (restore or withdraw)", highlight=False))


@certificates_group.command("pdf")
@click.argument("certificate_id")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@json_option
@click.pass_context
@refusals_exit
def pdf_command(ctx: click.Context, certificate_id: str, out_path: Path) -> None:
    """Write the printable certificate (PDF with a QR code to the verification page)."""
    from item_bank_sync.certificates.pdf import certificate_pdf

    registry = _registry(ctx)
    url = registry.verify_url(certificate_id)
    out_path.write_bytes(certificate_pdf(registry.get(certificate_id), registry.issuer().name, url))
    emit(ctx, {"pdf": str(out_path), "verify_url": url}, lambda c: c.print(f"wrote {out_path}", highlight=False))


@certificates_group.command("jwks")
@click.pass_context
@refusals_exit
def jwks_command(ctx: click.Context) -> None:
    """Print the issuer's public key set (what /.well-known/jwks.json serves)."""
    from item_bank_sync.certificates.keys import IssuerKeys

    keys = IssuerKeys(central(ctx))
    keys.active()  # the first key is made on first use
    click.echo(json.dumps(keys.jwks(), indent=2))


@certificates_group.command("rotate-key")
@click.option("--by", "by", required=True, help="Who rotates the key (recorded in the audit chain).")
@json_option
@click.pass_context
@refusals_exit
def rotate_key_command(ctx: click.Context, by: str) -> None:
    """Make a new issuer signing key; credentials signed by older keys still verify (they stay in the JWKS)."""
    from item_bank_sync.certificates.keys import IssuerKeys

    key = IssuerKeys(central(ctx)).rotate(by)
    emit(ctx, {"kid": key.kid}, lambda c: c.print(f"new issuer key {key.kid}", highlight=False))
