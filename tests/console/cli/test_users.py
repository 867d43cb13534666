"""``users add|list|disable|enable|reset-password|unlock`` through the real CLI (``--by`` is the
audited actor; the same service as the Users page, see web/test_accounts.py)."""

from __future__ import annotations

import json

import pytest

from proctor_console.context import ConsoleContext
from tests.support.console_world import PASSWORD, ConsoleSetup, cli

NEW_PASSWORD = "a different long password"


def test_cli_lists_disables_unlocks_and_resets(console_setup: ConsoleSetup) -> None:
    data = console_setup.data
    cli(data, "users", "add", "carla", "--role", "proctor", "--password-stdin", "--by", "it-desk",
        stdin=PASSWORD + "\n")
    with pytest.raises(AssertionError, match="at least 10"):
        cli(data, "users", "add", "carl", "--role", "proctor", "--password-stdin", stdin="short\n")
    listed = {u["name"]: u for u in json.loads(cli(data, "users", "list", "--json"))}
    assert listed["carla"]["role"] == "proctor" and listed["carla"]["state"] == "active"
    cli(data, "users", "disable", "carla", "--by", "it-desk")
    assert {u["name"]: u for u in json.loads(cli(data, "users", "list", "--json"))}["carla"]["state"] == "disabled"
    cli(data, "users", "enable", "carla", "--by", "it-desk")
    cli(data, "users", "reset-password", "carla", "--by", "it-desk", "--password-stdin", stdin=NEW_PASSWORD + "\n")
    cli(data, "users", "unlock", "carla", "--by", "it-desk")
    with pytest.raises(AssertionError, match="no user named"):
        cli(data, "users", "unlock", "nobody", "--by", "it-desk")
    ctx = ConsoleContext(data)
    actions = [(e.actor, e.action) for e in ctx.audit.entries() if e.data.get("name") == "carla"]
    assert actions == [("it-desk", a) for a in ("user.add", "user.disable", "user.enable", "user.password_reset",
                                                "user.unlock")]
