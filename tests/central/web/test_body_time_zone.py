"""The body's time zone: set at ``init --time-zone``, changed with ``body time-zone`` or on the body
settings page (the same audit entry; an administrator's action once staff accounts exist), refused
when the zone database does not know it, and used by the staff pages for every time shown."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import expect

from exam_core.websec.csrf import FORM_FIELD
from item_bank_sync.context import CentralContext
from item_bank_sync.staff.accounts import StaffBook
from tests.support.body_pages import audit_entries, look, origin
from tests.support.central_cli import Central
from tests.support.staff_web import PASSWORD, StaffAccount, StaffWeb, sign_in


def _body(central: Central) -> dict:
    return json.loads((central.data_dir / "keys" / "body.json").read_text("utf-8"))


def test_init_takes_a_time_zone_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    refused = Central(tmp_path / "typo").run("init", "--body-id", "b", "--name", "B", "--time-zone", "Europe/Pariss")
    assert refused.exit_code != 0 and "not a time zone" in refused.output + refused.stderr
    assert not (tmp_path / "typo" / "keys" / "body.json").exists()          # nothing made on a refusal
    for hostile in ("../../etc/passwd", "/etc/localtime", "", "x" * 65):
        assert Central(tmp_path / "h").run("init", "--body-id", "b", "--name", "B", "--time-zone", hostile).exit_code
    central = Central(tmp_path / "paris")
    summary = central.json("init", "--body-id", "b", "--name", "B", "--time-zone", "Europe/Paris")
    assert summary["time_zone"] == "Europe/Paris" and _body(central)["time_zone"] == "Europe/Paris"
    assert central.json("body", "show") == {"body_id": "b", "name": "B", "time_zone": "Europe/Paris",
                                            "rules_version": "1"}


def test_body_time_zone_changes_it_audited_and_only_by_an_administrator(central: Central) -> None:
    assert central.json("body", "show")["time_zone"] == "UTC"                # init without --time-zone
    assert central.json("body", "time-zone", "Europe/Helsinki", "--by", "setup") == {"time_zone": "Europe/Helsinki"}
    bad = central.run("body", "time-zone", "Mars/Olympus", "--by", "setup")
    assert bad.exit_code != 0 and _body(central)["time_zone"] == "Europe/Helsinki"
    ctx = CentralContext(data_dir=central.data_dir)
    StaffBook(ctx).add("ada", PASSWORD, ("admin",), "setup")
    StaffBook(ctx).add("rita", PASSWORD, ("reviewer",), "setup")
    ctx.close()
    refused = central.run("body", "time-zone", "UTC", "--by", "rita", "--json")
    assert refused.exit_code == 1 and "does not hold the role admin" in json.loads(refused.output)["error"]
    central.json("body", "time-zone", "Europe/Paris", "--by", "ada")
    assert audit_entries(central.data_dir, "body.time-zone") == [
        {"actor": "setup", "data": {"time_zone": "Europe/Helsinki", "previous": None}},
        {"actor": "ada", "data": {"time_zone": "Europe/Paris", "previous": "Europe/Helsinki"}}]


def test_the_staff_pages_show_times_in_the_zone_set(central: Central, browser) -> None:
    central.json("body", "time-zone", "Europe/Helsinki", "--by", "setup")
    web = StaffWeb(central.data_dir)
    try:
        web.book.add("audrey", PASSWORD, ("auditor",), "test-setup")
        page = sign_in(browser, web, StaffAccount("audrey", ("auditor",), PASSWORD))
        expect(page.locator("footer")).to_contain_text("times in Europe/Helsinki")
        page.goto(f"{web.url}/audit")
        expect(page.locator("main")).to_contain_text("EET")
        page.context.close()
    finally:
        web.close()


def test_the_settings_page_sets_it_as_the_cli_does(central: Central, signed_in_page) -> None:
    """Same function, same audit entry, same actor; applied to the pages at once; markup in the
    field shown as text in the refusal; only an administrator (the auditor reads, cannot post)."""
    page = signed_in_page("ada", ("admin",))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Body settings").click()
    expect(page.locator("#current-zone")).to_have_text("UTC")
    assert look(page, "body-settings") == []
    page.get_by_label("Time zone").fill('<b>Europe/Paris</b><script>1</script>')
    page.get_by_role("button", name="Set the time zone").click()
    expect(page.get_by_role("alert")).to_contain_text("<b>Europe/Paris</b><script>1</script>")
    assert page.locator("main b, main script").count() == 0
    page.goto(f"{origin(page)}/admin/body")
    page.get_by_label("Time zone").fill("Europe/Helsinki")
    page.get_by_role("button", name="Set the time zone").click()
    expect(page.get_by_role("status")).to_contain_text("Times are now shown in Europe/Helsinki")
    expect(page.locator("footer")).to_contain_text("times in Europe/Helsinki")
    central.json("body", "time-zone", "Europe/Paris", "--by", "ada")
    assert audit_entries(central.data_dir, "body.time-zone") == [
        {"actor": "ada", "data": {"time_zone": "Europe/Helsinki", "previous": None}},
        {"actor": "ada", "data": {"time_zone": "Europe/Paris", "previous": "Europe/Helsinki"}}]
    auditor = signed_in_page("audrey", ("auditor",))
    auditor.goto(f"{origin(auditor)}/admin/body")
    token = auditor.locator(f"input[name={FORM_FIELD}]").first.get_attribute("value") or ""
    answer = auditor.request.post(f"{origin(auditor)}/admin/body", form={FORM_FIELD: token, "time_zone": "UTC"})
    assert answer.status == 403 and _body(central)["time_zone"] == "Europe/Paris"
