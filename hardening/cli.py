"""Command-line interface of `hardening`."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from hardening import __version__
from hardening.errors import HardeningError, PolicyError

if TYPE_CHECKING:
    from hardening.policy import Policy

POLICY_HELP = "Policy file (YAML), or a builtin policy name: default, development."
STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red"}


def _load_policy(source: str | None) -> Policy:
    from hardening.policy import load_policy

    try:
        return load_policy(source)
    except PolicyError as exc:
        raise click.UsageError(f"policy {source or 'default'}: {exc}") from None


@click.group(help="""Invigil kiosk hardening: preflight checks, lockdown, provisioning, attestation.""")
@click.version_option(__version__, prog_name="hardening")
def main() -> None:
    pass


@main.command(help="Check that this machine is fit for an exam. Exit 0 when no failure blocks.")
@click.option("--policy", "policy_source", metavar="FILE|NAME", help=POLICY_HELP)
@click.option("--console", metavar="URL", help="Console URL to measure clock skew against "
              "(a /time endpoint answering JSON, or any page with a Date header).")
@click.option("--console-cafile", type=click.Path(exists=True, dir_okay=False),
              help="CA file pinning the console's TLS certificate for --console over https.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def check(policy_source: str | None, console: str | None, console_cafile: str | None,
          as_json: bool) -> None:
    from hardening.preflight import run_preflight

    policy = _load_policy(policy_source)
    report = run_preflight(policy, console=console, cafile=console_cafile)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, sort_keys=True))
    else:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=f"Preflight checks (policy: {policy.name})")
        for column in ("check", "status", "blocks", "evidence"):
            table.add_column(column, overflow="fold")
        for result in report.checks:
            style = STATUS_STYLE[result.status]
            blocks = "yes" if result.name in report.blocking else ""
            table.add_row(result.name, f"[{style}]{result.status}[/]", blocks,
                          escape(result.evidence.get("summary", "")))  # process names are hostile input
        out = Console()
        out.print(table)
        verdict = "[green]fit for an exam[/]" if report.ok else \
            f"[bold red]blocked by: {', '.join(report.blocking)}[/]"
        out.print(verdict)
    sys.exit(0 if report.ok else 1)


def _print_restore(report, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
        return
    for line in report.undone:
        click.echo(f"undone: {line}")
    for line in report.notes:
        click.echo(f"note: {line}")
    if not report.undone and not report.notes:
        click.echo("nothing to restore")


@main.command(help="Lock this machine into the exam browser until it exits, then undo every change.")
@click.option("--url", required=True, help="Kiosk URL; its origin is the only one the browser may load.")
@click.option("--policy", "policy_source", metavar="FILE|NAME", help=POLICY_HELP)
@click.option("--policy-dir", type=click.Path(file_okay=False),
              help="Chromium managed-policy directory (default from the policy: /etc/chromium/policies/managed).")
@click.option("--journal", type=click.Path(dir_okay=False), help="Restore journal path (default from the policy).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def lockdown(url: str, policy_source: str | None, policy_dir: str | None, journal: str | None,
             as_json: bool) -> None:
    from hardening.lockdown import run_lockdown, settings_from_policy

    policy = _load_policy(policy_source)
    try:
        settings = settings_from_policy(url, policy, policy_dir, journal)
    except PolicyError as exc:
        raise click.BadParameter(str(exc), param_hint="--url") from None
    try:
        result = run_lockdown(settings, policy)
    except HardeningError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        grabs = result.grabs
        click.echo(json.dumps({"browser_exit": result.browser_exit,
                               "grabbed": grabs.grabbed if grabs else [],
                               "grab_failed": grabs.failed if grabs else {},
                               "swallowed": len(grabs.swallowed) if grabs else 0,
                               "restore": result.restore.to_dict()}, indent=2))
    else:
        click.echo(f"browser exited with {result.browser_exit}")
        _print_restore(result.restore, False)


@main.command(help="Undo what a crashed or killed lockdown left behind (run at every boot).")
@click.option("--policy", "policy_source", metavar="FILE|NAME", help=POLICY_HELP)
@click.option("--journal", type=click.Path(dir_okay=False), help="Restore journal path (default from the policy).")
@click.option("--json", "as_json", is_flag=True, help="Print what was undone as JSON.")
def restore(policy_source: str | None, journal: str | None, as_json: bool) -> None:
    from hardening.restore_journal import restore_pending

    path = journal or _load_policy(policy_source)["lockdown"]["journal"]
    try:
        report = restore_pending(path)
    except HardeningError as exc:
        raise click.ClickException(str(exc)) from None
    _print_restore(report, as_json)


@main.command(help="Print this kiosk's release measurement (code or frozen binary, plus policy).")
@click.option("--policy", "policy_source", metavar="FILE|NAME", help=POLICY_HELP)
@click.option("--path", "paths", multiple=True, type=click.Path(exists=True),
              help="Measure these files or package directories instead of the installed code.")
@click.option("--json", "as_json", is_flag=True, help="Print the measurement with its file list as JSON.")
def measure(policy_source: str | None, paths: tuple[str, ...], as_json: bool) -> None:
    from hardening.attestation import measure as measure_release

    result = measure_release(_load_policy(policy_source), list(paths) or None)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        click.echo(f"{result.digest}  ({result.kind}, {len(result.files)} files, policy {result.policy_sha256[:12]})")


@main.command(help="Write an OS provisioning bundle for kiosk machines into DIR (applies nothing).")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Directory to create.")
@click.option("--url", default="http://127.0.0.1:8470/", show_default=True,
              help="Kiosk URL (the browser's only origin).")
@click.option("--user", default="invigil-kiosk", show_default=True, help="Dedicated kiosk account.")
@click.option("--kiosk-command", help="Command the session runs (default: the built binary's `run`).")
@click.option("--hardening-command", help="Command prefix of `hardening` (default: the built binary's).")
@click.option("--policy", "policy_source", metavar="FILE|NAME", help=POLICY_HELP)
def provision(out: str, url: str, user: str, kiosk_command: str | None, hardening_command: str | None,
              policy_source: str | None) -> None:
    from exam_core.errors import ValidationError
    from hardening.provision import BundleSettings, write_bundle

    defaults = BundleSettings()
    settings = BundleSettings(url=url, user=user,
                              kiosk_command=kiosk_command or defaults.kiosk_command.replace(defaults.url, url),
                              hardening_command=hardening_command or defaults.hardening_command)
    try:
        files = write_bundle(out, _load_policy(policy_source), settings)
    except ValidationError as exc:
        raise click.BadParameter(exc.reason, param_hint=f"--{exc.field.replace('_', '-')}") from None
    except HardeningError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {len(files)} files to {out}; read {out}/README.md, then run install.sh on the kiosk")
