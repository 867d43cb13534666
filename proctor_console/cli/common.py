"""What every console command shares: the data directory, output, and turning a refusal into a
one-line error with exit code 1 (the services come from ``proctor_console.services``)."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from collections.abc import Callable, Iterator

import click

from exam_core.errors import InvigilError
from proctor_console.context import ConsoleContext

DEFAULT_DATA = Path("console-data")
F = TypeVar("F", bound=Callable[..., Any])


def data_option(fn: F) -> F:
    """``--data`` on a subcommand too (same as the global option)."""
    return click.option("--data", "data_opt", type=click.Path(file_okay=False, path_type=Path),
                        help="Console data directory (same as the global option).")(fn)


def by_option(fn: F) -> F:
    """``--by WHO``: the actor the audit chain records (the web face records the logged-in user)."""
    return click.option("--by", default="cli", show_default=True,
                        help="Who does it (written to the audit chain).")(fn)


def console_context(obj: Any, data_opt: Path | None = None) -> ConsoleContext:
    """The console of the data directory given, which must exist (``init`` makes one)."""
    ctx = ConsoleContext(data_opt or (obj or {}).get("data", DEFAULT_DATA))
    if not ctx.exists():
        raise click.ClickException(f"{ctx.data}: not a console data directory; run `init` first")
    return ctx


@contextmanager
def refusals(prefix: str = "") -> Iterator[None]:
    """A refusal (any ``InvigilError``) becomes a clear one-line error and exit code 1."""
    try:
        yield
    except InvigilError as exc:
        raise click.ClickException(f"{prefix}{exc}") from None


def out(data: Any, as_json: bool, text: str) -> None:
    click.echo(json.dumps(data, indent=2, default=str) if as_json else text)


def read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
