"""The scheme's prerequisites against applications: every rule table-tested (pure functions), the
scheme file's new section parsed and refused where wrong, and old scheme files still valid."""

from __future__ import annotations

from datetime import date

import pytest

from item_bank_sync.forms.schemes import SchemeError, parse_scheme
from item_bank_sync.registry.eligibility import MET, NOT_MET, REVIEW, Answers, age_on, check
from item_bank_sync.registry.errors import Refused

ON = date(2026, 12, 6)
ALL = {"education": "bachelor", "experience_months": 24, "minimum_age": 18, "certifications": ["BASE"]}


@pytest.mark.parametrize("prerequisites, answers, dob, verified, rules, result", [
    ({}, {}, None, (), [], MET),
    ({"education": "bachelor"}, {"education_level": "master"}, None, (), [MET], MET),
    ({"education": "bachelor"}, {"education_level": "bachelor"}, None, (), [MET], MET),
    ({"education": "bachelor"}, {"education_level": "secondary"}, None, (), [NOT_MET], NOT_MET),
    ({"education": "bachelor"}, {}, None, (), [REVIEW], REVIEW),
    ({"experience_months": 24}, {"experience_months": 24}, None, (), [MET], MET),
    ({"experience_months": 24}, {"experience_months": 23}, None, (), [NOT_MET], NOT_MET),
    ({"experience_months": 24}, {}, None, (), [REVIEW], REVIEW),
    ({"minimum_age": 18}, {}, "2008-12-06", (), [MET], MET),           # 18 today
    ({"minimum_age": 18}, {}, "2008-12-07", (), [NOT_MET], NOT_MET),   # 18 tomorrow
    ({"minimum_age": 18}, {}, None, (), [REVIEW], REVIEW),
    ({"certifications": ["BASE"]}, {}, None, ("BASE",), [MET], MET),
    ({"certifications": ["BASE"]}, {"certifications_held": ["BASE"]}, None, (), [REVIEW], REVIEW),
    ({"certifications": ["BASE"]}, {"certifications_held": ["OTHER"]}, None, (), [NOT_MET], NOT_MET),
    (ALL, {"education_level": "doctorate", "experience_months": 100}, "1980-01-01", ("BASE",), [MET] * 4, MET),
    (ALL, {"education_level": "doctorate", "experience_months": 100}, None, ("BASE",),
     [MET, MET, REVIEW, MET], REVIEW),
    (ALL, {"education_level": "none", "experience_months": 100}, None, ("BASE",),
     [NOT_MET, MET, REVIEW, MET], NOT_MET),
])
def test_rules(prerequisites: dict, answers: dict, dob: str | None, verified: tuple, rules: list[str],
               result: str) -> None:
    found = check(prerequisites, Answers.from_dict(answers), dob, ON, verified)
    assert [r.result for r in found.rules] == rules
    assert found.result == result
    assert all(r.reason for r in found.rules)


@pytest.mark.parametrize("born, on, age", [
    (date(2000, 2, 29), date(2018, 2, 28), 17), (date(2000, 2, 29), date(2018, 3, 1), 18),
    (date(2000, 6, 15), date(2026, 6, 14), 25), (date(2000, 6, 15), date(2026, 6, 15), 26),
])
def test_age_in_whole_years(born: date, on: date, age: int) -> None:
    assert age_on(born, on) == age


@pytest.mark.parametrize("answers, problem", [
    ({"education_level": "phd"}, "education_level"), ({"experience_months": -1}, "experience_months"),
    ({"experience_months": True}, "experience_months"), ({"salary": 1}, "salary"),
    ({"certifications_held": "BASE"}, "certifications_held"), ({"statement": "x" * 5001}, "statement"),
])
def test_bad_answers_refused(answers: dict, problem: str) -> None:
    with pytest.raises(Refused, match=problem):
        Answers.from_dict(answers)


BASE = "format: invigil-scheme/1\nid: S\nversion: 1\ntitle: S\nduration_minutes: 30\ncut_score_percent: 50\n" \
       "blueprint: [{area: A, items: 1}]\n"


def test_scheme_prerequisites_parsed_and_old_files_unchanged() -> None:
    old = parse_scheme(BASE.encode(), "s.yaml")
    assert old.prerequisites == {} and "prerequisites" not in old.to_dict()
    new = parse_scheme((BASE + "prerequisites: {education: master, experience_months: 12, minimum_age: 21, "
                               "certifications: [BASE]}\n").encode(), "s.yaml")
    assert new.prerequisites == {"education": "master", "experience_months": 12, "minimum_age": 21,
                                 "certifications": ["BASE"]}
    assert type(new).from_dict(new.to_dict()) == new


@pytest.mark.parametrize("section, problem", [
    ("{education: phd}", "prerequisites.education"), ("{experience_months: -3}", "experience_months"),
    ("{minimum_age: 500}", "minimum_age"), ("{certifications: [\"no spaces\"]}", "certifications"),
    ("{gpa: 3}", "prerequisites.gpa"), ("[education]", "prerequisites"),
])
def test_bad_prerequisites_refused(section: str, problem: str) -> None:
    with pytest.raises(SchemeError, match=problem):
        parse_scheme((BASE + f"prerequisites: {section}\n").encode(), "s.yaml")
