"""Appeals and complaints pages in real Chromium over a body with released-for-appeal results
(tests/support/central_release.py): lodging and assigning with the keyboard alone, an involved
handler refused with the service's reason next to the field, the page's audit entries the same as
the CLI's, a re-score shown before it is recorded that reproduces the CLI's numbers, a re-mark by a
different marker applied by the handler, and axe-core on every page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from exam_core.websec.csrf import FORM_FIELD
from item_bank_sync.cases import handling, remark_requests
from item_bank_sync.registry import actors, conflicts
from item_bank_sync.certificates.decision import record_decision
from tests.support.body_pages import audit_entries, look, origin
from tests.support.central_cli import Central
from tests.support.central_release import FAILED, PASSED, Results, book_person, correct_key, results_world

REGISTRAR = "reg"
HANDLER = "hana"
ADMIN = "ada"
DEE = "dee"          # a decision maker (and marker) who decided FAILED: involved in it


@pytest.fixture
def results(tmp_path: Path) -> Iterator[Results]:
    r = results_world(tmp_path / "central")
    yield r
    r.ctx.close()


@pytest.fixture
def central(results: Results) -> Central:
    """The staff app's body: the results world (overrides tests/central/conftest.py's empty body)."""
    return Central(results.world.data_dir)


def _appeal(results: Results, attempt_id: str = FAILED, acknowledged: bool = True) -> str:
    case_id = handling.lodge(results.ctx, REGISTRAR, "appeal", "result", f"cand-{attempt_id}",
                             "I believe question 1 was keyed wrongly.", attempt_id=attempt_id)
    if acknowledged:
        handling.acknowledge(results.ctx, REGISTRAR, case_id, days=20)
    return case_id


def _assigned(results: Results, attempt_id: str = PASSED) -> str:
    case_id = _appeal(results, attempt_id)
    handling.assign(results.ctx, ADMIN, case_id, HANDLER)
    return case_id


def test_lodging_acknowledging_and_assigning_with_the_keyboard_alone(results, signed_in_page, staff_member):
    staff_member(HANDLER, ("decision_maker",))
    page = signed_in_page(REGISTRAR, ("registrar",))
    page.goto(f"{origin(page)}/cases/")
    assert look(page, "h21-cases-empty") == []
    page.goto(f"{origin(page)}/cases/new")
    assert look(page, "h21-lodge") == []
    page.locator("#kind").focus()                        # appeal (first), against a result (first)
    for _ in range(2):
        page.keyboard.press("Tab")
    page.keyboard.type(f"cand-{FAILED}")
    page.keyboard.press("Tab")
    page.keyboard.type("Question 1 was keyed wrongly.")
    page.keyboard.press("Tab")
    page.keyboard.type(FAILED)
    for _ in range(4):                                   # certificate, centre, late reason, the button
        page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Lodge")
    page.keyboard.press("Enter")
    expect(page.locator("#case-status")).to_have_text("lodged")
    case_id = page.url.rsplit("/", 1)[1]
    page.locator("#days").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#case-status")).to_have_text("acknowledged")
    assert look(page, "h21-case-acknowledged") == []
    admin = signed_in_page(ADMIN, ("admin",))
    admin.goto(f"{origin(admin)}/cases/{case_id}")
    admin.locator("#handler").focus()
    admin.keyboard.type("hana")
    admin.keyboard.press("Tab")
    expect(admin.locator(":focus")).to_have_text("Assign")
    admin.keyboard.press("Enter")
    expect(admin.locator("#case-handler")).to_have_text("hana")
    case = handling.get(results.ctx, case_id)
    assert (case["status"], case["lodged_via"], case["attempt_id"]) == ("assigned", "staff", FAILED)
    assert [e["action"] for e in case["events"]] == ["lodge", "acknowledge", "assign"]
    admin.goto(f"{origin(admin)}/cases/?f_kind=appeal&f_status=assigned")
    expect(admin.get_by_role("link", name=case_id)).to_be_visible()
    expect(admin.locator("#f-cases-status")).to_have_value("assigned")
    assert look(admin, "h21-cases-filtered") == []


def test_an_involved_handler_is_refused_with_the_reason_next_to_the_field(results, signed_in_page, staff_member):
    staff_member(HANDLER, ("decision_maker",))
    staff_member(DEE, ("decision_maker",))
    record_decision(results.ctx, FAILED, DEE, "fail", "confirmed again")
    case_id = _appeal(results)
    page = signed_in_page(ADMIN, ("admin",))
    page.goto(f"{origin(page)}/cases/{case_id}")
    page.locator("#handler").select_option(DEE)
    page.get_by_role("button", name="Assign").click()
    expect(page.locator("#handler-error")).to_contain_text("acted as decision maker on attempt")
    expect(page.locator("#handler")).to_have_attribute("aria-describedby", "handler-error")
    assert look(page, "h21-case-handler-refused") == []
    assert handling.get(results.ctx, case_id)["handler"] is None
    assert audit_entries(results.world.data_dir, "case.assign") == []


def test_the_pages_write_the_audit_entries_the_cli_writes(results, signed_in_page, staff_member, tmp_path):
    staff_member(HANDLER, ("decision_maker",))
    by_page, by_cli = _appeal(results, acknowledged=False), _appeal(results, PASSED, acknowledged=False)
    page = signed_in_page(ADMIN, ("admin",))
    page.goto(f"{origin(page)}/cases/{by_page}")
    page.get_by_role("button", name="Acknowledge and tell the person").click()
    page.locator("#handler").select_option(HANDLER)
    page.get_by_role("button", name="Assign").click()
    expect(page.locator("#case-handler")).to_have_text("hana")
    cli = Central(results.world.data_dir)
    cli.json("cases", "acknowledge", by_cli, "--by", ADMIN)
    cli.json("cases", "assign", by_cli, "--handler", HANDLER, "--by", ADMIN)
    for action in ("case.acknowledge", "case.assign"):
        entries = audit_entries(results.world.data_dir, action)
        assert [e["actor"] for e in entries] == ["ada", "ada"]
        assert entries[0]["data"] == {**entries[1]["data"], "case_id": by_page}
    handler = signed_in_page(HANDLER)
    handler.goto(f"{origin(handler)}/cases/{by_page}")
    handler.get_by_label("Outcome").select_option("dismissed")
    handler.get_by_label("What the person is told").fill("The result stands.")
    handler.get_by_role("button", name="Record the outcome and tell the person").click()
    expect(handler.locator("#case-status")).to_have_text("decided")
    cli.json("cases", "decide", by_cli, "--outcome", "dismissed", "--text", "The result stands.", "--by", HANDLER)
    decided = audit_entries(results.world.data_dir, "case.decide")
    assert decided[0]["data"] == {**decided[1]["data"], "case_id": by_page}
    assert [m["subject"] for m in handling.get(results.ctx, by_page)["messages"]][-1] == f"Case {by_page}: dismissed"
    page.goto(f"{origin(page)}/cases/{by_page}")
    page.get_by_label("What needs correcting").fill("Keys checked twice before publishing.")
    page.get_by_role("button", name="Open a corrective action").click()
    expect(page.locator("#action-status")).to_have_text("open")
    assert audit_entries(results.world.data_dir, "corrective.open")[0]["data"]["source_ref"] == by_page


def _text(page: Any, selector: str) -> str:
    return page.locator(selector).inner_text().strip()


def test_a_rescore_from_the_page_reproduces_the_cli_numbers(results, signed_in_page, staff_member):
    staff_member(HANDLER, ("decision_maker",))
    case_id = _assigned(results)
    corrected = correct_key(results.ctx, "q1", "B")
    page = signed_in_page(HANDLER)
    page.goto(f"{origin(page)}/cases/{case_id}")
    page.get_by_role("button", name="Replay (nothing is recorded yet)").click()
    expect(page.locator("#rescore-identical")).to_have_text("identical, bit for bit")
    assert _text(page, "#before-total") == _text(page, "#after-total") == "6.0"
    assert look(page, "h21-rescore-replay") == []
    page.get_by_label("Corrected keys").fill(corrected)
    page.get_by_role("button", name="Replay (nothing is recorded yet)").click()
    expect(page.locator("#rescore-identical")).to_have_text("changed: q1.RESPONSE")
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="q1.RESPONSE"))
    expect(row.get_by_role("cell")).to_have_text(["1.0", "3ff0000000000000", "0.0", "0000000000000000", "yes"])
    cli = Central(results.world.data_dir).json("cases", "rescore", PASSED, "--key-from", corrected, "--by", HANDLER,
                                              "--reason", "q1 key corrected")
    assert (float(_text(page, "#before-total")), float(_text(page, "#after-total"))) == (
        cli["before_total"], cli["after_total"]) == (6.0, 5.0)
    page.get_by_label("Why (recorded with the re-score)").fill("q1 key corrected")
    page.get_by_role("button", name="Record the re-score").click()
    expect(page.locator(".flash")).to_contain_text("Re-score recorded: changed")
    page_entry, cli_entry = audit_entries(results.world.data_dir, "results.rescore")
    assert page_entry == cli_entry
    assert handling.get(results.ctx, case_id)["events"][-1]["action"] == "rescore"


def test_a_rescore_for_a_case_is_recorded_by_its_handler_only(results, signed_in_page, staff_member):
    """The decider of the appealed pass (a decision maker, not the handler) may not apply a re-score
    for the appeal on the page nor with the CLI's --case: nothing is recorded."""
    staff_member(HANDLER, ("decision_maker",))
    staff_member(DEE, ("decision_maker",))
    record_decision(results.ctx, PASSED, DEE, "pass", "confirmed again")
    case_id = _assigned(results)
    corrected = correct_key(results.ctx, "q1", "B")
    page = signed_in_page(DEE)
    page.goto(f"{origin(page)}/cases/{case_id}")
    page.get_by_label("Corrected keys").fill(corrected)
    page.get_by_role("button", name="Replay (nothing is recorded yet)").click()
    page.get_by_label("Why (recorded with the re-score)").fill("q1 key corrected")
    page.get_by_role("button", name="Record the re-score").click()
    expect(page.get_by_role("main")).to_contain_text(f"only the case's handler ({HANDLER}) may act on case {case_id}")
    cli = Central(results.world.data_dir).run("cases", "rescore", PASSED, "--key-from", corrected, "--apply",
                                              "--case", case_id, "--by", DEE, "--reason", "q1 key corrected")
    assert cli.exit_code == 1 and "only the case's handler" in cli.stderr
    assert audit_entries(results.world.data_dir, "results.rescore") == []


def test_a_marker_who_declared_a_relationship_is_refused_next_to_the_marker_field(results, signed_in_page,
                                                                                  staff_member):
    staff_member(HANDLER, ("decision_maker",))
    staff_member("rae", ("marker",))
    person_id = book_person(results, PASSED, "ann@example.org")
    conflicts.declare(results.ctx, actors.staff("rae", "marker"), person_id=person_id, relationship="relative")
    case_id = _assigned(results)
    page = signed_in_page(HANDLER)
    page.goto(f"{origin(page)}/cases/{case_id}")
    page.locator("#marker").select_option("rae")
    page.get_by_role("button", name="Ask for a re-mark").click()
    expect(page.locator("#marker-error")).to_contain_text("declared a relative relationship")
    assert remark_requests.of_case(results.ctx, case_id) == []


def test_a_remark_by_a_different_marker_is_asked_given_and_applied(results, signed_in_page, staff_member):
    record_decision(results.ctx, PASSED, DEE, "pass", "confirmed again")
    staff_member(HANDLER, ("decision_maker",))
    staff_member(DEE, ("marker",))
    staff_member("rae", ("marker",))
    staff_member("sam", ("marker",))
    case_id = _assigned(results)
    page = signed_in_page(HANDLER)
    page.goto(f"{origin(page)}/cases/{case_id}")
    page.locator("#marker").select_option(DEE)
    page.get_by_role("button", name="Ask for a re-mark").click()
    expect(page.locator("#marker-error")).to_contain_text("took no part")
    page.locator("#marker").select_option("rae")
    page.get_by_role("button", name="Ask for a re-mark").click()
    expect(page.locator(".flash")).to_contain_text("rae is asked to re-mark q3")
    request_id = remark_requests.of_case(results.ctx, case_id)[0]["id"]
    other = signed_in_page("sam")                                   # another marker: neither sees nor answers it
    other.get_by_role("navigation", name="Main").get_by_role("link", name="Re-marks").click()
    expect(other.get_by_role("cell", name="None.")).to_be_visible()
    assert other.request.get(f"{origin(other)}/cases/remarks/{request_id}").status == 403
    marker = signed_in_page("rae")
    marker.get_by_role("navigation", name="Main").get_by_role("link", name="Re-marks").click()
    marker.get_by_role("link", name=f"Re-mark request {request_id}").click()
    assert "keyed wrongly" not in marker.content()                 # never the person's words
    expect(marker.locator(".response")).to_have_text("A careful essay")   # the response, as on the marking page
    marker.get_by_label("Your score").fill("2.5")
    marker.get_by_role("button", name="Record the re-mark").click()
    expect(marker.locator(".flash")).to_contain_text("recorded")
    assert look(marker, "h21-remark") == []
    marker.goto(f"{origin(marker)}/cases/remarks/{request_id}")     # answered once: no form any more
    expect(marker.locator("#request-status")).to_contain_text("answered")
    cli = Central(results.world.data_dir)                           # the CLI's answer writes the same entry
    asked = cli.json("cases", "remark-ask", case_id, "--item", "q3", "--marker", "sam", "--by", HANDLER)
    cli.json("cases", "remark", str(asked["id"]), "--score", "2", "--by", "sam")
    page_entry, cli_entry = audit_entries(results.world.data_dir, "results.remark")
    assert (page_entry["actor"], cli_entry["actor"]) == ("rae", "sam")
    assert sorted(page_entry["data"]) == sorted(cli_entry["data"])
    assert marker.request.get(f"{origin(marker)}/cases/{case_id}").status == 403
    page.goto(f"{origin(page)}/cases/{case_id}")
    page.get_by_role("button", name="Apply re-mark 1").click()
    expect(page.locator(".flash")).to_contain_text("Re-mark 1 applied")
    assert [e["actor"] for e in audit_entries(results.world.data_dir, "results.remark-apply")] == ["hana"]


def test_a_remark_request_withdrawn_on_the_page_writes_the_clis_audit_entries(results, signed_in_page,
                                                                               staff_member):
    staff_member(HANDLER, ("decision_maker",))
    staff_member("rae", ("marker",))
    case_id = _assigned(results)
    page = signed_in_page(HANDLER)
    page.goto(f"{origin(page)}/cases/{case_id}")
    page.locator("#marker").select_option("rae")
    page.get_by_role("button", name="Ask for a re-mark").click()
    request_id = remark_requests.of_case(results.ctx, case_id)[0]["id"]
    assert look(page, "h26-remark-asked") == []
    page.locator(f"#withdraw-{request_id}").focus()                 # the keyboard alone: reason, Tab, Enter
    page.keyboard.type("asked of the wrong marker")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text(f"Withdraw request {request_id}")
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_contain_text(f"Re-mark request {request_id} withdrawn")
    expect(page.get_by_role("row", name=f"{request_id} q3 rae")).to_contain_text("withdrawn: asked of the wrong marker")
    assert look(page, "h26-remark-withdrawn") == []
    marker = signed_in_page("rae")
    assert marker.request.get(f"{origin(marker)}/cases/remarks/{request_id}").status == 200   # theirs, but closed
    marker.goto(f"{origin(marker)}/cases/remarks/{request_id}")
    expect(marker.locator("#request-status")).to_contain_text("withdrawn")
    expect(marker.get_by_role("button", name="Record the re-mark")).to_have_count(0)
    cli = Central(results.world.data_dir)
    again = cli.json("cases", "remark-ask", case_id, "--item", "q3", "--marker", "rae", "--by", HANDLER)
    cli.json("cases", "remark-withdraw", str(again["id"]), "--reason", "asked of the wrong marker", "--by", HANDLER)
    for action in ("case.remark-ask", "case.remark-withdraw"):
        page_entry, cli_entry = audit_entries(results.world.data_dir, action)
        assert {k: v for k, v in page_entry["data"].items() if k != "request_id"} == {
            k: v for k, v in cli_entry["data"].items() if k != "request_id"}
        assert page_entry["actor"] == cli_entry["actor"] == HANDLER


def test_a_forged_or_missing_csrf_token_and_a_role_without_cases_are_refused(results, signed_in_page):
    case_id = _appeal(results)
    page = signed_in_page(ADMIN, ("admin",))
    for forged in ({}, {FORM_FIELD: "forged"}):
        answer = page.request.post(f"{origin(page)}/cases/{case_id}/assign", form={**forged, "handler": ADMIN})
        assert answer.status in (400, 403)
    writer = signed_in_page("ivy", ("item_writer",))
    assert writer.request.get(f"{origin(writer)}/cases/{case_id}").status == 403
    assert writer.get_by_role("link", name="Appeals & complaints").count() == 0


def test_a_complaint_names_its_centre_and_a_late_appeal_needs_a_recorded_reason(results, signed_in_page):
    from item_bank_sync.release.holds import release
    from tests.support.central_db import central_db, execute

    page = signed_in_page(REGISTRAR, ("registrar",))
    page.goto(f"{origin(page)}/cases/new")
    page.get_by_label("Kind", exact=True).select_option("complaint")
    page.get_by_label("About", exact=True).select_option("centre")
    page.get_by_label("Who lodges it").fill("A parent")
    page.get_by_label("Their words").fill("The room was cold.")
    page.get_by_role("button", name="Lodge").click()
    expect(page.locator("#centre_id-error")).to_contain_text("names the centre")
    page.get_by_label("Centre (a complaint about a centre)").fill("centre-1")
    page.get_by_role("button", name="Lodge").click()
    expect(page.locator("#case-status")).to_have_text("lodged")
    release(results.ctx, "Rita Releaser", "results day", attempt_id=FAILED)
    execute(central_db(results.world.data_dir).results,
            "UPDATE result_releases SET released_at = ? WHERE attempt_id = ?", "2020-01-01T00:00:00Z", FAILED)
    page.goto(f"{origin(page)}/cases/new")
    page.get_by_label("Who lodges it").fill(f"cand-{FAILED}")
    page.get_by_label("Their words").fill("I was in hospital.")
    page.get_by_label("Attempt (an appeal").fill(FAILED)
    page.get_by_role("button", name="Lodge").click()
    expect(page.locator("#late_reason-error")).to_contain_text("appeal deadline of attempt att-f was 2020-01-")
    assert look(page, "h21-lodge-late-refused") == []
    page.get_by_label("Reason to accept an appeal after its deadline").fill("Hospital letter seen.")
    page.get_by_role("button", name="Lodge").click()
    expect(page.locator("#case-status")).to_have_text("lodged")
    expect(page.get_by_role("cell", name="via staff; after the appeal deadline, accepted: Hospital letter seen.")
           ).to_be_visible()
    assert [e["data"]["late"] for e in audit_entries(results.world.data_dir, "case.lodge")] == [False, True]
