"""Command-line interface of `exam_core`."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from exam_core import __version__

if TYPE_CHECKING:
    from exam_core.inspect import Inspection


@click.group(help="""Invigil shared core: data model, sealing, audit chain, durable store.""")
@click.version_option(__version__, prog_name="exam_core")
def main() -> None:
    pass


@main.command("inspect")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--issuer", "issuer_path", type=click.Path(exists=True, dir_okay=False),
              help="Public key file of the expected signer, or its certificate (then --root is required); "
                   "checks the signature.")
@click.option("--root", "root_path", type=click.Path(exists=True, dir_okay=False),
              help="The central body's public key file or self-signed root certificate: the anchor an "
                   "--issuer certificate's chain is verified against.")
@click.option("--via", "via_paths", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Intermediate certificate between --root and an --issuer certificate (e.g. the centre "
                   "certificate when the issuer is a kiosk); repeat in order from the root.")
@click.option("--revocations", "revocation_paths", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Signed revocation list applied to the --issuer certificate's chain; repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print {kind, header, signature_valid, error} as JSON.")
def inspect_command(file: str, issuer_path: str | None, root_path: str | None, via_paths: tuple[str, ...],
                    revocation_paths: tuple[str, ...], as_json: bool) -> None:
    """Say what FILE is (form package, response envelope, receipt, certificate, revocation list,
    public key), print its header and, with --issuer, check its signature.

    An --issuer certificate is trusted only through its chain: it must be issued (directly or
    --via intermediates) by --root and be valid now.

    Exit status 0 when the artefact is valid, 1 when it is not or its issuer certificate fails its
    chain (the reason is printed), 2 for usage errors (unreadable issuer or root, certificate
    without --root).
    """
    from exam_core.errors import ArtefactError, InvigilError
    from exam_core.inspect import inspect_bytes, load_issuer, load_root, read_artefact, untrusted_issuer

    if issuer_path is None and (root_path or via_paths or revocation_paths):
        raise click.UsageError("--root, --via and --revocations need --issuer")
    try:
        data = read_artefact(file)
        root = load_root(root_path) if root_path else None
        issuer = load_issuer(issuer_path, root, via_paths, revocation_paths) if issuer_path else None
    except ArtefactError as exc:  # the issuer certificate's chain failed: the artefact is not verified
        result = untrusted_issuer(data, exc)
    except (InvigilError, OSError) as exc:
        raise click.UsageError(str(exc)) from None
    else:
        result = inspect_bytes(data, issuer)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    else:
        _print_human(file, result)
    sys.exit(0 if result.ok else 1)


def _print_human(file: str, result: Inspection) -> None:
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
