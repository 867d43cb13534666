"""Review pages in real Chromium over real intake: decisions with the separation-of-duties check
shown before the button (a decision maker who proctored the attempt sees why and is refused on
POST) and the same record as ``decide``, the integrity analysis, the item-analysis report inside
the application under its own CSP, the results export identical to ``results export``, markup in
a reason shown as text, and a role that may not see the pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from exam_core.timestamps import utc_text
from exam_core.websec.csrf import FORM_FIELD
from item_bank_sync.context import CentralContext
from item_bank_sync.registry import actors, conflicts, persons
from item_bank_sync.results.marking import record_mark
from tests.support.body_pages import PROCTOR, audit_entries, look, origin, results_world
from tests.support.central_cli import Central
from tests.support.central_db import bank_of, central_db, execute, rows
from tests.support.central_world import FORM_ID, FORM_VERSION, GOOD

HOSTILE = '<a href="https://example.org">held</a><script>1</script>'


@pytest.fixture
def central(tmp_path: Path) -> Central:
    """Three attempts of the world's form taken in, proctored by PROCTOR, their essays marked by two
    markers who agree (so the attempts are scored and the item analysis has candidates)."""
    world = results_world(tmp_path / "central", {"att-1": GOOD, "att-2": GOOD,
                                                 "att-3": {"q1": "B", "q2": ["A"], "q3": "Short"}})
    results = central_db(world.data_dir).results
    for (task,) in rows(results, "SELECT task_id FROM marking_tasks ORDER BY task_id"):
        for marker, score in (("mia", 2), ("max", 2.2)):
            record_mark(results, task, marker, score)
    return Central(world.data_dir)


def test_a_proctor_sees_why_before_the_button_and_is_refused_on_post(central, signed_in_page):
    page = signed_in_page(PROCTOR, ("decision_maker",))
    page.goto(f"{origin(page)}/review/decisions/att-1")
    expect(page.locator("#decision-blocked")).to_contain_text("You acted as proctor on this attempt")
    assert page.get_by_role("button", name="Record the decision").count() == 0
    assert look(page, "decision-blocked") == []
    token = page.locator(f"input[name={FORM_FIELD}]").first.get_attribute("value")
    answer = page.request.post(f"{origin(page)}/review/decisions/att-1",
                               form={FORM_FIELD: token or "", "outcome": "withheld", "reason": "mine"})
    assert answer.status == 422 and "acted as proctor on attempt att-1" in answer.text()
    assert rows(central_db(central.data_dir).results, "SELECT count(*) FROM decisions") == [(0,)]
    assert audit_entries(central.data_dir, "decide") == []


def test_a_declared_conflict_of_interest_is_shown_before_the_button_and_refused(central, signed_in_page):
    ctx = CentralContext(data_dir=central.data_dir)
    pid = persons.add(ctx, actors.staff("ada", actors.ADMIN), given_name="Ann", family_name="Lee",
                      email="ann@example.org").person_id
    bank_of(central.data_dir)["bookings"].insert({       # att-3's candidate id is the person's, through a booking
        "booking_id": "B-0000000000000001", "session_id": "S-0000000000000001", "person_id": pid,
        "application_id": "A-0000000000000001", "candidate_id": "C-0000000000000001", "status": "booked", "seat": 1,
        "queue_position": 1, "created_at": utc_text(), "created_by": "test"})
    execute(central_db(central.data_dir).results, "UPDATE attempts SET candidate_id = ? WHERE attempt_id = 'att-3'",
            "C-0000000000000001")
    conflicts.declare(ctx, actors.staff("dee", "decision_maker"), person_id=pid, relationship="trainer")
    ctx.close()
    page = signed_in_page("dee", ("decision_maker",))
    page.goto(f"{origin(page)}/review/decisions/att-3")
    expect(page.locator("#decision-blocked")).to_contain_text("You declared a trainer relationship")
    assert page.get_by_role("button", name="Record the decision").count() == 0
    token = page.locator(f"input[name={FORM_FIELD}]").first.get_attribute("value")
    answer = page.request.post(f"{origin(page)}/review/decisions/att-3",
                               form={FORM_FIELD: token or "", "outcome": "fail", "reason": "x"})
    assert answer.status == 422 and "trainer" in answer.text()
    page.goto(f"{origin(page)}/review/decisions/att-1")                 # another candidate: the button is there
    expect(page.get_by_role("button", name="Record the decision")).to_be_visible()


def test_a_decision_by_page_is_recorded_as_by_the_cli(central, signed_in_page):
    page = signed_in_page("dee", ("decision_maker",))
    for forged in ({}, {FORM_FIELD: "forged"}):                       # no CSRF token, a wrong one: refused
        answer = page.request.post(f"{origin(page)}/review/decisions/att-3",
                                   form={**forged, "outcome": "withheld", "reason": "x"})
        assert answer.status == 400
    page.goto(f"{origin(page)}/review/decisions?f_decision=none")
    expect(page.get_by_role("table")).to_contain_text("3 in all")
    assert look(page, "decisions") == []
    page.get_by_role("link", name="att-1").click()
    assert look(page, "decision") == []
    page.get_by_label("withheld").focus()                               # the keyboard alone from here
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Why")).to_be_focused()
    page.keyboard.type(HOSTILE)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Attempt att-1: withheld, decided by dee")
    assert look(page, "decided") == []
    expect(page.locator("main")).to_contain_text(HOSTILE)
    assert page.locator("main script, main a[href^='https://example']").count() == 0
    central.json("decide", "att-2", "--by", "dee", "--outcome", "withheld", "--reason", "pending review")
    made = rows(central_db(central.data_dir).results, "SELECT attempt_id, decided_by, outcome, reason FROM decisions"
                " ORDER BY id")
    assert made == [("att-1", "dee", "withheld", HOSTILE), ("att-2", "dee", "withheld", "pending review")]
    by_page, by_cli = audit_entries(central.data_dir, "decide")            # the same chain entry, same actor
    assert by_page == {"actor": "dee", "data": {"attempt_id": "att-1", "outcome": "withheld", "reason": HOSTILE}}
    assert by_cli == {"actor": "dee",
                      "data": {"attempt_id": "att-2", "outcome": "withheld", "reason": "pending review"}}
    page.goto(f"{origin(page)}/review/decisions?f_decision=none")
    expect(page.get_by_role("table")).to_contain_text("1 in all")


def test_integrity_analysis_and_results_export(central, signed_in_page):
    page = signed_in_page("psy", ("psychometrician",))
    page.goto(f"{origin(page)}/review/integrity")
    assert look(page, "integrity") == []
    page.get_by_label("Form to analyse").fill(HOSTILE)
    page.get_by_role("button", name="Run the integrity analysis").click()
    expect(page.get_by_role("alert")).to_contain_text(HOSTILE)           # echoed in the refusal, as text
    assert page.locator("main script, main a[href^='https://example']").count() == 0
    page.goto(f"{origin(page)}/review/integrity")
    page.get_by_label("Form to analyse").fill(f"{FORM_ID}@{FORM_VERSION}")
    page.get_by_role("button", name="Run the integrity analysis").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Integrity flags for {FORM_ID} version {FORM_VERSION}")
    assert look(page, "integrity-run") == []
    flags = "SELECT kind, attempt_id, other_attempt_id, score, detail_json FROM integrity_flags ORDER BY id"
    by_page = rows(central_db(central.data_dir).results, flags)
    central.json("integrity", "--form", f"{FORM_ID}@{FORM_VERSION}")   # the command names no actor
    assert rows(central_db(central.data_dir).results, flags) == by_page

    page.goto(f"{origin(page)}/review/analysis?form={FORM_ID}@{FORM_VERSION}")
    frame = page.frame_locator("iframe.report")
    expect(frame.get_by_role("heading", level=1)).to_be_visible()
    assert frame.locator("img").count() == 2                                          # the two plots
    expect(frame.locator("#test")).to_contain_text("3")                                # three candidates
    assert look(page, "analysis") == []
    report = page.request.get(f"{origin(page)}/review/analysis/report?form={FORM_ID}@{FORM_VERSION}")
    policy = report.headers["content-security-policy"]
    assert "script-src" not in policy and "default-src 'none'" in policy and "'unsafe-inline'" not in policy
    assert "frame-ancestors 'self'" in policy and "style-src 'sha256-" in policy

    registrar = signed_in_page("reg", ("registrar",))
    registrar.goto(f"{origin(registrar)}/review/results")
    assert look(registrar, "results") == []
    with registrar.expect_download() as download:
        registrar.get_by_role("button", name="Download the CSV").click()
    assert Path(download.value.path()).read_text("utf-8") == central.run("results", "export").output


def test_a_role_without_the_review_pages_gets_403(central, signed_in_page):
    page = signed_in_page("mark", ("marker",))
    for path in ("/review/decisions", "/review/decisions/att-1", "/review/integrity", "/review/analysis",
                 "/review/results", "/review/results.csv"):
        assert page.goto(f"{origin(page)}{path}").status == 403, path


def _flag(data_dir: Path, attempt_id: str, other: str | None = None) -> None:
    """An integrity flag as ``integrity --form`` stores one."""
    execute(central_db(data_dir).results, "INSERT INTO integrity_flags (kind, attempt_id, other_attempt_id, score,"
            " detail_json, created_at) VALUES ('similarity', ?, ?, 4.2, '{}', '2026-12-01T10:00:00Z')",
            attempt_id, other)


def test_a_flagged_attempt_takes_pass_or_fail_only_once_its_flags_are_stated_reviewed(central, signed_in_page):
    """Integrity flags are leads for a person: pass or fail on a flagged attempt needs the decider to
    state they reviewed them (the check box, ``--flags-reviewed``); withheld is always taken; the
    audit entry records how many flags were reviewed, the same from the page and the CLI."""
    _flag(central.data_dir, "att-1")
    _flag(central.data_dir, "att-3", other="att-2")                 # att-2 is flagged as the other of a pair
    page = signed_in_page("dee", ("decision_maker",))
    page.goto(f"{origin(page)}/review/decisions/att-1")
    expect(page.locator("#flags-to-review")).to_contain_text("This attempt has 1 integrity flag(s)")
    assert look(page, "decision-flagged") == []
    token = page.locator(f"input[name={FORM_FIELD}]").first.get_attribute("value") or ""
    answer = page.request.post(f"{origin(page)}/review/decisions/att-1",
                               form={FORM_FIELD: token, "outcome": "pass", "reason": "meets the standard"})
    assert answer.status == 422 and "1 integrity flag(s) awaiting review" in answer.text()
    failed = central.run("decide", "att-2", "--by", "dee", "--outcome", "pass", "--reason", "meets the standard")
    assert failed.exit_code == 1 and "integrity flag(s) awaiting review" in failed.output + failed.stderr
    assert audit_entries(central.data_dir, "decide") == []
    page.get_by_label("pass").check()
    page.get_by_label("I have reviewed the 1 integrity flag(s) on this attempt").check()
    page.get_by_label("Why").fill("flag looked into: seat neighbours of different forms")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_role("status")).to_contain_text("Attempt att-1: pass, decided by dee")
    central.json("decide", "att-2", "--by", "dee", "--outcome", "pass", "--reason", "flag looked into",
                 "--flags-reviewed")
    central.json("decide", "att-3", "--by", "dee", "--outcome", "withheld", "--reason", "under investigation")
    by_page, by_cli, withheld = audit_entries(central.data_dir, "decide")
    assert by_page["actor"] == by_cli["actor"] == "dee"
    assert by_page["data"]["integrity_flags_reviewed"] == by_cli["data"]["integrity_flags_reviewed"] == 1
    assert "integrity_flags_reviewed" not in withheld["data"]


def test_the_exam_review_page_frames_the_review_and_opens_actions_as_the_cli(central, signed_in_page):
    """9.3.5 on a page: the review inside the application under its own CSP, and the corrective
    actions opened by the button are those ``review-exam --open-actions`` would open (it then finds
    them all open and opens none)."""
    form = f"{FORM_ID}@{FORM_VERSION}"
    page = signed_in_page("psy", ("psychometrician",))
    page.goto(f"{origin(page)}/review/exam?form={form}")
    frame = page.frame_locator("iframe.report")
    expect(frame.get_by_role("heading", level=1)).to_contain_text(f"Exam performance review of form {form}")
    assert look(page, "exam-review") == []
    report = page.request.get(f"{origin(page)}/review/exam/report?form={form}")
    policy = report.headers["content-security-policy"]
    assert "script-src" not in policy and "default-src 'none'" in policy and "frame-ancestors 'self'" in policy
    button = page.get_by_role("button", name="Open corrective actions for the flags")
    for _ in range(40):                                   # keyboard only: Tab to the button, Enter
        if button.evaluate("b => b === document.activeElement"):
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("corrective action(s) opened")
    assert look(page, "exam-review-actions") == []
    opened = rows(central_db(central.data_dir).bank, "SELECT id, source, opened_by FROM corrective_actions ORDER BY id")
    flags = central.json("review-exam", "--form", form)["flags"]
    assert len(opened) == len(flags) and all(r[1] == "item_analysis" and r[2] == "psy" for r in opened)
    again = central.json("review-exam", "--form", form, "--open-actions", "--by", "psy")["corrective_actions"]
    assert again["opened"] == [] and len(again["already_open"]) == len(flags)
    marker = signed_in_page("mark", ("marker",))
    assert marker.goto(f"{origin(marker)}/review/exam?form={form}").status == 403
