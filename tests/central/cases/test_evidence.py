"""The accreditation evidence pack: for a scheme and period, decisions and certificates issued,
status changes, appeals and complaints with their times, item analysis per form, incidents per
centre, corrective actions, re-scores and the audit chain's verification, as JSON files and an
HTML index that real Chromium opens and axe-core finds no serious fault in; the score report page
too. Nothing of the person's words reaches the pack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest

from exam_core.errors import ValidationError
from exam_core.timestamps import utc_now
from item_bank_sync.cases import corrective, handling
from item_bank_sync.cases.evidence import EvidenceRefused, SECTIONS, period, write_pack
from item_bank_sync.cases.rescore import rescore
from item_bank_sync.certificates.decision import record_decision
from item_bank_sync.certificates.registry import CertificateRegistry
from item_bank_sync.release.holds import release
from item_bank_sync.release.report import report_html, score_report
from tests.support.central_cli import Central
from tests.support.central_db import audit_of
from tests.support.central_release import FAILED, PASSED, Results, results_world
from tests.support.staff_web import axe_serious

WORDS = "My neighbour's dog distracted me"


@pytest.fixture
def results(tmp_path) -> Iterator[Results]:
    r = results_world(tmp_path / "central")
    yield r
    r.ctx.close()


def _activity(results: Results) -> str:
    ctx = results.ctx
    record_decision(ctx, PASSED, "Ike Issuer", "pass", "confirmed")             # issued at release
    cert = release(ctx, "Ike Issuer", "results day", attempt_id=PASSED).settled.certificates[PASSED]
    registry = CertificateRegistry(ctx)
    registry.suspend(cert, "Sue Spender", "investigation", utc_now().replace(year=2099))
    registry.restore(cert, "Sue Spender", "cleared")
    case_id = handling.lodge(ctx, "Reg", "appeal", "result", f"cand-{FAILED}", WORDS, attempt_id=FAILED)
    handling.acknowledge(ctx, "Reg", case_id)
    handling.lodge(ctx, "Reg", "complaint", "body", "someone", WORDS)
    rescore(ctx, FAILED, "Ann Appeals", "appeal")
    corrective.open_action(ctx, "Reg", "appeal", "check marking guidance", source_ref=case_id)
    release(ctx, "Rita Releaser", "results day", form="F1")
    return case_id


def test_the_pack_holds_every_section_and_its_index_passes_axe_in_chromium(results, tmp_path, browser):
    case_id = _activity(results)
    today = date.today().isoformat()
    out = tmp_path / "pack"
    summary = Central(results.world.data_dir).json("evidence", "--scheme", "S1", "--from", today, "--to", today,
                                                   "--out", out, "--by", "Aud Itor")
    assert summary["audit_valid"] and summary["counts"]["decisions"] == 3   # two at intake time, one by Ike
    files = {p.name for p in out.iterdir()}
    assert files == {"index.html", "pack.json", *(f"{s}.json" for s in SECTIONS)}
    load = {s: json.loads((out / f"{s}.json").read_text()) for s in SECTIONS}
    assert [c["action"] for c in load["status_changes"]] == ["issue", "suspend", "restore"]
    assert {(c["kind"], c["category"]) for c in load["cases"]} == {("appeal", "result"), ("complaint", "body")}
    assert next(c for c in load["cases"] if c["case_id"] == case_id)["acknowledged_at"]
    assert load["item_analysis"][0]["form"] == "F1@2" and {i["item_id"] for i in load["item_analysis"][0]["items"]} \
        == {"q1", "q2", "q3"}
    assert [(i["type"], i["kind"], i["count"]) for i in load["incidents"]] == [("alert", "face.missing", 1),
                                                                                ("incident", "proctor.note", 1)]
    assert load["rescores"][0]["identical"] == 1 and load["corrective_actions"][0]["source_ref"] == case_id
    chain = load["audit_chain"]
    assert chain["valid"] and chain["entries"] == audit_of(results.world.data_dir).count() - 1   # before its own entry
    for path in out.iterdir():
        assert WORDS not in path.read_text()
    page = browser.new_page()
    try:
        page.goto(f"file://{out / 'index.html'}")
        assert page.get_by_role("heading", name="Accreditation evidence pack").is_visible()
        assert page.get_by_role("link", name="decisions.json").count() == 1
        assert axe_serious(page) == []
        report = tmp_path / "report.html"
        report.write_text(report_html(score_report(results.ctx, FAILED)), "utf-8")
        page.goto(f"file://{report}")
        assert page.get_by_role("table").is_visible() and axe_serious(page) == []
    finally:
        page.close()


def test_the_pack_refuses_an_unknown_scheme_a_reversed_period_and_a_used_directory(results, tmp_path):
    today = date.today()
    with pytest.raises(EvidenceRefused, match="no forms"):
        write_pack(results.ctx, "nope", period(today.isoformat(), today.isoformat()), tmp_path / "a")
    with pytest.raises(ValidationError, match="before"):
        period("2026-02-01", "2026-01-01")
    used = tmp_path / "used"
    used.mkdir()
    (used / "x").write_text("x")
    with pytest.raises(EvidenceRefused, match="not empty"):
        write_pack(results.ctx, "S1", period(today.isoformat(), today.isoformat()), used)
