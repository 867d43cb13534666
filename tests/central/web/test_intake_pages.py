"""Intake pages in real Chromium over real envelopes: the queue filtered and paged on the server,
a custody quarantine released after review by a registrar (the same record as ``intake release``),
the proctor of the attempt told before the button that they may not release it and refused on
POST, markup in a reason shown as text, and a role that may not see the pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from exam_core.protocol import JournalHeadInfo
from exam_core.sync_wire import EnvelopeMeta
from exam_core.timestamps import format_time, utc_now
from exam_core.websec.csrf import FORM_FIELD
from item_bank_sync.results.intake import Intake
from tests.support.body_pages import PROCTOR, audit_entries, look, origin, results_world
from tests.support.central_cli import Central
from tests.support.central_db import central_db, execute, rows
from tests.support.central_world import CENTRE_ID, GOOD, journal_row_hash

HOSTILE = '<img src=x><b>kiosk lost power</b>'


def _cut(attempt_id: str) -> EnvelopeMeta:
    """Journal heads the sealed journal does not hold: a custody quarantine a person may release."""
    return EnvelopeMeta(proctors=(PROCTOR,), journal_heads=(JournalHeadInfo(2, journal_row_hash(attempt_id, 2, 6)),
                                                            JournalHeadInfo(8, "ef" * 32)))


@pytest.fixture
def central(tmp_path: Path) -> Central:
    """One accepted attempt and two quarantined for a journal-head mismatch (real envelopes)."""
    world = results_world(tmp_path / "central", {"att-1": GOOD})
    db = central_db(world.data_dir)
    intake = Intake(db.bank, db.results, world.keys, [])
    for attempt_id in ("att-2", "att-3"):
        assert intake.receive(world.seal(attempt_id, GOOD), CENTRE_ID, _cut(attempt_id)).status == "quarantined"
    return Central(world.data_dir)


def _digest(central: Central, attempt_id: str) -> str:
    return rows(central_db(central.data_dir).results, "SELECT sha256 FROM envelopes WHERE attempt_id = ?",
                attempt_id)[0][0]


def test_release_after_review_matches_the_cli_and_refuses_the_proctor(central, signed_in_page):
    proctor = signed_in_page(PROCTOR, ("registrar",))
    digest = _digest(central, "att-2")
    proctor.goto(f"{origin(proctor)}/intake/envelopes/{digest}")
    expect(proctor.locator("#release-blocked")).to_contain_text("You proctored this attempt")   # before the button
    assert proctor.get_by_role("button", name="Release and score the attempt").count() == 0
    token = proctor.locator(f"input[name={FORM_FIELD}]").first.get_attribute("value")
    answer = proctor.request.post(f"{origin(proctor)}/intake/envelopes/{digest}/release",
                                  form={FORM_FIELD: token or "", "reason": "I saw it"})
    assert answer.status == 422 and "proctored this attempt" in answer.text()                 # refused on POST too

    page = signed_in_page("reg", ("registrar",))
    page.goto(f"{origin(page)}/intake/?f_status=quarantined")
    expect(page.get_by_role("table")).to_contain_text("2 in all")
    assert look(page, "intake-queue") == []
    page.get_by_role("link", name="att-2").click()
    expect(page.locator("main")).to_contain_text("JournalHeadRefusal")
    assert look(page, "intake-envelope") == []
    page.get_by_label("Why, after review").fill(HOSTILE)
    page.get_by_role("button", name="Release and score the attempt").click()
    expect(page.get_by_role("status")).to_contain_text("Attempt att-2 accepted and scored, released by reg")
    expect(page.locator("main dl")).to_contain_text(HOSTILE)
    assert page.locator("main img, main b").count() == 0
    assert look(page, "intake-released") == []
    central.json("intake", "release", _digest(central, "att-3"), "--by", "reg", "--reason", "the same review")
    made = rows(central_db(central.data_dir).results,
                "SELECT attempt_id, released_by, reason, waived_json FROM intake_releases ORDER BY id")
    assert [(m[0], m[1]) for m in made] == [("att-2", "reg"), ("att-3", "reg")]
    assert made[0][2] == HOSTILE and "cut off" in made[0][3] and "cut off" in made[1][3]
    by_page, by_cli = audit_entries(central.data_dir, "intake.release")    # the same chain entry, same actor
    assert by_page["actor"] == by_cli["actor"] == "reg" and set(by_page["data"]) == set(by_cli["data"])
    entry = by_page["data"]
    assert (entry["attempt_id"], entry["waived"], entry["reason"]) == ("att-2", 1, HOSTILE)
    page.goto(f"{origin(page)}/intake/releases")
    expect(page.get_by_role("table")).to_contain_text("the same review")
    assert look(page, "intake-releases") == []


def test_the_queue_pages_and_filters_on_the_server(central, signed_in_page):
    results = central_db(central.data_dir).results
    for n in range(130):
        execute(results, "INSERT INTO envelopes (sha256, centre_id, attempt_id, status, reason, receipt, received_at)"
                " VALUES (?, ?, ?, 'accepted', '', ?, ?)", f"{n:064x}", "centre-9", f"bulk-{n:03d}", b"r",
                format_time(utc_now()))
    page = signed_in_page("reg", ("registrar",))
    page.goto(f"{origin(page)}/intake/")
    expect(page.get_by_role("table")).to_contain_text("133 in all, 1 to 50 shown")
    assert page.locator("tbody tr").count() == 50
    page.get_by_label("Centre").fill("centre-9")
    page.get_by_label("Attempt").fill("bulk-12")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("table")).to_contain_text("10 in all")                 # bulk-120 to bulk-129
    page.goto(f"{origin(page)}/intake/attestations")
    assert look(page, "intake-attestations") == []


def test_a_role_without_the_intake_pages_gets_403(central, signed_in_page):
    page = signed_in_page("mark", ("marker",))
    for path in ("/intake/", "/intake/releases", "/intake/attestations", f"/intake/envelopes/{'0' * 64}"):
        assert page.goto(f"{origin(page)}{path}").status == 403, path
