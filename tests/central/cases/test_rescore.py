"""The re-score replay: the exact original inputs reproduce the stored scores bit for bit; a key
correction changes them, and applied, turns the pass into a fail (a new decision) and withdraws the
certificate the pass issued; both audited. Refused when the stored bytes no longer match. A re-mark
by a marker not involved in the attempt, applied by the handler, does the same."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import insert, select, update

from exam_core.model import AnswerKey
from item_bank_sync.bank.schema import items
from item_bank_sync.cases.handling import CaseRefused, acknowledge, assign, lodge
from item_bank_sync.cases.keys import corrected_key
from item_bank_sync.cases.remark import apply_remark, remark
from item_bank_sync.cases.rescore import RescoreRefused, compute, rescore
from item_bank_sync.certificates.decision import record_decision
from item_bank_sync.certificates.registry import CertificateRegistry
from item_bank_sync.db.sql import write
from item_bank_sync.release.holds import release
from item_bank_sync.release.schema import rescores
from item_bank_sync.results.schema import attempts, decisions, envelope_archive, integrity_flags
from tests.support.body_pages import audit_entries
from tests.support.central_cli import Central
from tests.support.central_release import FAILED, MARKERS, PROCTOR, PASSED, Results, correct_key, results_world

APPEALS = "Ann Appeals"


@pytest.fixture
def results(tmp_path) -> Iterator[Results]:
    r = results_world(tmp_path / "central")
    yield r
    r.ctx.close()


def test_a_replay_reproduces_the_stored_scores_bit_for_bit_and_is_audited(results):
    for attempt_id in (PASSED, FAILED):
        done = rescore(results.ctx, attempt_id, APPEALS, "appeal: check the scoring")
        assert done.identical and done.changed_slots == [] and not done.applied and done.kind == "replay"
        assert done.after_total == done.before_total
    entries = audit_entries(results.world.data_dir, "results.rescore")
    assert [(e["actor"], e["data"]["attempt_id"], e["data"]["identical"]) for e in entries] == [
        ("ann appeals", PASSED, True), ("ann appeals", FAILED, True)]
    assert len(entries[0]["data"]["envelope_sha256"]) == 64 and len(entries[0]["data"]["keys_sha256"]) == 64


def test_a_replay_after_a_key_correction_changes_the_result_and_withdraws_the_certificate(results):
    ctx = results.ctx
    record_decision(ctx, PASSED, "Dee Decider", "pass", "confirmed")
    issued = release(ctx, "Rita Releaser", "results day", attempt_id=PASSED).settled.certificates.get(PASSED)
    assert issued is not None
    corrected = correct_key(ctx, "q1", "B")
    assert compute(ctx, PASSED)[0].identical      # the form still names q1 v1: a plain replay is unchanged
    with ctx.open_bank_db().connect() as conn:
        raw = conn.execute(select(items.c.key_json).where(items.c.item_id == "q1", items.c.version == 2)).scalar_one()
    dry = rescore(ctx, PASSED, APPEALS, "key of q1 corrected", corrections={"q1": AnswerKey.from_dict(json.loads(raw))})
    assert not dry.identical and dry.changed_slots == ["q1.RESPONSE"] and not dry.applied
    assert (dry.before_total, dry.after_total, dry.before_passed, dry.after_passed) == (6.0, 5.0, True, False)
    with ctx.open_results_db().connect() as conn:
        assert conn.execute(select(attempts.c.total).where(attempts.c.attempt_id == PASSED)).scalar_one() == 6.0
    cli = Central(results.world.data_dir)
    applied = cli.json("cases", "rescore", PASSED, "--key-from", corrected, "--apply", "--by", APPEALS,
                       "--reason", "key of q1 corrected")
    assert applied["applied"] and applied["decision"] == "fail"
    with ctx.open_results_db().connect() as conn:
        assert conn.execute(select(attempts.c.total, attempts.c.passed)
                            .where(attempts.c.attempt_id == PASSED)).one() == (5.0, 0)
        d = decisions.c
        latest = conn.execute(select(d.outcome, d.decided_by).where(d.attempt_id == PASSED)
                              .order_by(d.id.desc()).limit(1)).one()
        kinds = [r[0] for r in conn.execute(select(rescores.c.kind).order_by(rescores.c.id))]
    assert tuple(latest) == ("fail", "ann appeals") and kinds == ["key_correction", "key_correction"]
    assert CertificateRegistry(ctx).get(issued).status == "withdrawn"
    again = rescore(ctx, PASSED, APPEALS, "replay after the correction")
    assert again.identical is False      # the stored scores now follow the corrected key, the bank's v1 key does not
    actions = [e["data"]["kind"] for e in audit_entries(results.world.data_dir, "results.rescore")]
    assert actions == ["key_correction", "key_correction", "replay"]
    assert audit_entries(results.world.data_dir, "certificate.withdraw")[0]["actor"] == "ann appeals"


def test_a_change_of_scores_is_refused_to_anyone_who_took_part_in_the_attempt_before_anything_is_written(results):
    """Applying a re-score is a judgement on the result: the attempt's decider or proctor may not,
    even when the outcome would stay and no new decision follows (ISO/IEC 17024 9.8)."""
    ctx = results.ctx
    record_decision(ctx, PASSED, "Dee Decider", "pass", "confirmed")
    corrections = {"q1": corrected_key(ctx, correct_key(ctx, "q1", "B"))}
    for who, role in (("Dee Decider", "decision maker"), (PROCTOR, "proctor")):
        with pytest.raises(RescoreRefused, match=role):
            rescore(ctx, PASSED, who, "key of q1 corrected", corrections=corrections, apply=True)
    with ctx.open_results_db().connect() as conn:
        assert conn.execute(select(attempts.c.total).where(attempts.c.attempt_id == PASSED)).scalar_one() == 6.0
        assert conn.execute(select(rescores.c.id)).first() is None


def test_a_replay_is_refused_when_the_stored_bytes_changed(results):
    with write(results.ctx.open_results_db()) as conn:
        data = bytes(conn.execute(select(envelope_archive.c.envelope)).scalars().first())
        conn.execute(update(envelope_archive).values(envelope=data[:-2] + b" }"))
    with pytest.raises(RescoreRefused, match="no longer match"):
        rescore(results.ctx, PASSED, APPEALS, "check")


def test_a_key_correction_for_an_item_not_on_the_form_is_refused(results):
    stray = AnswerKey.from_dict({"item_id": "zz", "version": 1, "responses": [
        {"response_id": "RESPONSE", "cardinality": "single", "base_type": "identifier", "template": "match_correct",
         "correct": "A"}]})
    with pytest.raises(RescoreRefused, match="not on form"):
        rescore(results.ctx, PASSED, APPEALS, "check", corrections={"zz": stray})


def test_a_remark_by_an_uninvolved_marker_applied_by_the_handler_changes_the_result(results):
    ctx = results.ctx
    record_decision(ctx, PASSED, "Dee Decider", "pass", "confirmed")
    cert_id = release(ctx, "Rita Releaser", "results day", attempt_id=PASSED).settled.certificates[PASSED]
    for person in (*MARKERS, PROCTOR, "Dee Decider"):
        with pytest.raises(CaseRefused, match="took no part"):
            remark(ctx, PASSED, "q3", person, 1)
    with pytest.raises(CaseRefused, match="not marked by people"):
        remark(ctx, PASSED, "q1", "Rae Remarker", 0)
    cli = Central(results.world.data_dir)
    case_id = lodge(ctx, "Reg Istrar", "appeal", "result", "cand-p", "Please look again.", attempt_id=PASSED)
    acknowledge(ctx, "Reg Istrar", case_id, days=20)
    assign(ctx, "Ada Admin", case_id, APPEALS)
    asked = cli.json("cases", "remark-ask", case_id, "--item", "q3", "--marker", "Rae Remarker", "--by", APPEALS)
    remark_id = cli.json("cases", "remark", str(asked["id"]), "--score", "1", "--by", "Rae Remarker")["remark_id"]
    with ctx.open_results_db().connect() as conn:
        assert conn.execute(select(attempts.c.total).where(attempts.c.attempt_id == PASSED)).scalar_one() == 6.0
    done = cli.json("cases", "apply-remark", str(remark_id), "--by", APPEALS)
    assert (done["score_before"], done["score"], done["decision"]) == (3.0, 1.0, "fail")
    assert CertificateRegistry(ctx).get(cert_id).status == "withdrawn"
    with pytest.raises(CaseRefused, match="took no part"):     # the re-marker is now a marker of the attempt
        remark(ctx, PASSED, "q3", "Rae Remarker", 2)
    refused = cli.run("cases", "apply-remark", str(remark_id), "--by", APPEALS, "--json")
    assert refused.exit_code == 1 and "applied already" in refused.output
    assert [e["actor"] for e in audit_entries(results.world.data_dir, "results.remark")] == ["rae remarker"]
    assert [e["actor"] for e in audit_entries(results.world.data_dir, "results.remark-apply")] == ["ann appeals"]


def _flag(ctx, attempt_id: str) -> None:
    with write(ctx.open_results_db()) as conn:
        conn.execute(insert(integrity_flags).values(kind="fast", attempt_id=attempt_id, score=3.0, detail_json="{}",
                                                    created_at="2026-01-01T00:00:00Z"))


def test_a_changed_outcome_on_a_flagged_attempt_needs_the_handler_to_state_the_flags_were_reviewed(results):
    """Fix: the new decision after a re-score or re-mark used to be refused for the attempt's
    integrity flags (after the scores had changed). Now it is refused *before* anything is written
    unless the handler states the review (--flags-reviewed), and then it is recorded with the count."""
    ctx, cli = results.ctx, Central(results.world.data_dir)
    _flag(ctx, PASSED)
    corrected = correct_key(ctx, "q1", "B")
    args = ("cases", "rescore", PASSED, "--key-from", corrected, "--apply", "--by", APPEALS, "--reason", "q1 key")
    refused = cli.run(*args, "--json")
    assert refused.exit_code == 1 and "integrity flag" in refused.output
    with ctx.open_results_db().connect() as conn:
        assert conn.execute(select(attempts.c.total).where(attempts.c.attempt_id == PASSED)).scalar_one() == 6.0
    assert cli.json(*args, "--flags-reviewed")["decision"] == "fail"
    assert audit_entries(results.world.data_dir, "decide")[-1]["data"]["integrity_flags_reviewed"] == 1


def test_a_remark_changing_a_flagged_attempts_outcome_needs_the_flags_reviewed(results):
    ctx, cli = results.ctx, Central(results.world.data_dir)
    _flag(ctx, PASSED)
    remark_id = remark(ctx, PASSED, "q3", "Rae Remarker", 1)
    with pytest.raises(RescoreRefused, match="integrity flag"):
        apply_remark(ctx, remark_id, APPEALS)
    with ctx.open_results_db().connect() as conn:
        assert conn.execute(select(attempts.c.total).where(attempts.c.attempt_id == PASSED)).scalar_one() == 6.0
    done = cli.json("cases", "apply-remark", str(remark_id), "--flags-reviewed", "--by", APPEALS)
    assert done["decision"] == "fail"
