"""``audit verify``: check the console's audit chain, and every signed checkpoint in it, against
the centre's key (issue 13: no command did, so a changed or truncated chain went unseen until the
central body asked)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from exam_core.audit import DEFAULT_CHECKPOINT_EVERY, verdict
from proctor_console.cli.common import console_context, data_option, out

#: Entries after the last checkpoint the console's policy can leave (it signs every 50th entry).
MAX_UNPROTECTED = DEFAULT_CHECKPOINT_EVERY - 1


@click.group("audit", help="The console's audit chain.")
def audit_group() -> None:
    pass


@audit_group.command("verify")
@data_option
@click.option("--known-head", metavar="SEQ:HASH",
              help="A head recorded elsewhere (a printed report, another node): the chain must still hold it.")
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
@click.pass_obj
def audit_verify(obj: Any, data_opt: Path | None, known_head: str | None, as_json: bool) -> None:
    """Walk the whole chain, check each checkpoint's signature by the centre key, and refuse an
    unprotected tail longer than the console's policy leaves. Exit status 0 when it verifies, 1
    when it does not (the first entry found wrong and why; never an entry's content)."""
    ctx = console_context(obj, data_opt)
    result = verdict(ctx.audit, ctx.signing_key.public_key(), max_unprotected=MAX_UNPROTECTED,
                     known_head=_known_head(known_head))
    out(result, as_json, _text(result))
    if not result["valid"]:
        raise SystemExit(1)


def _known_head(text: str | None) -> tuple[int, str] | None:
    if text is None:
        return None
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise click.BadParameter("must be SEQ:HASH (a number and 64 hex digits)", param_hint="--known-head")
    return int(seq), digest.lower()


def _text(result: dict[str, Any]) -> str:
    if not result["valid"]:
        return f"audit chain INVALID at entry {result['seq']}: {result['error']}"
    return (f"audit chain valid: {result['entries']} entries, head {result['head']}, "
            f"{result['checkpoints']} signed checkpoints; protected through entry {result['protected_through']}, "
            f"{result['unprotected']} after it (last checkpoint {result['last_checkpoint_time'] or 'none'})")
