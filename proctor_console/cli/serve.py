"""``serve``: the dashboard and the kiosk link, built by the composition root (``proctor_console.app``)."""

from __future__ import annotations

from typing import Any

import click

from proctor_console.cli.common import console_context


@click.command(help="Serve the dashboard and the kiosk link (HTTPS; HTTP only with --insecure-dev).")
@click.option("--host", default="0.0.0.0", show_default=True)  # noqa: S104 - the kiosks reach it over the centre's LAN
@click.option("--port", default=8443, show_default=True, type=int)
@click.option("--insecure-dev", is_flag=True, help="Plain HTTP and non-Secure cookies: development only.")
@click.pass_obj
def serve(obj: dict[str, Any], host: str, port: int, insecure_dev: bool) -> None:
    from proctor_console.app import build_console
    from proctor_console.app import serve as run
    ctx = console_context(obj)
    console = build_console(ctx, secure_cookies=not insecure_dev)
    scheme = "http" if insecure_dev else "https"
    click.echo(f"Invigil console {ctx.centre_id} on {scheme}://{host}:{port}/ "
               f"(TLS fingerprint {ctx.tls_fingerprint})", err=True)
    run(console, host, port, insecure_dev)
