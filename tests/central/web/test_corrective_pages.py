"""The corrective-action register's pages in real Chromium with axe-core: opened from a source with
its reference, the missing description refused next to the field, root cause, action and
effectiveness check recorded, closing refused until all three are in and then done by an
administrator (closed by), the list filtered by status with a select, and the same audit entries as
the ``corrective`` commands."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.body_pages import audit_entries, look, origin


def test_an_action_is_opened_recorded_and_closed_only_when_its_effectiveness_is_checked(central, signed_in_page):
    page = signed_in_page("ada", ("admin",))
    page.goto(f"{origin(page)}/corrective/")
    page.get_by_label("Source of the action").select_option("audit_finding")
    page.get_by_label("Reference (the incident").fill("AF-2026-03")
    page.get_by_label("What needs correcting").fill("   ")       # passes the browser's check, not the server's
    page.get_by_role("button", name="Open").click()
    expect(page.locator("#description-error")).to_contain_text("must be given")
    assert look(page, "h21-corrective-refused") == []
    page.get_by_label("What needs correcting").fill("Seat plans are not kept for a year.")
    page.get_by_role("button", name="Open").click()
    expect(page.locator("#action-status")).to_have_text("open")
    action_id = page.url.rsplit("/", 1)[1]
    page.get_by_label("Root cause").fill("No retention rule for seat plans.")
    page.get_by_label("Action taken").fill("Retention rule added to the centre manual.")
    page.get_by_role("button", name="Record (empty fields").click()
    expect(page.locator("#root-cause")).to_have_text("No retention rule for seat plans.")
    page.get_by_role("button", name=f"Close action {action_id}").click()
    expect(page.locator(".error")).to_contain_text("cannot be closed without its effectiveness check")
    page.goto(f"{origin(page)}/corrective/{action_id}")
    page.get_by_label("Effectiveness check").fill("Three centres audited in June keep them.")
    page.get_by_role("button", name="Record (empty fields").click()
    expect(page.locator("#action-taken")).to_have_text("Retention rule added to the centre manual.")
    page.get_by_role("button", name=f"Close action {action_id}").click()
    expect(page.locator("#action-status")).to_contain_text("closed")
    expect(page.locator("#action-status")).to_contain_text("by ada")
    assert look(page, "h21-corrective-closed") == []
    page.goto(f"{origin(page)}/corrective/?f_status=open")
    expect(page.locator("#f-corrective-status")).to_have_value("open")
    assert page.get_by_role("link", name=action_id, exact=True).count() == 0
    page.goto(f"{origin(page)}/corrective/?f_status=closed")
    expect(page.get_by_role("link", name=action_id, exact=True)).to_be_visible()
    assert look(page, "h21-corrective-list") == []


def test_the_page_and_the_cli_write_the_same_audit_entries(central, signed_in_page):
    page = signed_in_page("reg", ("registrar",))
    page.goto(f"{origin(page)}/corrective/")
    page.get_by_label("Source of the action").select_option("incident")
    page.get_by_label("Reference (the incident").fill("INC-7")
    page.get_by_label("What needs correcting").fill("Doors opened late.")
    page.get_by_role("button", name="Open").click()
    expect(page.locator("#action-status")).to_have_text("open")
    central.json("corrective", "open", "--source", "incident", "--ref", "INC-7", "--description", "Doors opened late.",
                 "--by", "reg")
    by_page, by_cli = audit_entries(central.data_dir, "corrective.open")
    assert by_page["actor"] == by_cli["actor"] == "reg"
    assert {**by_page["data"], "id": 0} == {**by_cli["data"], "id": 0}
    expect(page.get_by_role("button", name="Close action 1")).to_have_count(0)      # closing is an admin's
    assert "Doors opened late" not in str(by_page)
