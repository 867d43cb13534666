"""The version of the body's rules for candidates on the body settings page: the same function and
audit entry as ``body rules-version`` (page and CLI), a malformed version refused with its reason
shown as text, only an administrator may change it (the auditor reads, cannot post)."""

from __future__ import annotations

from playwright.sync_api import expect

from exam_core.websec.csrf import FORM_FIELD
from tests.support.body_pages import audit_entries, look, origin
from tests.support.central_cli import Central


def test_the_settings_page_sets_the_rules_version_as_the_cli_does(central: Central, signed_in_page) -> None:
    page = signed_in_page("ada", ("admin",))
    page.goto(f"{origin(page)}/admin/body")
    expect(page.locator("#current-rules")).to_have_text("1")
    page.get_by_label("Rules version").fill("<b>two</b>")
    page.get_by_role("button", name="Set the rules version").click()
    expect(page.get_by_role("alert")).to_contain_text("rules_version")
    assert page.locator("main b").count() == 0
    page.goto(f"{origin(page)}/admin/body")
    page.get_by_label("Rules version").focus()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("2026-1")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("rules version 2026-1")
    expect(page.locator("#current-rules")).to_have_text("2026-1")
    assert look(page, "body-settings-rules") == []
    central.json("body", "rules-version", "2026-2", "--by", "ada")
    assert audit_entries(central.data_dir, "body.rules-version") == [
        {"actor": "ada", "data": {"rules_version": "2026-1", "previous": "1"}},
        {"actor": "ada", "data": {"rules_version": "2026-2", "previous": "2026-1"}}]
    auditor = signed_in_page("audrey", ("auditor",))
    auditor.goto(f"{origin(auditor)}/admin/body")
    expect(auditor.locator("#current-rules")).to_have_text("2026-2")
    token = auditor.locator(f"input[name={FORM_FIELD}]").first.get_attribute("value") or ""
    answer = auditor.request.post(f"{origin(auditor)}/admin/body/rules-version",
                                  form={FORM_FIELD: token, "rules_version": "9"})
    assert answer.status == 403 and central.json("body", "show")["rules_version"] == "2026-2"
