"""Double marking, adjudication, impartial decisions and the results export, on real intake data."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from exam_core.errors import ValidationError
from exam_core.sync_wire import EnvelopeMeta
from item_bank_sync.results.decisions import DecisionRefused, decide, results_csv, results_rows
from item_bank_sync.results.intake import Intake
from item_bank_sync.results.marking import MarkingError, adjudicate, list_tasks, record_mark, task_response
from tests.support.central_db import central_db, sql
from tests.support.central_world import CENTRE_ID, build_world

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def world(tmp_path):
    return build_world(tmp_path / "central", cut_score=5.0)


@pytest.fixture
def results(world):
    stores = central_db(world.data_dir)
    bank, db = stores.bank, stores.results
    intake = Intake(bank, db, world.keys, [])
    # att-1: q1 right, q2 full (3 points) + essay; att-2: q1 wrong, q2 partial (1) + essay
    intake.receive(world.seal("att-1", {"q1": "A", "q2": ["A", "C"], "q3": "A careful essay"}), CENTRE_ID,
                   EnvelopeMeta(proctors=("Pat Proctor",)))
    intake.receive(world.seal("att-2", {"q1": "B", "q2": ["A"], "q3": "Short"}), CENTRE_ID,
                   EnvelopeMeta(proctors=("Pat Proctor",)))
    yield db


def _task(db, attempt_id: str) -> int:
    return sql(db).execute("SELECT task_id FROM marking_tasks WHERE attempt_id = ?", [attempt_id]).fetchone()[0]


def test_double_marking_agreement_settles_and_passes(results):
    task = _task(results, "att-1")
    assert json.loads(task_response(results, task)["response_json"]) == "A careful essay"
    assert record_mark(results, task, "Mia Marker", 3).status == "open"
    with pytest.raises(MarkingError, match="second marker"):
        record_mark(results, task, "mia  MARKER", 3)                 # same person, other spelling
    outcome = record_mark(results, task, "Max Marker", 3.4)           # within 10% of 4
    assert outcome.status == "done" and outcome.final_score == pytest.approx(3.2) and outcome.attempt_completed
    row = sql(results).execute("SELECT total, passed, scoring_status FROM attempts"
                               " WHERE attempt_id = 'att-1'").fetchone()
    assert row == (pytest.approx(6.2), 1, "scored")
    with pytest.raises(MarkingError, match="is done, not open"):
        record_mark(results, task, "Third Person", 1)


def test_disagreement_goes_to_an_adjudicator_who_did_not_mark(results):
    task = _task(results, "att-2")
    record_mark(results, task, "Mia Marker", 0)
    assert record_mark(results, task, "Max Marker", 4).status == "adjudication"
    assert [t["status"] for t in list_tasks(results, "adjudication")] == ["adjudication"]
    with pytest.raises(MarkingError, match="cannot adjudicate"):
        adjudicate(results, task, "Max Marker", 2)
    with pytest.raises(ValidationError):
        adjudicate(results, task, "Ada Adjudicator", 5)               # above the maximum
    assert adjudicate(results, task, "Ada Adjudicator", 2).final_score == 2
    row = sql(results).execute("SELECT total, passed FROM attempts WHERE attempt_id = 'att-2'").fetchone()
    assert row == (3.0, 0)                                            # 0 + 1 + 2 < 5


def test_decisions_are_impartial_and_agree_with_the_score(results):
    with pytest.raises(DecisionRefused, match="before scoring is complete"):
        decide(results, "att-1", "Dana Decider", "pass", "meets the standard")
    decide(results, "att-1", "Dana Decider", "withheld", "awaiting marking")
    task = _task(results, "att-1")
    record_mark(results, task, "Mia Marker", 4)
    record_mark(results, task, "Max Marker", 4)
    for person, role in (("pat proctor", "proctor"), ("MIA MARKER", "marker")):
        with pytest.raises(DecisionRefused, match=role):
            decide(results, "att-1", person, "pass", "ok")
    with pytest.raises(DecisionRefused, match="contradicts"):
        decide(results, "att-1", "Dana Decider", "fail", "no")
    with pytest.raises(ValidationError):
        decide(results, "att-1", "Dana Decider", "pass", "  ")
    with pytest.raises(DecisionRefused, match="not in the results"):
        decide(results, "att-9", "Dana Decider", "pass", "ok")
    decide(results, "att-1", "Dana Decider", "pass", "meets the standard")
    rows = results_rows(results)
    assert rows[0]["decision"] == "pass" and rows[0]["decided_by"] == "dana decider"
    assert rows[1]["decision"] is None and rows[1]["scoring_status"] == "awaiting_marking"
    parsed = list(csv.DictReader(io.StringIO(results_csv(rows))))
    assert parsed[0]["attempt_id"] == "att-1" and parsed[0]["total"] == "7.0" and parsed[0]["passed"] == "1"


def test_csv_cells_cannot_become_formulas():
    text = results_csv([{"attempt_id": "=HYPERLINK(\"x\")", "candidate_id": "+1", "total": 3.0}])
    row = next(iter(csv.DictReader(io.StringIO(text))))
    assert row["attempt_id"].startswith("'=") and row["candidate_id"] == "'+1"


def _cli(world, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "item_bank_sync", "--data", str(world.data_dir), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=120)


def test_cli_marking_decide_export_analyze(world, results):
    listed = json.loads(_cli(world, "marking", "list", "--json").stdout)
    assert {t["attempt_id"] for t in listed} == {"att-1", "att-2"}
    task = _task(results, "att-1")
    assert _cli(world, "marking", "mark", str(task), "--by", "Mia", "--score", "4").returncode == 0
    assert _cli(world, "marking", "mark", str(task), "--by", "Max", "--score", "4").returncode == 0
    refused = _cli(world, "decide", "att-1", "--by", "Mia", "--outcome", "pass", "--reason", "ok", "--json")
    assert refused.returncode == 1 and "marker" in json.loads(refused.stdout)["error"]
    ok = _cli(world, "decide", "att-1", "--by", "Dana", "--outcome", "pass", "--reason", "meets the standard")
    assert ok.returncode == 0, ok.stderr
    exported = _cli(world, "results", "export")
    assert "att-1" in exported.stdout and "pass" in exported.stdout
    analysis = _cli(world, "analyze", "--form", "F1", "--json", "--write-stats")
    assert analysis.returncode == 0, analysis.stderr
    data = json.loads(analysis.stdout)
    assert data["test"]["n_candidates"] == 1                        # only fully scored attempts
    q1 = next(i for i in data["items"] if i["item_id"] == "q1")
    assert q1["options"][0]["option"] == "A" and q1["options"][0]["is_key"]
    bank = central_db(world.data_dir).bank
    assert sql(bank).execute("SELECT item_id, p, n FROM item_stats ORDER BY item_id").fetchall()[0] == ("q1", 1.0, 1)
    listed_intake = json.loads(_cli(world, "intake", "list", "--json").stdout)
    assert {r["status"] for r in listed_intake} == {"accepted"}


def test_tolerance_is_a_setting_global_or_per_form(world, results):
    from item_bank_sync.results.marking import list_tolerances, set_tolerance

    bank = central_db(world.data_dir).bank
    intake = Intake(bank, results, world.keys, [])
    task = _task(results, "att-1")                                    # max 4, created with the default 10 %
    assert sql(results).execute("SELECT tolerance FROM marking_tasks WHERE task_id = ?", [task]).fetchone()[0] == \
        pytest.approx(0.4)
    changed = set_tolerance(results, 25, "Quinn Quality")             # global: re-applied to open tasks
    assert changed["open_tasks_updated"] == 2
    record_mark(results, task, "Mia Marker", 2)
    assert record_mark(results, task, "Max Marker", 3).status == "done"   # 1 point of 4 = 25 %: agreement
    set_tolerance(results, 5, "Quinn Quality", form_id="F1")          # the form's own setting wins
    intake.receive(world.seal("att-3", {"q1": "A", "q2": ["A"], "q3": "Essay"}), CENTRE_ID)
    new = _task(results, "att-3")
    assert sql(results).execute("SELECT tolerance FROM marking_tasks WHERE task_id = ?", [new]).fetchone()[0] == \
        pytest.approx(0.2)
    record_mark(results, new, "Mia Marker", 2)
    assert record_mark(results, new, "Max Marker", 2.5).status == "adjudication"   # 12.5 % > 5 %
    assert {(r["form_id"], r["percent"]) for r in list_tolerances(results)} == {(None, 25), ("F1", 5)}
    with pytest.raises(ValidationError):
        set_tolerance(results, 120, "Quinn Quality")


def test_cli_marking_tolerance(world, results):
    assert json.loads(_cli(world, "marking", "tolerance", "--json").stdout)[0]["percent"] == 10
    refused = _cli(world, "marking", "tolerance", "--percent", "20")
    assert refused.returncode != 0 and "--by" in refused.stderr
    done = json.loads(_cli(world, "marking", "tolerance", "--percent", "20", "--form", "F1", "--by", "Quinn",
                           "--json").stdout)
    assert done["open_tasks_updated"] == 2 and done["percent"] == 20
    shown = json.loads(_cli(world, "marking", "tolerance", "--json").stdout)
    assert {(r["form_id"], r["percent"]) for r in shown} == {(None, 10), ("F1", 20)}
