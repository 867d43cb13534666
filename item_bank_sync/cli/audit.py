"""``audit verify``: check the central body's audit chain and every signed checkpoint in it against
the central signing key's public half (issue 13, item 14: the consoles got the same command; the
central body had none either)."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console

from exam_core import keys
from exam_core.audit import verdict
from item_bank_sync.cli.common import central, emit, fail, json_option, refusals_exit
from item_bank_sync.context import SIGNING_PUB_FILE

#: The central chain signs a checkpoint in the transaction of every entry: nothing may be unprotected.
MAX_UNPROTECTED = 0


@click.group("audit", help="The central body's audit chain.")
def audit_group() -> None:
    pass


@audit_group.command("verify")
@json_option
@click.pass_context
@refusals_exit
def audit_verify_command(ctx: click.Context) -> None:
    """Walk the whole chain and check each checkpoint's signature by the central key (its public
    half, keys/central-signing.pub: no passphrase needed). Exit status 0 when it verifies, 1 when it
    does not (the first entry found wrong and why; never an entry's content)."""
    context = central(ctx)
    if not context.is_initialised():
        fail(ctx, f"{context.data_dir}: not an initialised central body (run init first)")
    public = keys.load_signing_public_key(context.keys_dir / SIGNING_PUB_FILE)
    result = verdict(context.audit_log(), public, max_unprotected=MAX_UNPROTECTED)
    emit(ctx, result, lambda console: _print(console, result))
    if not result["valid"]:
        ctx.exit(1)


def _print(console: Console, result: dict[str, Any]) -> None:
    if not result["valid"]:
        console.print(f"[red]audit chain INVALID[/] at entry {result['seq']}: {result['error']}", highlight=False)
        return
    console.print(f"audit chain valid: {result['entries']} entries, head {result['head']}, "
                  f"{result['checkpoints']} signed checkpoints, {result['unprotected']} unprotected", highlight=False)
