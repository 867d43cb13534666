"""Centres pages in real Chromium: enrolment from an uploaded request and revocation by an
administrator (the same audit entries as ``centres add`` and ``centres revoke``), the per-centre
figures counted from real intake (attempts, incident reports, alerts, quarantines), kiosk
revocations received, markup in a reason shown as text, and a role that may not see the pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.body_pages import audit_entries, look, origin, results_world
from tests.support.central_cli import Central, make_centre
from tests.support.central_world import GOOD

HOSTILE = '<script>document.title="x"</script><i>why</i>'


@pytest.fixture
def central(tmp_path: Path) -> Central:
    """A central body with two attempts of centre-1 taken in (real envelopes), instead of a bare init."""
    world = results_world(tmp_path / "central", {"att-1": GOOD, "att-2": GOOD})
    return Central(world.data_dir)


def test_enrol_and_revoke_pages_write_the_cli_entries_and_show_the_figures(central, signed_in_page, tmp_path):
    page = signed_in_page("adm", ("admin",))
    page.goto(f"{origin(page)}/centres/")
    row = page.get_by_role("row", name="centre-1")
    expect(row).to_contain_text("2")                                        # attempts
    assert [row.get_by_role("cell").nth(n).inner_text() for n in range(4, 8)] == ["2", "2", "2", "0"]
    assert look(page, "centres") == []
    (tmp_path / "req-2.json").write_bytes(make_centre("centre-2").request)
    page.get_by_label("Enrolment request").set_input_files(str(tmp_path / "req-2.json"))
    page.get_by_role("button", name="Verify and issue the certificate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Centre centre-2 enrolled")
    assert look(page, "centre-enrolled") == []
    (tmp_path / "req-3.json").write_bytes(make_centre("centre-3").request)
    central.json("centres", "add", "--request", tmp_path / "req-3.json", "--by", "adm")
    by_page, by_cli = audit_entries(central.data_dir, "centre.enrol")
    assert by_page["actor"] == by_cli["actor"] == "adm" and set(by_page["data"]) == set(by_cli["data"])
    assert by_page["data"]["centre_id"] == "centre-2"

    page.goto(f"{origin(page)}/centres/centre-2")
    assert look(page, "centre") == []
    page.get_by_label("Why").fill(HOSTILE)
    page.get_by_role("button", name="Revoke centre-2").click()
    expect(page.get_by_role("status")).to_contain_text("revocation list number 1")
    assert look(page, "centre-revoked") == []
    page.goto(f"{origin(page)}/centres/centre-2")
    expect(page.locator("main dl")).to_contain_text(HOSTILE)               # the reason shown as text
    assert page.locator("main script, main i").count() == 0
    central.json("centres", "revoke", "centre-3", "--reason", "closed", "--by", "adm")
    by_page, by_cli = audit_entries(central.data_dir, "centre.revoke")
    assert by_page["actor"] == by_cli["actor"] == "adm" and set(by_page["data"]) == set(by_cli["data"])
    assert (by_page["data"]["reason"], by_cli["data"]["revocation_sequence"]) == (HOSTILE, 2)

    page.goto(f"{origin(page)}/centres/kiosk-revocations")
    expect(page.get_by_role("table")).to_contain_text("No kiosk revocations received")
    assert look(page, "kiosk-revocations") == []


def test_a_role_without_the_centres_pages_gets_403(central, signed_in_page):
    page = signed_in_page("psy", ("psychometrician",))
    for path in ("/centres/", "/centres/centre-1", "/centres/kiosk-revocations", "/centres/centre-1/certificate.json"):
        assert page.goto(f"{origin(page)}{path}").status == 403, path
