"""``public``: the public verification site (ISO/IEC 17024 7.2) as a second listener beside ``serve``."""

from __future__ import annotations

from pathlib import Path

import click

from item_bank_sync.cli.common import central, err_console, refusals_exit


@click.command("public")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8444, show_default=True, type=click.IntRange(0, 65535), help="TCP port (0: any).")
@click.option("--cert", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="TLS certificate chain issued for the site's name (default: the body's self-signed one).")
@click.option("--key", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Its private key.")
@click.option("--insecure-dev", is_flag=True, help="Plain HTTP for development; never in production.")
@click.pass_context
@refusals_exit
def public_command(ctx: click.Context, host: str, port: int, cert: Path | None, key: Path | None,
                   insecure_dev: bool) -> None:
    """Run the public site: certificate verification pages and API, issuer keys, status lists (HTTPS)."""
    from item_bank_sync.public.server import serve_public

    if (cert is None) != (key is None):
        raise click.UsageError("--cert and --key go together")

    def ready(where: str) -> None:
        err_console.print(f"public site listening on {where}", highlight=False)

    serve_public(central(ctx), host, port, insecure_dev, ready, cert, key)
