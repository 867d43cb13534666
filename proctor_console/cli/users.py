"""``users add|list|disable|enable|unlock|reset-password``: accounts, through ``Accounts`` as on
the Users page (``--by`` names who acts, for the audit chain)."""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

import click

from proctor_console import services
from proctor_console.accounts import ROLES, Accounts
from proctor_console.cli.common import console_context, out, read_password, refusals


@click.group(help="Proctor and centre admin accounts.")
def users() -> None:
    pass


@users.command("add", help="Add an account; the password is asked for (or read from stdin).")
@click.argument("name")
@click.option("--role", type=click.Choice(list(ROLES)), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.option("--by", default="cli", show_default=True, help="Who adds it (written to the audit chain).")
@click.pass_obj
def users_add(obj: dict[str, Any], name: str, role: str, password_stdin: bool, by: str) -> None:
    service = services.accounts(console_context(obj))
    with refusals():
        service.add(name, role, read_password(password_stdin), by=by)
    click.echo(f"User {name} ({role}) added.")


@users.command("list", help="List accounts: role, state (active, locked, disabled), last login.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def users_list(obj: dict[str, Any], as_json: bool) -> None:
    rows = services.accounts(console_context(obj)).listing()
    out(rows, as_json, "\n".join(f"{u['name']}: {u['role']}, {u['state']}"
                                 f"{' until ' + u['locked_until'] if u['locked_until'] else ''}"
                                 f", last login {u['last_login'] or 'never'}" for u in rows) or "No users.")


def _account_change(obj: dict[str, Any], change: Callable[[Accounts], object], done: str) -> None:
    service = services.accounts(console_context(obj))
    with refusals():
        change(service)
    click.echo(done)


def _state_command(command: str, help_text: str, change: Callable[[Accounts, str, str], object],
                   done: str) -> None:
    """``users disable|enable|unlock NAME --by WHO``: one account change, audited with WHO."""
    @users.command(command, help=help_text)
    @click.argument("name")
    @click.option("--by", required=True, help="Who does it (written to the audit chain).")
    @click.pass_obj
    def run(obj: dict[str, Any], name: str, by: str) -> None:
        _account_change(obj, lambda service: change(service, name, by), done.format(name=name))


_state_command("disable", "Disable an account and end its sessions (a running server drops its sockets).",
               lambda service, name, by: service.set_disabled(name, True, by), "User {name} disabled.")
_state_command("enable", "Enable a disabled account (its old sessions stay ended).",
               lambda service, name, by: service.set_disabled(name, False, by), "User {name} enabled.")
_state_command("unlock", "Lift the back-off after repeated wrong passwords.",
               lambda service, name, by: service.unlock(name, by), "User {name} unlocked.")


@users.command("reset-password", help="Set a new password, lift its back-off and end the account's sessions.")
@click.argument("name")
@click.option("--by", required=True, help="Who resets it (written to the audit chain).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.pass_obj
def users_reset_password(obj: dict[str, Any], name: str, by: str, password_stdin: bool) -> None:
    password = read_password(password_stdin)
    _account_change(obj, lambda service: service.reset_password(name, password, by), f"Password of {name} reset.")
