"""Re-mark requests as records: the case's handler asks one named marker (an involved one refused,
as is anyone but the handler); only that marker answers, once; the handler withdraws an open
request with a reason, after which it cannot be answered; the marker's list holds only their open
requests; the CLI writes the audit entries the service does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from item_bank_sync.cases import remark_requests
from item_bank_sync.cases.handling import CaseRefused, acknowledge, assign, get, lodge
from tests.support.body_pages import audit_entries
from tests.support.central_cli import Central
from tests.support.central_release import MARKERS, PASSED, PROCTOR, Results, results_world

HANDLER = "Ann Appeals"
RAE, SAM = "Rae Remarker", "Sam Second"


@pytest.fixture
def results(tmp_path) -> Iterator[Results]:
    r = results_world(tmp_path / "central")
    yield r
    r.ctx.close()


def _case(results: Results) -> str:
    ctx = results.ctx
    case_id = lodge(ctx, "Reg Istrar", "appeal", "result", "cand-p", "My essay deserved more.", attempt_id=PASSED)
    acknowledge(ctx, "Reg Istrar", case_id, days=20)
    assign(ctx, "Ada Admin", case_id, HANDLER)
    return case_id


def test_only_the_handler_asks_and_never_of_an_involved_marker(results):
    ctx, case_id = results.ctx, _case(results)
    for person in (*MARKERS, PROCTOR):
        with pytest.raises(CaseRefused, match="took no part"):
            remark_requests.ask(ctx, HANDLER, case_id, "q3", person)
    with pytest.raises(CaseRefused, match="only the case's handler"):
        remark_requests.ask(ctx, "Ada Admin", case_id, "q3", RAE)
    with pytest.raises(CaseRefused, match="not marked by people"):
        remark_requests.ask(ctx, HANDLER, case_id, "q1", RAE)
    assert remark_requests.of_case(ctx, case_id) == []
    assert audit_entries(results.world.data_dir, "case.remark-ask") == []


def test_only_the_named_marker_answers_and_only_once(results):
    ctx, case_id = results.ctx, _case(results)
    request_id = remark_requests.ask(ctx, HANDLER, case_id, "q3", RAE)
    assert [r["id"] for r in remark_requests.open_for(ctx, RAE)] == [request_id]
    assert remark_requests.open_for(ctx, SAM) == []
    with pytest.raises(CaseRefused, match="not asked of"):
        remark_requests.answer(ctx, request_id, SAM, 1)
    remark_id = remark_requests.answer(ctx, request_id, RAE, 1.5, "the argument holds")
    with pytest.raises(CaseRefused, match="only once"):
        remark_requests.answer(ctx, request_id, RAE, 2)
    row = remark_requests.get_request(ctx, request_id)
    assert (row["status"], row["remark_id"]) == ("answered", remark_id)
    assert remark_requests.open_for(ctx, RAE) == []
    assert [e["action"] for e in get(ctx, case_id)["events"]][-2:] == ["remark-asked", "remark"]
    assert [e["actor"] for e in audit_entries(results.world.data_dir, "results.remark")] == ["rae remarker"]


def test_a_withdrawn_request_needs_a_reason_and_cannot_be_answered(results):
    ctx, case_id = results.ctx, _case(results)
    request_id = remark_requests.ask(ctx, HANDLER, case_id, "q3", RAE)
    with pytest.raises(CaseRefused, match="only the case's handler"):
        remark_requests.withdraw(ctx, RAE, request_id, "not mine to withdraw")
    with pytest.raises(Exception, match="must be given"):
        remark_requests.withdraw(ctx, HANDLER, request_id, "  ")
    done = remark_requests.withdraw(ctx, HANDLER, request_id, "asked of the wrong marker")
    assert (done["status"], done["withdraw_reason"], done["withdrawn_by"]) == (
        "withdrawn", "asked of the wrong marker", "ann appeals")
    with pytest.raises(CaseRefused, match="withdrawn"):
        remark_requests.answer(ctx, request_id, RAE, 1)
    with pytest.raises(CaseRefused, match="only an open one"):
        remark_requests.withdraw(ctx, HANDLER, request_id, "again")
    assert audit_entries(results.world.data_dir, "results.remark") == []


def test_the_cli_asks_lists_answers_and_withdraws_with_the_services_audit_entries(results):
    ctx, case_id, cli = results.ctx, _case(results), Central(results.world.data_dir)
    first = cli.json("cases", "remark-ask", case_id, "--item", "q3", "--marker", RAE, "--by", HANDLER)
    assert (first["status"], first["marker"], first["item_id"]) == ("open", "rae remarker", "q3")
    assert [r["id"] for r in cli.json("cases", "remarks", "--by", RAE)] == [first["id"]]
    refused = cli.run("cases", "remark", str(first["id"]), "--score", "1", "--by", SAM, "--json")
    assert refused.exit_code == 1 and "not asked of" in refused.output
    answered = cli.json("cases", "remark", str(first["id"]), "--score", "1", "--by", RAE)
    assert answered["request_id"] == first["id"]
    second = remark_requests.ask(ctx, HANDLER, case_id, "q3", SAM)
    withdrawn = cli.json("cases", "remark-withdraw", str(second), "--reason", "one re-mark is enough", "--by", HANDLER)
    assert withdrawn["status"] == "withdrawn"
    asks = audit_entries(results.world.data_dir, "case.remark-ask")
    assert [(e["actor"], e["data"]["marker"], e["data"]["item_id"]) for e in asks] == [
        ("ann appeals", "rae remarker", "q3"), ("ann appeals", "sam second", "q3")]
    assert [e["data"]["request_id"] for e in audit_entries(results.world.data_dir, "case.remark-withdraw")] == [second]
