"""Command-line interface of `exam_core`."""

from __future__ import annotations

import json
import sys

import click

from exam_core import __version__


@click.group(help="""Invigil shared core: data model, sealing, audit chain, durable store.""")
@click.version_option(__version__, prog_name="exam_core")
def main() -> None:
    pass


@main.command("inspect")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--issuer", "issuer_path", type=click.Path(exists=True, dir_okay=False),
              help="Public key file (or certificate) of the expected signer; checks the signature.")
@click.option("--json", "as_json", is_flag=True, help="Print {kind, header, signature_valid, error} as JSON.")
def inspect_command(file: str, issuer_path: str | None, as_json: bool) -> None:
    """Say what FILE is (form package, response envelope, receipt, certificate, revocation list,
    public key), print its header and, with --issuer, check its signature.

    Exit status 0 when the artefact is valid, 1 when it is not (the reason is printed),
    2 for usage errors (unreadable issuer key).
    """
    from exam_core.errors import InvigilError
    from exam_core.inspect import inspect_bytes, load_issuer, read_artefact

    try:
        issuer = load_issuer(issuer_path) if issuer_path else None
        data = read_artefact(file)
    except (InvigilError, OSError) as exc:
        raise click.UsageError(str(exc)) from None
    result = inspect_bytes(data, issuer)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    else:
        _print_human(file, result)
    sys.exit(0 if result.ok else 1)


def _print_human(file: str, result) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    table = Table(title=f"{file}: {result.kind}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for name, value in result.header.items():
        table.add_row(escape(name), escape(value if isinstance(value, str) else json.dumps(value)))
    console.print(table)
    status = {True: "[green]valid[/]", False: "[red]INVALID[/]", None: "not checked (no --issuer given)"}
    console.print(f"signature: {status[result.signature_valid]}")
    if result.error:
        console.print(f"[red]error:[/] {escape(result.error)}", highlight=False)
