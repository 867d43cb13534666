"""Command-line interface of `hardening`."""

from __future__ import annotations

import json
import sys

import click

from hardening import __version__
from hardening.errors import HardeningError, PolicyError

POLICY_HELP = "Policy file (YAML), or a builtin policy name: default, development."
STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red"}


def _load_policy(source: str | None):
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
        from rich.table import Table

        table = Table(title=f"Preflight checks (policy: {policy.name})")
        for column in ("check", "status", "blocks", "evidence"):
            table.add_column(column, overflow="fold")
        for result in report.checks:
            style = STATUS_STYLE[result.status]
            blocks = "yes" if result.name in report.blocking else ""
            table.add_row(result.name, f"[{style}]{result.status}[/]", blocks,
                          result.evidence.get("summary", ""))
        out = Console()
        out.print(table)
        verdict = "[green]fit for an exam[/]" if report.ok else \
            f"[bold red]blocked by: {', '.join(report.blocking)}[/]"
        out.print(verdict)
    sys.exit(0 if report.ok else 1)
