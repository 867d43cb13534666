"""``init`` and ``certificate install``: a new console's keys, and the central body's answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from proctor_console.cli.common import console_context, out, refusals
from proctor_console.context import ConsoleContext


@click.command(help="Create centre keys, the console's TLS certificate and the enrolment request.")
@click.option("--data", "data_opt", type=click.Path(file_okay=False, path_type=Path),
              help="Data directory (same as the global option).")
@click.option("--centre-id", required=True, help="Centre identifier agreed with the central body.")
@click.option("--name", required=True, help="Centre name shown on reports.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def init(obj: dict[str, Any], data_opt: Path | None, centre_id: str, name: str, as_json: bool) -> None:
    ctx = ConsoleContext(data_opt or obj["data"])
    with refusals():
        result = ctx.initialise(centre_id, name)
    out(result, as_json, f"Console for {centre_id} created in {ctx.data}\n"
                         f"TLS fingerprint (kiosks pin it): {result['tls_fingerprint_sha256']}\n"
                         f"Send {result['enrolment_request']} to the central body; install its answer with "
                         f"`certificate install FILE`.")


@click.group(help="The centre certificate issued by the central body.")
def certificate() -> None:
    pass


@certificate.command("install", help="Install the centre certificate (a bundle with the root, or --root).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--root", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Central root certificate.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def certificate_install(obj: dict[str, Any], file: Path, root: Path | None, as_json: bool) -> None:
    ctx = console_context(obj)
    with refusals(f"{file}: "):
        result = ctx.install_certificate(file.read_bytes(), root.read_bytes() if root else None)
    out(result, as_json, f"Installed centre certificate {result['serial']} (valid until {result['not_after']}).")
