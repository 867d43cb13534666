"""CLI/page parity for staff administration: one test per action, the page's audit entry against
the CLI's (same action name, same actor, same data but for the person acted on)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from playwright.sync_api import expect

from sqlalchemy import update

from item_bank_sync.cli.main import main
from item_bank_sync.db.sql import write
from item_bank_sync.staff.schema import staff_accounts
from item_bank_sync.staff.signins import SignIns
from tests.support.staff_web import PASSWORD


def _cli(staff_web, *args: str, password: str | None = None) -> None:
    result = CliRunner().invoke(main, ["--data", str(staff_web.ctx.data_dir), "staff", *args, "--json"],
                                input=None if password is None else password + "\n", catch_exceptions=False)
    assert result.exit_code == 0, (result.stdout, result.stderr)


def _last(staff_web, action: str) -> dict[str, Any]:
    entries = [e for e in staff_web.ctx.audit_log().entries() if e.action == action]
    assert entries, action
    return {"actor": entries[-1].actor, "action": entries[-1].action, "data": dict(entries[-1].data)}


def _same_but_name(page_entry: dict[str, Any], cli_entry: dict[str, Any], page_name: str, cli_name: str) -> None:
    cli_as_page = json.loads(json.dumps(cli_entry).replace(f'"{cli_name}"', f'"{page_name}"'))
    assert page_entry == cli_as_page


@pytest.fixture
def admin_page(signed_in_page, staff_member):
    staff_member("alice", "admin")
    for name in ("p-bob", "c-bob"):
        staff_member(name, ("marker",))
    return signed_in_page("alice")


def _person(page, web, name: str) -> None:
    page.goto(f"{web.url}/admin/staff/{name}")


def test_add(admin_page, staff_web):
    page = admin_page
    page.goto(f"{staff_web.url}/admin/staff")
    page.get_by_label("Name", exact=True).fill("p-new")
    page.get_by_label("Password (at least 10 characters").fill(PASSWORD)
    page.get_by_label("Marker: marks extended responses").check()
    page.get_by_label("Registrar: intake, quarantine releases, results export").check()
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("heading", name="Staff account p-new")).to_be_visible()
    page_entry = _last(staff_web, "staff.add")
    _cli(staff_web, "add", "c-new", "--role", "marker", "--role", "registrar", "--password-stdin", "--by", "alice",
         password=PASSWORD)
    _same_but_name(page_entry, _last(staff_web, "staff.add"), "p-new", "c-new")


def test_disable(admin_page, staff_web):
    _person(admin_page, staff_web, "p-bob")
    admin_page.get_by_role("button", name="Disable p-bob").click()
    expect(admin_page.get_by_role("status")).to_contain_text("p-bob is disabled")
    page_entry = _last(staff_web, "staff.disable")
    _cli(staff_web, "disable", "c-bob", "--by", "alice")
    _same_but_name(page_entry, _last(staff_web, "staff.disable"), "p-bob", "c-bob")


def test_enable(admin_page, staff_web):
    for name in ("p-bob", "c-bob"):
        staff_web.book.disable(name, "alice")
    _person(admin_page, staff_web, "p-bob")
    admin_page.get_by_role("button", name="Enable p-bob").click()
    expect(admin_page.get_by_role("status")).to_contain_text("p-bob is enabled")
    page_entry = _last(staff_web, "staff.enable")
    _cli(staff_web, "enable", "c-bob", "--by", "alice")
    _same_but_name(page_entry, _last(staff_web, "staff.enable"), "p-bob", "c-bob")


def test_reset_password(admin_page, staff_web):
    _person(admin_page, staff_web, "p-bob")
    admin_page.get_by_label("New password for p-bob").fill("a brand new password")
    admin_page.get_by_role("button", name="Reset password").click()
    expect(admin_page.get_by_role("status")).to_contain_text("password is reset")
    page_entry = _last(staff_web, "staff.reset_password")
    _cli(staff_web, "reset-password", "c-bob", "--password-stdin", "--by", "alice", password="a brand new password")
    _same_but_name(page_entry, _last(staff_web, "staff.reset_password"), "p-bob", "c-bob")


def test_grant(admin_page, staff_web):
    _person(admin_page, staff_web, "p-bob")
    admin_page.get_by_label("Role to grant").select_option("reviewer")
    admin_page.get_by_role("button", name="Grant role").click()
    expect(admin_page.get_by_role("status")).to_contain_text("now holds the role reviewer")
    page_entry = _last(staff_web, "staff.grant")
    _cli(staff_web, "roles", "c-bob", "--grant", "reviewer", "--by", "alice")
    _same_but_name(page_entry, _last(staff_web, "staff.grant"), "p-bob", "c-bob")


def test_revoke(admin_page, staff_web):
    for name in ("p-bob", "c-bob"):
        staff_web.book.grant(name, "reviewer", "alice")
    _person(admin_page, staff_web, "p-bob")
    admin_page.get_by_label("Role to revoke").select_option("marker")
    admin_page.get_by_role("button", name="Revoke role").click()
    expect(admin_page.get_by_role("status")).to_contain_text("no longer holds the role marker")
    page_entry = _last(staff_web, "staff.revoke")
    _cli(staff_web, "roles", "c-bob", "--revoke", "marker", "--by", "alice")
    _same_but_name(page_entry, _last(staff_web, "staff.revoke"), "p-bob", "c-bob")


def test_reset_second_factor(admin_page, staff_web):
    signins = SignIns(staff_web.book)
    for name in ("p-bob", "c-bob"):  # both with an app set up
        signins.pending_enrolment(name)
        with write(staff_web.book.engine) as tx:
            tx.execute(update(staff_accounts).where(staff_accounts.c.name == name).values(
                totp_sealed=staff_accounts.c.totp_pending_sealed, totp_pending_sealed=None))
    _person(admin_page, staff_web, "p-bob")
    admin_page.get_by_role("button", name="Reset p-bob's second factor").click()
    expect(admin_page.get_by_role("status")).to_contain_text("sets up their authenticator app again")
    assert not staff_web.book.get("p-bob").second_factor
    page_entry = _last(staff_web, "staff.reset_second_factor")
    _cli(staff_web, "reset-second-factor", "c-bob", "--by", "alice")
    _same_but_name(page_entry, _last(staff_web, "staff.reset_second_factor"), "p-bob", "c-bob")
