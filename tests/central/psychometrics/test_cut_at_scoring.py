"""The equated cut applied at scoring: a real envelope (tests/support/central_world.py) taken in
after an equating of its form was stored gets the form's raw cut that reaches the reference cut,
and that is the cut ``results export`` reports with the score."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import insert

from exam_core.timestamps import format_time, utc_now
from item_bank_sync.bank.schema import forms
from item_bank_sync.results.cuts import raw_cut_for
from item_bank_sync.results.intake import Intake
from tests.support.central_cli import Central
from tests.support.central_db import central_db, rows
from tests.support.central_world import CENTRE_ID, FORM_ID, FORM_VERSION, GOOD, build_world
from tests.support.psychometrics_world import matrix_with_totals, write_matrix


def test_raw_cut_is_the_first_raw_score_reaching_the_reference_cut() -> None:
    table = [{"raw": x, "equated": x + 0.6} for x in range(8)]
    assert raw_cut_for(table, 3.0) == 3.0            # 2.6 < 3 <= 3.6
    assert raw_cut_for(table, 3.6) == 3.0
    assert raw_cut_for(table, 9.0) == 8.0            # out of reach: one over the maximum


def _reference_form(data_dir: Path) -> None:
    doc = {"form_id": "R1", "version": 1, "scheme_id": "S1", "scheme_version": 1, "title": "Reference",
           "duration_seconds": 3600, "items": [{"item_id": i, "version": 1} for i in ("q1", "q2", "q3")]}
    with central_db(data_dir).bank.begin() as conn:
        conn.execute(insert(forms).values(form_id="R1", version=1, scheme_id="S1", scheme_version=1, build_id="b",
                                          seed=1, form_json=json.dumps(doc), created_at=format_time(utc_now())))


def test_stored_equating_sets_the_cut_scoring_applies(tmp_path: Path) -> None:
    world = build_world(tmp_path / "central", cut_score=3.0)
    _reference_form(world.data_dir)
    cli = Central(world.data_dir)
    # The new form's totals sit one point lower than the reference form's: mean equating adds ~1.
    new = write_matrix(tmp_path / "new.csv", matrix_with_totals([0, 20, 30, 30, 20, 0, 0, 0], 7), list("abcdefg"))
    ref = write_matrix(tmp_path / "ref.csv", matrix_with_totals([0, 0, 20, 30, 30, 20, 0, 0], 7), list("abcdefg"))
    stored = cli.json("equate", "--method", "mean", "--new", new, "--ref", ref, "--store-for",
                      f"{FORM_ID}@{FORM_VERSION}", "--reference-form", "R1@1", "--by", "psy")
    assert stored["stored"]["reference"] == "R1@1"
    assert [r["equated"] for r in stored["conversion"]][:3] == pytest.approx([1.0, 2.0, 3.0])
    cut = cli.json("standard-setting", "cut", "--form", f"{FORM_ID}@{FORM_VERSION}")
    assert cut["reference_cut"] == 3.0 and cut["cut"] == 2.0 and "equated (mean) from R1@1" in cut["source"]
    db = central_db(world.data_dir)
    Intake(db.bank, db.results, world.keys, []).receive(world.seal("att-1", GOOD), CENTRE_ID)
    assert rows(db.results, "SELECT cut_score FROM attempts") == [(2.0,)]
    export = tmp_path / "results.csv"
    cli.run("results", "export", "--out", export)
    header, first = export.read_text().splitlines()[:2]
    assert dict(zip(header.split(","), first.split(",")))["cut_score"] == "2.0"


def test_storing_needs_both_forms_in_the_bank(tmp_path: Path) -> None:
    world = build_world(tmp_path / "central")
    cli = Central(world.data_dir)
    m = write_matrix(tmp_path / "m.csv", matrix_with_totals([10] * 8, 7), list("abcdefg"))
    out = cli.run("equate", "--method", "mean", "--new", m, "--ref", m, "--store-for", "F1@2", "--reference-form",
                  "NOPE@1", "--by", "psy", "--json")
    assert out.exit_code == 1 and "not in the bank" in out.data["error"]
    half = cli.run("equate", "--method", "mean", "--new", m, "--ref", m, "--store-for", "F1@2", "--by", "psy",
                   "--json")
    nobody = cli.run("equate", "--method", "mean", "--new", m, "--ref", m, "--store-for", "F1@2",
                     "--reference-form", "F1@2", "--json")
    assert half.exit_code == 1 and nobody.exit_code == 1 and "--by" in nobody.data["error"]
