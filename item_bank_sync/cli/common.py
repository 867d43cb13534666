"""What every central-body command shares: ``--json``, output, errors and exit codes.

Exit codes: 0 success; 1 the command ran but refused something (a rejected import, an
unsatisfiable blueprint, a bad input file, a missing key); 2 usage errors (click's own) and a data
directory ``init`` did not make (nothing is created there).
"""

from __future__ import annotations

import functools
import getpass
import json
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click
from rich.console import Console
from sqlalchemy import Engine

from exam_core.errors import InvigilError
from item_bank_sync.context import CentralContext, UninitialisedDataError

#: Human output goes to stdout; progress and errors to stderr so ``--json`` stdout stays clean.
err_console = Console(stderr=True)


def central(ctx: click.Context) -> CentralContext:
    """The CentralContext the group put in ``ctx.obj`` (commands always run under the group)."""
    obj = ctx.find_object(CentralContext)
    if obj is None:
        raise click.UsageError("run this command through `python -m item_bank_sync`")
    return obj


def results_db(ctx: click.Context) -> Engine:
    """The results store of the central body (its engine is closed with the context)."""
    return central(ctx).open_results_db()


def json_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--json`` to a command; it sets ``CentralContext.json_output`` before the command runs."""

    def set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        if value:
            central(ctx).json_output = True
        return value

    return click.option("--json", "json_output", is_flag=True, expose_value=False, is_eager=True,
                        callback=set_json, help="Print machine-readable JSON on stdout.")(fn)


def emit(ctx: click.Context, data: Any, human: Callable[[Console], None] | None = None) -> None:
    """Print ``data`` as JSON with ``--json``, else call ``human`` with a rich console."""
    if central(ctx).json_output or human is None:
        click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))
    else:
        human(Console())


def fail(ctx: click.Context, message: str, code: int = 1, data: dict[str, Any] | None = None) -> NoReturn:
    """Report a refusal (as ``{"error": ...}`` with ``--json``) and exit with ``code``."""
    if central(ctx).json_output:
        click.echo(json.dumps({"error": message, **(data or {})}, indent=2, sort_keys=True))
    else:
        err_console.print(f"[red]error:[/red] {message}", highlight=False, markup=True)
    ctx.exit(code)


def refusals_exit(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn an ``InvigilError`` (or a bad input file) into a clear message and exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        try:
            return fn(*args, **kwargs)
        except UninitialisedDataError:
            raise  # exit code 2 from the group (cli.main.CentralGroup), as for usage errors
        except InvigilError as exc:
            fail(ctx, str(exc))
        except OSError as exc:
            fail(ctx, f"{exc.filename or ''}: {exc.strerror or exc}")
        finally:
            central(ctx).close()

    return wrapper


def default_actor() -> str:
    """The login name, recorded as who acted when ``--by`` is not given."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def actor_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--by NAME``: who acts, recorded in the bank and the audit chain."""
    return click.option("--by", "actor", default=default_actor, show_default="current user",
                        help="Who acts (recorded in the audit chain).")(fn)


def progress_enabled(ctx: click.Context) -> bool:
    """Progress bars only for a person watching a terminal, never into ``--json`` output."""
    return sys.stderr.isatty() and not central(ctx).json_output
