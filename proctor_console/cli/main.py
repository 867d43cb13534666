"""Command-line interface of ``proctor_console`` (``python -m proctor_console``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from exam_core.errors import InvigilError
from proctor_console import __version__
from proctor_console.context import ConsoleContext


def _ctx(obj: dict[str, Any]) -> ConsoleContext:
    ctx = ConsoleContext(obj["data"])
    if not ctx.exists():
        raise click.ClickException(f"{ctx.data}: not a console data directory; run `init` first")
    return ctx


def _out(data: Any, as_json: bool, text: str) -> None:
    click.echo(json.dumps(data, indent=2, default=str) if as_json else text)


@click.group(help="Invigil test-centre proctor console: LAN server, dashboard, key release, records.")
@click.version_option(__version__, prog_name="proctor_console")
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), default=Path("console-data"),
              show_default=True, envvar="INVIGIL_CONSOLE_DATA", help="Console data directory.")
@click.pass_context
def main(click_ctx: click.Context, data: Path) -> None:
    click_ctx.obj = {"data": data}


@main.command(help="Create centre keys, the console's TLS certificate and the enrolment request.")
@click.option("--data", "data_opt", type=click.Path(file_okay=False, path_type=Path), help="Data directory (same as the global option).")
@click.option("--centre-id", required=True, help="Centre identifier agreed with the central body.")
@click.option("--name", required=True, help="Centre name shown on reports.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def init(obj: dict, data_opt: Path | None, centre_id: str, name: str, as_json: bool) -> None:
    ctx = ConsoleContext(data_opt or obj["data"])
    try:
        result = ctx.initialise(centre_id, name)
    except InvigilError as exc:
        raise click.ClickException(str(exc))
    _out(result, as_json, f"Console for {centre_id} created in {ctx.data}\n"
                          f"TLS fingerprint (kiosks pin it): {result['tls_fingerprint_sha256']}\n"
                          f"Send {result['enrolment_request']} to the central body; install its answer with "
                          f"`certificate install FILE`.")


@main.group(help="The centre certificate issued by the central body.")
def certificate() -> None:
    pass


@certificate.command("install", help="Install the centre certificate (a bundle with the root, or --root).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--root", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Central root certificate.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def certificate_install(obj: dict, file: Path, root: Path | None, as_json: bool) -> None:
    ctx = _ctx(obj)
    try:
        result = ctx.install_certificate(file.read_bytes(), root.read_bytes() if root else None)
    except InvigilError as exc:
        raise click.ClickException(f"{file}: {exc}")
    _out(result, as_json, f"Installed centre certificate {result['serial']} (valid until {result['not_after']}).")


@main.group(help="Proctor and centre admin accounts.")
def users() -> None:
    pass


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users.command("add", help="Add an account; the password is asked for (or read from stdin).")
@click.argument("name")
@click.option("--role", type=click.Choice(["proctor", "centre_admin"]), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.option("--by", default="cli", show_default=True, help="Who adds it (written to the audit chain).")
@click.pass_obj
def users_add(obj: dict, name: str, role: str, password_stdin: bool, by: str) -> None:
    from proctor_console.accounts import add_user
    ctx = _ctx(obj)
    try:
        add_user(ctx, name, role, _password(password_stdin), by=by)
    except InvigilError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"User {name} ({role}) added.")


@users.command("list", help="List accounts: role, state (active, locked, disabled), last login.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def users_list(obj: dict, as_json: bool) -> None:
    from proctor_console.accounts import list_users
    rows = list_users(_ctx(obj))
    _out(rows, as_json, "\n".join(f"{u['name']}: {u['role']}, {u['state']}"
                                  f"{' until ' + u['locked_until'] if u['locked_until'] else ''}"
                                  f", last login {u['last_login'] or 'never'}" for u in rows) or "No users.")


def _account_change(obj: dict, change: Any, done: str) -> None:
    try:
        change(_ctx(obj))
    except InvigilError as exc:
        raise click.ClickException(str(exc))
    click.echo(done)


def _state_command(command: str, help_text: str, change: Any, done: str) -> None:
    """``users disable|enable|unlock NAME --by WHO``: one account change, audited with WHO."""
    @users.command(command, help=help_text)
    @click.argument("name")
    @click.option("--by", required=True, help="Who does it (written to the audit chain).")
    @click.pass_obj
    def run(obj: dict, name: str, by: str) -> None:
        _account_change(obj, lambda ctx: change(ctx, name, by), done.format(name=name))


def _register_state_commands() -> None:
    from proctor_console import accounts
    _state_command("disable", "Disable an account and end its sessions (a running server drops its sockets).",
                   lambda ctx, name, by: accounts.set_disabled(ctx, name, True, by), "User {name} disabled.")
    _state_command("enable", "Enable a disabled account (its old sessions stay ended).",
                   lambda ctx, name, by: accounts.set_disabled(ctx, name, False, by), "User {name} enabled.")
    _state_command("unlock", "Lift a lockout after repeated wrong passwords.", accounts.unlock,
                   "User {name} unlocked.")


_register_state_commands()


@users.command("reset-password", help="Set a new password, lift a lockout and end the account's sessions.")
@click.argument("name")
@click.option("--by", required=True, help="Who resets it (written to the audit chain).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.pass_obj
def users_reset_password(obj: dict, name: str, by: str, password_stdin: bool) -> None:
    from proctor_console.accounts import reset_password
    password = _password(password_stdin)
    _account_change(obj, lambda ctx: reset_password(ctx, name, password, by), f"Password of {name} reset.")


@main.command(help="Serve the dashboard and the kiosk link (HTTPS; HTTP only with --insecure-dev).")
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", default=8443, show_default=True, type=int)
@click.option("--insecure-dev", is_flag=True, help="Plain HTTP and non-Secure cookies: development only.")
@click.pass_obj
def serve(obj: dict, host: str, port: int, insecure_dev: bool) -> None:
    from proctor_console.server import create_server, serve as run
    ctx = _ctx(obj)
    server = create_server(ctx.data, insecure_dev=insecure_dev)
    scheme = "http" if insecure_dev else "https"
    click.echo(f"Invigil console {ctx.centre_id} on {scheme}://{host}:{port}/ "
               f"(TLS fingerprint {ctx.tls_fingerprint})", err=True)
    run(server, host, port, insecure_dev)


@main.command(help="Show a one-time pairing code for a new kiosk (valid 10 minutes).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def pair(obj: dict, as_json: bool) -> None:
    from proctor_console.registry import KioskRegistry
    ctx = _ctx(obj)
    code, expires = KioskRegistry(ctx).new_code("cli")
    _out({"code": code, "expires": expires, "tls_fingerprint_sha256": ctx.tls_fingerprint}, as_json,
         f"Pairing code: {code}\nValid for 10 minutes. Console TLS fingerprint: {ctx.tls_fingerprint}")


@main.group(help="Paired kiosks.")
def kiosks() -> None:
    pass


@kiosks.command("list", help="List paired kiosks with their certificate serial and state.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def kiosks_list(obj: dict, as_json: bool) -> None:
    from proctor_console.registry import KioskRegistry
    rows = KioskRegistry(_ctx(obj)).list()
    _out(rows, as_json, "\n".join(f"{k['kiosk_id']}: paired {k['paired_at']}"
                                  f"{' REVOKED ' + k['revoked_at'] if k['revoked_at'] else ''}" for k in rows)
         or "No kiosks paired.")


@kiosks.command("revoke", help="Revoke a kiosk: it can no longer log in (pair it again to reuse it).")
@click.argument("kiosk_id")
@click.option("--reason", required=True, help="Why (written to the audit chain).")
@click.pass_obj
def kiosks_revoke(obj: dict, kiosk_id: str, reason: str) -> None:
    from proctor_console.registry import KioskRegistry
    try:
        KioskRegistry(_ctx(obj)).revoke(kiosk_id, "cli", reason)
    except InvigilError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"Kiosk {kiosk_id} revoked.")


@main.group(help="Form packages from the central body.")
def packages() -> None:
    pass


@packages.command("import", help="Check signature and centre of each package and store it.")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def packages_import(obj: dict, files: tuple[Path, ...], as_json: bool) -> None:
    from rich.progress import track
    from proctor_console.imports import import_package, list_packages
    ctx = _ctx(obj)
    imported = []
    for file in track(files, description="Importing packages", disable=as_json or len(files) < 2):
        try:
            imported.append(import_package(ctx, file.read_bytes(), str(file), "cli"))
        except InvigilError as exc:
            raise click.ClickException(str(exc))
    available = list_packages(ctx)
    _out({"imported": imported, "available": available}, as_json,
         "\n".join(f"{p['package_id']}: {p['title'] or p['form_id']} v{p['form_version']} ({p['scheme_id']}) "
                   f"{p['opens']} .. {p['closes']}{' [release code]' if p['release_code_required'] else ''}"
                   for p in available))


@packages.command("list", help="List imported packages (sessions).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def packages_list(obj: dict, as_json: bool) -> None:
    from proctor_console.imports import list_packages
    available = list_packages(_ctx(obj))
    _out(available, as_json, "\n".join(f"{p['package_id']}: {p['form_id']} {p['opens']} .. {p['closes']}"
                                       for p in available) or "No packages.")


@main.group(help="The candidate roster.")
def roster() -> None:
    pass


@roster.command("import", help="Import candidates from CSV: candidate_id, name, scheme, seat, accommodations.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def roster_import(obj: dict, file: Path, as_json: bool) -> None:
    from proctor_console.imports import import_roster
    try:
        count = import_roster(_ctx(obj), file.read_bytes(), str(file), "cli")
    except InvigilError as exc:
        raise click.ClickException(str(exc))
    _out({"imported": count}, as_json, f"Imported {count} candidate(s) from {file}.")


@main.command(help="Session report (a session is an imported package id): HTML for printing, or --json.")
@click.argument("session")
@click.option("--json", "as_json", is_flag=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file.")
@click.pass_obj
def report(obj: dict, session: str, as_json: bool, output: Path | None) -> None:
    from proctor_console.report import render_report_html, session_report
    ctx = _ctx(obj)
    try:
        data = session_report(ctx, session)
    except InvigilError as exc:
        raise click.ClickException(str(exc))
    text = json.dumps(data, indent=2, default=str) if as_json else render_report_html(data)
    if output:
        output.write_text(text)
        click.echo(f"Wrote {output}")
    else:
        click.echo(text)


@main.command(help="Delete thumbnails and snapshots older than the retention period.")
@click.option("--days", type=click.IntRange(1, 3650), help="Set the retention period first.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def purge(obj: dict, days: int | None, as_json: bool) -> None:
    from proctor_console.records import purge_media, retention_days
    ctx = _ctx(obj)
    if days is not None:
        ctx.set_setting("retention_days", str(days))
    removed = purge_media(ctx)
    _out({**removed, "retention_days": retention_days(ctx)}, as_json,
         f"Removed {removed['thumbnails']} thumbnail(s) and {removed['snapshots']} snapshot(s) "
         f"older than {retention_days(ctx)} days.")


# --- sync with the central body, air-gap bundles (issue 8) ---------------------------------------
from proctor_console.bundle import export_bundle_command, import_bundle_command  # noqa: E402
from proctor_console.sync import sync_command  # noqa: E402

main.add_command(sync_command)
main.add_command(export_bundle_command)
main.add_command(import_bundle_command)
from proctor_console.attestation_policy import release_allowlist  # noqa: E402

main.add_command(release_allowlist)
