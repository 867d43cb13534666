"""Candidate tools are a setting of the scheme: parsed strictly, stored, carried into every form
(and so into the package the kiosk reads); schemes and forms stored before tools existed still
read, and re-adding or rebuilding them changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exam_core.model import CandidateTools, Form
from item_bank_sync.forms.schemes import SchemeError, parse_scheme
from item_bank_sync.items.synthetic import generate, scheme_yaml, write_package
from tests.support.central_db import central_db, execute, value

BASE = """format: invigil-scheme/1
id: NET
version: 1
title: Networking
duration_minutes: 60
cut_score_percent: 60
blueprint:
  - {area: a, items: 2}
"""


def test_tools_are_parsed_strictly_and_default_to_none() -> None:
    assert parse_scheme(BASE.encode(), "s.yaml").candidate_tools == CandidateTools()
    assert "tools" not in parse_scheme(BASE.encode(), "s.yaml").to_dict()
    scheme = parse_scheme((BASE + "tools: {calculator: basic, strike_through: true}\n").encode(), "s.yaml")
    assert scheme.candidate_tools == CandidateTools(calculator="basic", strike_through=True)
    for bad, message in [("tools: {calculator: abacus}", "tools.calculator: must be one of none, basic, scientific"),
                         ("tools: {pen: true}", "tools.pen: is not a known field"),
                         ("tools: {highlighter: 1}", "tools.highlighter: must be true or false"),
                         ("tools: [calculator]", "tools: must be an object")]:
        with pytest.raises(SchemeError, match=message.replace("[", r"\[")):
            parse_scheme((BASE + bad + "\n").encode(), "s.yaml")


def test_forms_carry_the_schemes_tools_and_old_forms_rebuild_unchanged(central, tmp_path: Path) -> None:
    items = generate(20, ["alg", "geo"], seed=4)
    write_package(tmp_path / "items.zip", items)
    central.json("import", tmp_path / "items.zip")
    central.approve_all()
    plain = scheme_yaml("MATH", ["alg", "geo"], 3, [])
    (tmp_path / "plain.yaml").write_text(plain)
    (tmp_path / "tools.yaml").write_text(plain.replace("version: 1", "version: 2")
                                         + "tools: {calculator: scientific, line_reader: true, text_to_speech: true}\n")
    assert central.json("schemes", "add", tmp_path / "plain.yaml")["outcome"] == "added"
    assert central.json("schemes", "add", tmp_path / "tools.yaml")["outcome"] == "added"
    built = central.json("forms", "build", "--scheme", "MATH", "--scheme-version", "2", "--count", "1", "--seed", "1")
    form = Form.from_dict(central.json("forms", "show", built["forms"][0]["form_id"]))
    assert form.tools == CandidateTools(calculator="scientific", line_reader=True, text_to_speech=True)

    old = central.json("forms", "build", "--scheme", "MATH", "--scheme-version", "1", "--count", "1", "--seed", "1")
    form_id = old["forms"][0]["form_id"]
    bank = central_db(central.data_dir).bank  # the row as a bank written before tools existed holds it
    stored = json.loads(value(bank, "SELECT form_json FROM forms WHERE form_id = ?", form_id))
    del stored["tools"]
    execute(bank, "UPDATE forms SET form_json = ? WHERE form_id = ?", json.dumps(stored), form_id)
    assert Form.from_dict(stored).tools == CandidateTools()
    again = central.json("forms", "build", "--scheme", "MATH", "--scheme-version", "1", "--count", "1", "--seed", "1")
    assert [f["outcome"] for f in again["forms"]] == ["unchanged"]
    assert central.json("schemes", "add", tmp_path / "plain.yaml")["outcome"] == "unchanged"
