"""``mail send-pending``: send what the outbox holds (for cron, beside or instead of the listener's
sender loop); ``mail status``: how many messages wait, were sent, or were given up.

Exit 1 when the body has not set up its mail, or when messages were given up in this pass (the
operator should look at the relay). Nothing printed names a recipient or holds a body."""

from __future__ import annotations

from dataclasses import asdict

import click
from rich.console import Console
from sqlalchemy import func, select

from item_bank_sync.cli.common import central, emit, fail, json_option, refusals_exit
from item_bank_sync.db.sql import fetch_all
from item_bank_sync.mail import Mailer, load_settings
from item_bank_sync.mail.outbox import send_pending
from item_bank_sync.mail.schema import mail_outbox


@click.group("mail")
def mail_group() -> None:
    """The body's outgoing mail (the outbox)."""


@mail_group.command("send-pending")
@json_option
@click.pass_context
@refusals_exit
def send_pending_command(ctx: click.Context) -> None:
    """Send every message that is due; failures wait and are retried with back-off."""
    body = central(ctx)
    settings = load_settings(body.data_dir)
    if settings is None:
        fail(ctx, "mail: no relay set up (item_bank_sync public --smtp-host ... --mail-from ...)")
    report = send_pending(body.open_bank_db(), Mailer(settings))

    def human(console: Console) -> None:
        console.print(f"sent {report.sent}, to retry {report.retried}, given up {report.given_up}, "
                      f"waiting {report.waiting}", highlight=False)

    emit(ctx, asdict(report), human)
    if report.given_up:
        ctx.exit(1)


@mail_group.command("status")
@json_option
@click.pass_context
@refusals_exit
def status_command(ctx: click.Context) -> None:
    """Messages in the outbox by state (pending, sent, failed)."""
    rows = fetch_all(central(ctx).open_bank_db(), select(mail_outbox.c.state, func.count())
                     .group_by(mail_outbox.c.state))
    counts = {"pending": 0, "sent": 0, "failed": 0} | {str(r[0]): int(r[1]) for r in rows}

    def human(console: Console) -> None:
        console.print(", ".join(f"{k} {v}" for k, v in counts.items()), highlight=False)

    emit(ctx, counts, human)
