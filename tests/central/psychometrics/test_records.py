"""Psychometric records through the real CLI (in-process): ``analyze --form --irt 2pl
--write-params`` and ``params``, a modified-Angoff study from panel to adopted cut, stored
equatings, and the cut in force applied when attempts are scored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.support.psychometrics_world import ITEM_IDS, TRUE_A, TRUE_B, build_form_world
from tests.support.psychometrics_world import matrix_with_totals, write_matrix
from tests.support.central_cli import Central
from tests.support.central_db import audit_of, rows, central_db


@pytest.fixture
def world(central: Central) -> Central:
    build_form_world(central.data_dir)
    return central


def test_write_params_stores_each_item_version_with_its_run(world: Central) -> None:
    out = world.json("analyze", "--form", "FA@1", "--irt", "2pl", "--write-params", "--by", "psy.lead")
    irt = out["irt"]
    assert irt["converged"] and irt["n_candidates"] == 600 and irt["stored"] == 12 and irt["form"] == "FA@1"
    a = np.array([i["a"] for i in irt["items"]])
    b = np.array([i["b"] for i in irt["items"]])
    se_b = np.array([i["se_b"] for i in irt["items"]])
    assert np.all(np.abs(b - TRUE_B) < 4 * se_b + 0.05)          # recovery within stated error
    assert np.corrcoef(a, TRUE_A)[0, 1] > 0.8
    listed = world.json("params")["parameters"]
    assert [r["item_id"] for r in sorted(listed, key=lambda r: r["item_id"])] == ITEM_IDS
    row = listed[0]
    assert row["model"] == "2pl" and row["version"] == 1 and row["n_candidates"] == 600
    assert row["form_id"] == "FA" and row["converged"] is True and row["calibrated_by"] == "psy.lead"
    assert row["calibrated_at"] and "s_x2" in row["fit"]
    actions = [e.action for e in audit_of(world.data_dir).entries()]
    assert "psychometrics.calibrate" in actions
    world.json("analyze", "--form", "FA@1", "--irt", "rasch", "--write-params", "--by", "psy.lead")
    history = world.json("params", "--item", "I01", "--all")["parameters"]
    assert [r["model"] for r in history] == ["rasch", "2pl"]          # newest first, nothing overwritten


def test_write_params_needs_form_irt_and_who(world: Central) -> None:
    for args in (("--write-params",), ("--irt", "2pl", "--write-params")):   # no model; nobody named
        refused = world.run("analyze", "--form", "FA@1", *args, "--json")
        assert refused.exit_code == 1 and "--by" in refused.data["error"]
    assert world.json("params")["parameters"] == []


def _panel(tmp: Path) -> Path:
    path = tmp / "panel.csv"
    path.write_text("panellist_id,trained_candidates,conflicts\nP1,no,\nP2,no,\nP3,yes,runs a prep course\n"
                    "P4,no,employer of two candidates\n")
    return path


def _ratings(tmp: Path, name: str, levels: dict[str, float]) -> Path:
    path = tmp / name
    lines = ["panellist,item_id,rating"] + [f"{p},{i},{v}" for p, v in levels.items() for i in ITEM_IDS]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_modified_angoff_from_panel_to_the_cut_in_force(world: Central, tmp_path: Path) -> None:
    opened = world.json("standard-setting", "open", "ANG1", "--scheme", "S2@1", "--form", "FA@1",
                        "--panel", _panel(tmp_path), "--by", "chair")
    flagged = {p["panellist_id"]: p["flags"] for p in opened["panel"]}
    assert flagged["P3"] and not flagged["P1"] and not flagged["P4"]
    world.json("standard-setting", "rate", "ANG1", "--round", "1",
               "--ratings", _ratings(tmp_path, "r1.csv", {"P1": .5, "P2": .6, "P3": .4, "P4": .7}), "--by", "chair")
    early = world.run("standard-setting", "rate", "ANG1", "--round", "2", "--ratings",
                      _ratings(tmp_path, "r2.csv", {"P1": .55, "P2": .6, "P3": .45, "P4": .6}), "--json")
    assert early.exit_code == 1 and "impact" in early.data["error"]          # the panel sees impact first
    impact = world.json("standard-setting", "impact", "ANG1", "--by", "chair")
    assert impact["cut"] == pytest.approx(12 * (.5 + .6 + .4 + .7) / 4)
    totals = np.array([r[0] for r in rows(central_db(world.data_dir).results,
                                          "SELECT total FROM attempts WHERE form_id = 'FA'")])
    assert impact["pass_rate"] == pytest.approx(float(np.mean(totals >= impact["cut"])), abs=1e-6)
    world.json("standard-setting", "rate", "ANG1", "--round", "2", "--ratings", tmp_path / "r2.csv", "--by", "chair")
    rec = world.json("standard-setting", "recommend", "ANG1", "--exclude-flagged", "--by", "chair")
    cuts = [12 * v for v in (.55, .6, .6)]                                   # P3 (a trainer) left out
    assert rec["cut"] == pytest.approx(np.mean(cuts)) and rec["excluded"] == ["P3"]
    assert rec["se"] == pytest.approx(np.std(cuts, ddof=1) / np.sqrt(3))
    before = world.json("standard-setting", "cut", "--form", "FA@1")
    assert before["cut"] == pytest.approx(7.2) and before["source"].startswith("scheme")   # 60 % of 12
    adopted = world.json("standard-setting", "adopt", "ANG1", "--cut", "7", "--reason", "recommendation "
                         "rounded to a whole point", "--by", "board")
    assert adopted["cut"] == 7 and adopted["decided_by"] == "board"
    shown = world.json("standard-setting", "show", "ANG1")
    assert shown["cut_in_force"]["cut"] == 7 and shown["cut_in_force"]["detail"]["recommended"] == rec["cut"]
    assert [len(r["panellist_cuts"]) for r in shown["rounds"]] == [4, 4]
    after = world.json("standard-setting", "cut", "--form", "FB@1")
    assert after["cut"] == 7 and "adopted" in after["source"]
    # FB's totals sit one point below FA's: equated to the study form, FB's raw cut is 6.
    ids = [f"k{j}" for j in range(12)]
    fa = write_matrix(tmp_path / "fa.csv", matrix_with_totals([0, 5, 10, 20, 30, 40, 30, 20, 10, 5, 3, 2, 0], 12), ids)
    fb = write_matrix(tmp_path / "fb.csv", matrix_with_totals([5, 10, 20, 30, 40, 30, 20, 10, 5, 3, 2, 0, 0], 12), ids)
    world.json("equate", "--method", "mean", "--new", fb, "--ref", fa, "--store-for", "FB@1",
               "--reference-form", "FA@1", "--by", "psy")
    equated = world.json("standard-setting", "cut", "--form", "FB@1")
    assert equated["cut"] == 6 and equated["reference_cut"] == 7 and "note" not in equated["source"]
    actions = [e.action for e in audit_of(world.data_dir).entries()]
    assert {"standard_setting.open", "standard_setting.rate", "standard_setting.impact",
            "standard_setting.recommended", "standard_setting.adopted"} <= set(actions)


def test_ratings_are_checked_at_the_boundary(world: Central, tmp_path: Path) -> None:
    world.json("standard-setting", "open", "ANG2", "--scheme", "S2@1", "--form", "FA@1", "--panel", _panel(tmp_path))
    bad = tmp_path / "bad.csv"
    for body, reason in (("P1,I01,1.5", "0 to 1"), ("PX,I01,.5", "not a panellist"), ("P1,ZZ,.5", "not on form"),
                         ("P1,I01,.5", "did not rate")):
        bad.write_text("panellist,item_id,rating\n" + body + "\n")
        out = world.run("standard-setting", "rate", "ANG2", "--round", "1", "--ratings", bad, "--json")
        assert out.exit_code == 1 and reason in out.data["error"], out.output
    assert world.run("standard-setting", "adopt", "ANG2", "--reason", "x", "--json").exit_code == 1


def test_review_exam_brings_the_evidence_together_and_flags_shortfalls(world: Central, tmp_path: Path) -> None:
    groups = tmp_path / "groups.csv"
    cands = [r[0] for r in rows(central_db(world.data_dir).results,
                                "SELECT candidate_id FROM attempts WHERE form_id = 'FB' ORDER BY attempt_id")]
    groups.write_text("candidate_id,group\n" + "".join(f"{c},{'en' if n % 2 else 'fr'}\n"
                                                       for n, c in enumerate(cands)))
    strict = tmp_path / "thresholds.json"
    strict.write_text('{"alpha_min": 0.99, "exposure_max": 0.6}')
    out = world.json("review-exam", "--form", "FB@1", "--groups", groups, "--reference", "en",
                     "--thresholds", strict, "--out", tmp_path / "review")
    assert out["n_candidates"] == 600 and out["irt"]["converged"]
    assert out["dif"]["n_reference"] == 300 and len(out["dif"]["items"]) == 12
    assert out["decision"]["cut"] == pytest.approx(7.2) and "livingston_lewis" in out["decision"]
    assert {e["exposure"] for e in out["exposure"]} == {1.0}       # both forms hold every item
    whats = {(f["section"], f["what"]) for f in out["flags"]}
    assert ("classical", "alpha") in whats and ("exposure", "exposure") in whats
    assert out["corrective_actions"]["opened"] == [] and "--open-actions" in out["corrective_actions"]["note"]
    html = (tmp_path / "review" / "review.html").read_text()
    assert html.count("data:image/png;base64,") >= 4 and "Exam performance review of form FB@1" in html
    assert (tmp_path / "review" / "review.json").exists()
    bad = tmp_path / "bad.json"
    bad.write_text('{"alpha_minimum": 0.9}')
    refused = world.run("review-exam", "--form", "FB@1", "--thresholds", bad, "--json")
    assert refused.exit_code == 1 and "unknown threshold" in refused.data["error"]


def test_review_exam_opens_one_corrective_action_per_flag_once(world: Central, tmp_path: Path) -> None:
    """9.3.5 -> 10.2: each flag becomes a corrective action (source item_analysis) in the name of who
    ran the review; a second run while they are open opens none again; without --by it is refused."""
    strict = tmp_path / "thresholds.json"
    strict.write_text('{"alpha_min": 0.99, "exposure_max": 0.6}')
    refused = world.run("review-exam", "--form", "FB@1", "--thresholds", strict, "--open-actions", "--json")
    assert refused.exit_code != 0 and "--by" in refused.output
    first = world.json("review-exam", "--form", "FB@1", "--thresholds", strict, "--open-actions", "--by", "ana")
    opened = first["corrective_actions"]["opened"]
    assert len(opened) == len(first["flags"]) >= 2
    actions = world.json("corrective", "list")
    listed = actions["actions"] if isinstance(actions, dict) else actions
    mine = [a for a in listed if a["source"] == "item_analysis"]
    assert {a["id"] for a in mine} == {o["id"] for o in opened}
    assert all(a["opened_by"] == "ana" and "FB@1" in a["description"] for a in mine)
    again = world.json("review-exam", "--form", "FB@1", "--thresholds", strict, "--open-actions", "--by", "ana")
    assert again["corrective_actions"]["opened"] == []
    assert len(again["corrective_actions"]["already_open"]) == len(opened)
    chain = rows(central_db(world.data_dir).bank, "SELECT action FROM audit_log WHERE action = 'corrective.open'")
    assert len(chain) == len(opened)


def test_review_report_opens_offline_in_chromium(world: Central, tmp_path: Path, page) -> None:
    """The review's HTML: every plot decodes, the flags table is there, no serious axe-core finding."""
    from tests.support.staff_web import axe_serious

    world.json("review-exam", "--form", "FA@1", "--out", tmp_path / "r")
    page.goto((tmp_path / "r" / "review.html").as_uri())
    assert page.title() == "Exam performance review of form FA@1"
    widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
    assert len(widths) >= 3 and all(w > 300 for w in widths)
    assert page.locator("h2#flags").count() == 1 and page.locator("tr.flag").count() >= 1
    assert axe_serious(page) == []
