"""The home page shows each person what waits for their roles, counted in the database, with links
to the pages that list those things."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from item_bank_sync.bank.schema import items
from item_bank_sync.db.sql import write
from item_bank_sync.results.marking import record_mark
from tests.support.body_pages import results_world
from tests.support.central_db import central_db, rows
from tests.support.central_world import GOOD
from tests.support.staff_web import PASSWORD, StaffAccount, StaffWeb, sign_in


def _draft_items(web, count: int, status: str) -> None:
    with write(web.ctx.open_bank_db()) as tx:
        for n in range(count):
            tx.execute(items.insert().values(item_id=f"{status}-{n}", version=1, status=status, **_required(n)))


def _required(n: int) -> dict:
    """The other NOT NULL columns of an item version (content is not read by the home page)."""
    values = {}
    for column in items.columns:
        if column.name in ("item_id", "version", "status") or column.nullable or column.server_default is not None:
            continue
        values[column.name] = 0 if str(column.type) == "INTEGER" else f"x{n}"
    return values


def test_each_role_sees_its_own_queues(browser, staff_web, staff_member):
    _draft_items(staff_web, 3, "draft")
    _draft_items(staff_web, 2, "reviewed")
    reviewer = sign_in(browser, staff_web, staff_member("rita", "reviewer"))
    expect(reviewer.get_by_role("link", name="Items to review: 3")).to_be_visible()
    expect(reviewer.get_by_text("Items to approve")).to_have_count(0)
    reviewer.get_by_role("link", name="Items to review: 3").click()
    assert "f_status=draft" in reviewer.url
    reviewer.context.close()
    approver = sign_in(browser, staff_web, staff_member("alan", "approver"))
    expect(approver.get_by_role("link", name="Items to approve: 2")).to_be_visible()
    expect(approver.get_by_text("Items to review")).to_have_count(0)
    approver.context.close()
    auditor = sign_in(browser, staff_web, staff_member("audrey", "auditor"))
    for label in ("Items to review: 3", "Items to approve: 2", "Quarantined envelopes: 0", "Marking tasks: 0",
                  "Attempts awaiting a decision: 0"):
        expect(auditor.get_by_text(label)).to_be_visible()
    auditor.context.close()


@pytest.fixture
def marked_world(tmp_path: Path) -> Iterator[StaffWeb]:
    """Three attempts taken in, each with one essay to mark: att-1's essay is marked once by "Mia"
    (stored as ``mia``, the marking key), att-2's twice (so att-2 is scored), att-3's not at all."""
    world = results_world(tmp_path / "central", {"att-1": GOOD, "att-2": GOOD, "att-3": GOOD})
    results = central_db(world.data_dir).results
    tasks = dict(rows(results, "SELECT attempt_id, task_id FROM marking_tasks"))
    record_mark(results, tasks["att-1"], "Mia", 2)
    for marker in ("Max", "Ada"):
        record_mark(results, tasks["att-2"], marker, 2)
    web = StaffWeb(world.data_dir)
    try:
        yield web
    finally:
        web.close()


def test_a_marker_is_not_sent_to_a_task_they_marked_whatever_the_case_of_their_name(browser, marked_world):
    """Marks store the marker's name as its person_key (lower case); the count compares the same key,
    so "Mia" is not told that att-1's essay, which she marked, waits for her."""
    marked_world.book.add("Mia", PASSWORD, ("marker",), "test-setup")
    mia = sign_in(browser, marked_world, StaffAccount("Mia", ("marker",), PASSWORD))
    expect(mia.get_by_role("link", name="Marking tasks: 1")).to_be_visible()     # att-3's only
    mia.context.close()



def test_attempts_awaiting_a_decision_open_the_decisions_list_filtered_to_them(browser, marked_world):
    """The home page's count and the list its link opens are the same attempts (scored, no decision)."""
    marked_world.book.add("dee", PASSWORD, ("decision_maker",), "test-setup")
    dee = sign_in(browser, marked_world, StaffAccount("dee", ("decision_maker",), PASSWORD))
    dee.get_by_role("link", name="Attempts awaiting a decision: 1").click()
    assert "f_decision=none" in dee.url
    table = dee.get_by_role("table")
    expect(table).to_contain_text("1 in all")
    expect(table).to_contain_text("att-2")
    expect(table).not_to_contain_text("att-1")
    dee.context.close()
