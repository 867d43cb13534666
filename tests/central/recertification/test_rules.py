"""The scheme's ``recertification`` section (read by the scheme reader) and the check of a holder
against it, table-tested: categories' minimums, the total, re-examination, and the two routes."""

from __future__ import annotations

import pytest

from item_bank_sync.forms.schemes import SchemeError, parse_scheme
from item_bank_sync.recertification.rules import NoRules, Rules, assess

BASE = """format: invigil-scheme/1
id: S1
version: 1
title: T
duration_minutes: 60
cut_score_percent: 60
certification_period_months: 24
blueprint: [{area: a, items: 1}]
"""
CPD = Rules(36, 20.0, {"training": 10.0, "practice": 5.0})


def rules_of(section: str) -> dict:
    return parse_scheme((BASE + "recertification:\n" + section).encode(), "s.yaml").to_dict()["recertification"]


def test_an_old_scheme_file_stays_valid_and_has_no_rules() -> None:
    doc = parse_scheme(BASE.encode(), "s.yaml").to_dict()
    assert "recertification" not in doc
    with pytest.raises(NoRules):
        Rules.of_scheme(doc, 36)


@pytest.mark.parametrize(("section", "expected"), [
    ("  cpd: {credits: 20, categories: {training: 10, practice: 5}}\n",
     Rules(24, 20.0, {"training": 10.0, "practice": 5.0})),
    ("  period_months: 60\n  reexamination: true\n", Rules(60, reexamination=True)),
    ("  cpd: {categories: {training: 10}}\n  reexamination: true\n  route: any\n",
     Rules(24, 10.0, {"training": 10.0}, True, "any")),
    ("  reexamination: true\n  grace_months: 6\n", Rules(24, reexamination=True, grace_months=6)),
])
def test_the_section_is_read_into_rules(section: str, expected: Rules) -> None:
    doc = parse_scheme((BASE + "recertification:\n" + section).encode(), "s.yaml").to_dict()
    assert Rules.of_scheme(doc, 36) == expected


@pytest.mark.parametrize(("section", "problem"), [
    ("  period_months: 12\n", "must ask for cpd, reexamination or both"),
    ("  cpd: {credits: 5, categories: {training: 10}}\n", "at least the categories' minimums"),
    ("  cpd: {credits: 0}\n", "must be positive"),
    ("  cpd: {credits: 5, hours: 3}\n", "only credits and categories"),
    ("  cpd: {categories: {'bad name!': 3}}\n", "identifier"),
    ("  reexamination: true\n  route: either\n", "must be all or any"),
    ("  reexamination: yes please\n", "must be a bool"),
    ("  reexamination: true\n  period_months: 0\n", "from 1 to 600"),
    ("  reexamination: true\n  interview: true\n", "is not one of"),
    ("  reexamination: true\n  grace_months: 121\n", "from 0 to 120"),
])
def test_bad_sections_are_refused_naming_the_field(section: str, problem: str) -> None:
    with pytest.raises(SchemeError, match=problem):
        rules_of(section)


@pytest.mark.parametrize(("rules", "credits", "exam", "met", "shortfalls"), [
    (CPD, {"training": 12, "practice": 8}, False, True, []),
    (CPD, {"training": 12, "practice": 4}, False, False, ["practice: 4 of 5 credits", "total: 16 of 20 credits"]),
    (CPD, {"training": 10, "practice": 5}, False, False, ["total: 15 of 20 credits"]),
    (CPD, {"training": 10, "practice": 5, "hobby": 50}, False, False, ["total: 15 of 20 credits"]),  # unlisted: no
    (CPD, {}, False, False, ["practice: 0 of 5 credits", "training: 0 of 10 credits", "total: 0 of 20 credits"]),
    (Rules(36, 10.0), {"anything": 10}, False, True, []),                   # no categories: every category counts
    (Rules(36, reexamination=True), {}, False, False, ["re-examination: no pass within the period"]),
    (Rules(36, reexamination=True), {}, True, True, []),
    (Rules(36, 10.0, {}, True, "all"), {"x": 10}, False, False, ["re-examination: no pass within the period"]),
    (Rules(36, 10.0, {}, True, "all"), {"x": 10}, True, True, []),
    (Rules(36, 10.0, {}, True, "any"), {"x": 10}, False, True, []),
    (Rules(36, 10.0, {}, True, "any"), {"x": 2}, True, True, []),
    (Rules(36, 10.0, {}, True, "any"), {"x": 2}, False, False,
     ["total: 2 of 10 credits", "re-examination: no pass within the period"]),
])
def test_assess(rules: Rules, credits: dict, exam: bool, met: bool, shortfalls: list[str]) -> None:
    verdict = assess(rules, {k: float(v) for k, v in credits.items()}, exam)
    assert (verdict.met, list(verdict.shortfalls)) == (met, shortfalls)
