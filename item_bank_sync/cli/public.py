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
@click.option("--portal/--no-portal", default=True, show_default=True,
              help="Serve the candidate portal under /portal on the same listener.")
@click.option("--smtp-host", help="Mail relay for the portal's mail (saved in DATA/mail.json with the two below).")
@click.option("--smtp-port", type=click.IntRange(1, 65535), default=587, show_default=True, help="Its port.")
@click.option("--mail-from", help="Sender address of the portal's mail.")
@click.option("--smtp-starttls/--smtp-no-starttls", default=None,
              help="Require STARTTLS (default: yes unless the relay is on the loopback; always with a user).")
@click.option("--smtp-user", help="User name for the relay's AUTH (LOGIN or PLAIN, after STARTTLS).")
@click.option("--smtp-password-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="File holding the relay's password, mode 0600 (never the password itself on the command line).")
@click.pass_context
@refusals_exit
def public_command(ctx: click.Context, host: str, port: int, cert: Path | None, key: Path | None,
                   insecure_dev: bool, portal: bool, smtp_host: str | None, smtp_port: int, mail_from: str | None,
                   smtp_starttls: bool | None, smtp_user: str | None, smtp_password_file: Path | None) -> None:
    """Run the public site: certificate verification pages and API, issuer keys, status lists (HTTPS),
    the candidate portal, and the sender of the mail outbox."""
    from flask import Flask

    from item_bank_sync.mail import MailSettings, save_settings
    from item_bank_sync.mail.outbox import sending
    from item_bank_sync.portal.web import install
    from item_bank_sync.public.server import serve_public

    body = central(ctx)
    if (smtp_host is None) != (mail_from is None):
        raise click.UsageError("--smtp-host and --mail-from go together")
    if smtp_host is not None and mail_from is not None:
        password = None if smtp_password_file is None else str(smtp_password_file.resolve())
        save_settings(body.data_dir, MailSettings(smtp_host, smtp_port, mail_from, smtp_starttls, smtp_user, password))

    def with_portal(app: Flask) -> int:
        return install(app, body, sender=sender, secure_cookies=not insecure_dev)

    if (cert is None) != (key is None):
        raise click.UsageError("--cert and --key go together")

    def ready(where: str) -> None:
        err_console.print(f"public site listening on {where}", highlight=False)

    with sending(body.open_bank_db(), body.data_dir) as sender:   # the outbox: mail the pages wrote
        serve_public(body, host, port, insecure_dev, ready, cert, key, extend=with_portal if portal else None)
