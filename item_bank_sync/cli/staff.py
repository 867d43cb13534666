"""``staff add|list|disable|enable|reset-password|roles`` and ``web``: the body's staff and their
web application; and the ``--by`` check every acting command passes through (:func:`guard_actors`).

Once a body has staff accounts, ``--by NAME`` must name an enabled account holding the role the
command needs (``item_bank_sync/staff/duties.py`` says which); a body without accounts keeps the
old behaviour (any name), so demonstrations and scripted set-ups work unchanged.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from item_bank_sync.cli.common import actor_option, central, emit, fail, json_option, refusals_exit
from item_bank_sync.staff.accounts import StaffBook, StaffMember
from item_bank_sync.staff.duties import may
from item_bank_sync.staff.roles import ROLES


@click.group("staff", help="The body's staff accounts and roles (the web application's sign-ins).")
def staff_group() -> None:
    pass


def _read_password(from_stdin: bool) -> str:
    """The password from one line of stdin (``--password-stdin``), or asked twice without echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True))


def _show(ctx: click.Context, member: StaffMember) -> None:
    emit(ctx, member.as_dict(), lambda console: console.print(
        f"{member.name}: {', '.join(sorted(member.roles))} ({'enabled' if member.enabled else 'disabled'})",
        highlight=False, markup=False))


@staff_group.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES), help="A role (repeatable).")
@click.option("--password-stdin", is_flag=True, help="Read the password from one line of stdin.")
@actor_option
@json_option
@click.pass_context
@refusals_exit
def staff_add_command(ctx: click.Context, name: str, roles: tuple[str, ...], password_stdin: bool, actor: str) -> None:
    """Add a person with their roles; they set up their TOTP app at first sign-in."""
    _show(ctx, StaffBook(central(ctx)).add(name, _read_password(password_stdin), roles, actor))


@staff_group.command("list")
@json_option
@click.pass_context
@refusals_exit
def staff_list_command(ctx: click.Context) -> None:
    """Every staff account with its roles and state."""
    people = StaffBook(central(ctx)).all()

    def human(console: Console) -> None:
        for p in people:
            console.print(f"{p.name}\t{','.join(sorted(p.roles))}\t{'enabled' if p.enabled else 'disabled'}\t"
                          f"{'totp' if p.second_factor else 'no totp yet'}",
                          highlight=False, markup=False, soft_wrap=True)
    emit(ctx, {"staff": [p.as_dict() for p in people]}, human)


def _simple(action: str, help_text: str, call: Callable[[StaffBook, str, str], StaffMember]) -> click.Command:
    @click.command(action, help=help_text)
    @click.argument("name")
    @actor_option
    @json_option
    @click.pass_context
    @refusals_exit
    def command(ctx: click.Context, name: str, actor: str) -> None:
        _show(ctx, call(StaffBook(central(ctx)), name, actor))
    return command


staff_group.add_command(_simple("disable", "Disable an account: its web sessions end at once.",
                                lambda book, name, by: book.disable(name, by)))
staff_group.add_command(_simple("enable", "Enable a disabled account again.",
                                lambda book, name, by: book.enable(name, by)))
staff_group.add_command(_simple("reset-second-factor",
                                "Forget a person's TOTP app and recovery codes (a lost phone); they enrol again at "
                                "their next sign-in, and their sessions end.",
                                lambda book, name, by: book.reset_second_factor(name, by)))


@staff_group.command("reset-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the new password from one line of stdin.")
@actor_option
@json_option
@click.pass_context
@refusals_exit
def staff_reset_password_command(ctx: click.Context, name: str, password_stdin: bool, actor: str) -> None:
    """Set a new password for a person; every web session of theirs ends."""
    _show(ctx, StaffBook(central(ctx)).reset_password(name, _read_password(password_stdin), actor))


@staff_group.command("roles")
@click.argument("name")
@click.option("--grant", "grants", multiple=True, type=click.Choice(ROLES), help="A role to grant (repeatable).")
@click.option("--revoke", "revokes", multiple=True, type=click.Choice(ROLES), help="A role to revoke (repeatable).")
@actor_option
@json_option
@click.pass_context
@refusals_exit
def staff_roles_command(ctx: click.Context, name: str, grants: tuple[str, ...], revokes: tuple[str, ...],
                        actor: str) -> None:
    """Grant and revoke roles (grants first); without either, show the person's roles."""
    book = StaffBook(central(ctx))
    member = book.require(name)
    for role in grants:
        member = book.grant(name, role, actor)
    for role in revokes:
        member = book.revoke(name, role, actor)
    _show(ctx, member)


@click.command("web")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8443, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--cert", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="PEM certificate to serve (default: the body's own self-signed one).")
@click.option("--key", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="PEM key of --cert.")
@click.pass_context
@refusals_exit
def web_command(ctx: click.Context, host: str, port: int, cert: Path | None, key: Path | None) -> None:
    """Run the staff web application over HTTPS (its own listener, not the centres' sync API)."""
    from item_bank_sync.mail.outbox import sending
    from item_bank_sync.web.server import serve_web
    if (cert is None) != (key is None):
        fail(ctx, "give --cert and --key together", code=2)
    with sending(central(ctx).open_bank_db(), central(ctx).data_dir):   # the mail staff decisions wrote
        serve_web(central(ctx), host, port, cert, key,
                  on_ready=lambda url: click.echo(f"staff web application on {url}", err=True))


# --- the --by check of every acting command ------------------------------------------------------

def check_actor(ctx: click.Context, action: str, actor: str | None) -> None:
    """Refuse ``actor`` for ``action`` once the body has staff accounts and they may not do it."""
    if actor is None:
        return
    book = StaffBook(central(ctx))
    if not book.any_accounts():
        return  # no accounts yet: today's behaviour (any name), see the module docstring
    member = book.get(actor)
    verdict = may(actor, member.roles if member else frozenset(), bool(member and member.enabled), action)
    if member is None:
        fail(ctx, f"--by {actor}: no staff account of that name (this body has staff accounts; "
                  "`staff list` shows them)")
    if not verdict:
        fail(ctx, f"--by {actor}: {verdict.reason}")


def _by_param(command: click.Command) -> str | None:
    for param in command.params:
        if isinstance(param, click.Option) and "--by" in param.opts:
            return param.name
    return None


def guard_actors(group: click.Group, prefix: str = "") -> None:
    """Wrap every command under ``group`` that takes ``--by`` with :func:`check_actor` (its action
    is its command path with dots: ``items.approve``)."""
    for name, command in group.commands.items():
        action = f"{prefix}{name}"
        if isinstance(command, click.Group):
            guard_actors(command, f"{action}.")
            continue
        param = _by_param(command)
        if param is None or command.callback is None or getattr(command.callback, "_actor_guarded", False):
            continue
        command.callback = _guarded(command.callback, action, param)


def _guarded(callback: Callable[..., Any], action: str, param: str) -> Callable[..., Any]:
    @functools.wraps(callback)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        check_actor(click.get_current_context(), action, kwargs.get(param))
        return callback(*args, **kwargs)
    wrapper._actor_guarded = True  # type: ignore[attr-defined]
    return wrapper
