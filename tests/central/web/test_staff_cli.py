"""``staff add|list|disable|enable|reset-password|roles`` and the ``--by`` check once a body has
staff accounts (a body without accounts keeps accepting any name, as demonstrations need)."""

from __future__ import annotations

import json
from typing import Any

import click

from item_bank_sync.cli.main import main
from item_bank_sync.context import CentralContext
from item_bank_sync.staff.duties import DUTIES
from tests.support.central_cli import Central

PASSWORD = "correct horse battery"


def staff(central: Central, *args: str, password: str | None = None, code: int = 0) -> Any:
    result = central.runner.invoke(main, ["--data", str(central.data_dir), "staff", *args, "--json"],
                                   input=None if password is None else password + "\n", catch_exceptions=False)
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    return json.loads(result.stdout)


def test_add_list_disable_enable_roles_reset(central: Central) -> None:
    added = staff(central, "add", "alice", "--role", "admin", "--role", "reviewer", "--password-stdin", "--by", "setup",
                  password=PASSWORD)
    assert added["roles"] == ["admin", "reviewer"] and added["enabled"] and not added["second_factor"]
    staff(central, "add", "bob", "--role", "marker", "--password-stdin", "--by", "alice", password=PASSWORD)
    assert [p["name"] for p in staff(central, "list")["staff"]] == ["alice", "bob"]
    assert not staff(central, "disable", "bob", "--by", "alice")["enabled"]
    assert staff(central, "enable", "bob", "--by", "alice")["enabled"]
    assert staff(central, "roles", "bob", "--grant", "registrar", "--revoke", "marker", "--by", "alice")["roles"] == [
        "registrar"]
    staff(central, "reset-password", "bob", "--password-stdin", "--by", "alice", password="another password 2")
    actions = [e.action for e in _audit(central) if e.action.startswith("staff.")]
    assert actions == ["staff.add", "staff.add", "staff.disable", "staff.enable", "staff.grant", "staff.revoke",
                       "staff.reset_password"]


def test_passwords_never_reach_the_audit_chain_or_the_output(central: Central) -> None:
    out = staff(central, "add", "alice", "--role", "admin", "--password-stdin", "--by", "setup", password=PASSWORD)
    assert PASSWORD not in json.dumps(out)
    assert all(PASSWORD not in json.dumps(e.data) for e in _audit(central))


def test_by_must_name_an_enabled_account_holding_the_role_once_accounts_exist(central: Central) -> None:
    staff(central, "add", "alice", "--role", "admin", "--password-stdin", "--by", "anyone", password=PASSWORD)
    staff(central, "add", "rita", "--role", "reviewer", "--password-stdin", "--by", "alice", password=PASSWORD)
    refused = staff(central, "add", "x1", "--role", "marker", "--password-stdin", "--by", "rita", password=PASSWORD,
                    code=1)
    assert "does not hold the role admin" in refused["error"]
    refused = staff(central, "add", "x2", "--role", "marker", "--password-stdin", "--by", "mallory",
                    password=PASSWORD, code=1)
    assert "no staff account" in refused["error"]
    staff(central, "disable", "rita", "--by", "alice")
    result = central.run("items", "review", "no-such-item", "--by", "rita", "--json")
    assert result.exit_code == 1 and "disabled" in json.loads(result.output)["error"]


def test_a_body_without_accounts_accepts_any_name(central: Central) -> None:
    result = central.run("items", "review", "no-such-item", "--by", "whoever", "--json")
    assert "staff account" not in result.output  # refused by the bank (no such item), not by --by


def test_the_last_enabled_administrator_cannot_be_disabled_or_lose_the_role(central: Central) -> None:
    staff(central, "add", "alice", "--role", "admin", "--password-stdin", "--by", "setup", password=PASSWORD)
    assert "last enabled administrator" in staff(central, "disable", "alice", "--by", "alice", code=1)["error"]
    staff(central, "roles", "alice", "--grant", "reviewer", "--by", "alice")
    assert "last enabled administrator" in staff(central, "roles", "alice", "--revoke", "admin", "--by", "alice",
                                                 code=1)["error"]


def test_names_and_roles_are_checked(central: Central) -> None:
    bad = staff(central, "add", "<b>x</b>", "--role", "admin", "--password-stdin", "--by", "s", password=PASSWORD,
                code=1)
    assert "name" in bad["error"]
    short = staff(central, "add", "alice", "--role", "admin", "--password-stdin", "--by", "s", password="short",
                  code=1)
    assert "at least 10" in short["error"]


def _audit(central: Central) -> list[Any]:
    ctx = CentralContext(central.data_dir)
    try:
        return list(ctx.audit_log().entries())
    finally:
        ctx.close()


def _acting_commands(group: click.Group, prefix: str = "") -> list[str]:
    found = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _acting_commands(command, f"{prefix}{name}.")
        elif any(isinstance(p, click.Option) and "--by" in p.opts for p in command.params):
            found.append(f"{prefix}{name}")
    return found


def test_every_command_that_acts_has_its_roles_in_the_duties_table() -> None:
    """Fail closed: an acting command missing from staff/duties.py would refuse every --by once a body
    has staff accounts; this names it at once instead."""
    acting = _acting_commands(main)
    assert "items.approve" in acting and "decide" in acting and "staff.add" in acting
    assert [a for a in acting if a not in DUTIES] == []
