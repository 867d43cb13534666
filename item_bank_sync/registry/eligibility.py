"""A scheme's prerequisites checked against an application: pure functions, table-tested.

Each rule gives ``met``, ``not_met`` or ``needs_review`` with a reason; the application's result is
the worst of them (``not_met`` > ``needs_review`` > ``met``). The check only says what the data
allows: an applicant's own declaration of education or experience meets a rule pending the
registrar's review of the evidence; a certification held is ``met`` only when the body's own
register confirms it (``verified_certifications``), otherwise the registrar checks it. The
registrar then accepts or refuses with reasons (:mod:`.applications`); the automatic result never
decides on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from item_bank_sync.forms.schemes import EDUCATION_LEVELS
from item_bank_sync.registry import fields
from item_bank_sync.registry.errors import Refused

MET, NOT_MET, REVIEW = "met", "not_met", "needs_review"
_ORDER = {MET: 0, REVIEW: 1, NOT_MET: 2}
ANSWER_FIELDS = {"education_level", "experience_months", "certifications_held", "statement"}


@dataclass(frozen=True)
class Answers:
    """What the applicant declares (every field optional: a missing one makes its rule need review)."""

    education_level: str | None = None
    experience_months: int | None = None
    certifications_held: tuple[str, ...] = ()
    statement: str = ""

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> Answers:
        raw = raw or {}
        if not isinstance(raw, Mapping):
            raise Refused("answers: must be a mapping")
        unknown = sorted(set(map(str, raw)) - ANSWER_FIELDS)
        if unknown:
            raise Refused(f"answers.{unknown[0]}: not one of {', '.join(sorted(ANSWER_FIELDS))}")
        level = raw.get("education_level")
        if level is not None and level not in EDUCATION_LEVELS:
            raise Refused(f"answers.education_level: one of {', '.join(EDUCATION_LEVELS)}")
        months = raw.get("experience_months")
        if months is not None and (isinstance(months, bool) or not isinstance(months, int) or not 0 <= months <= 1200):
            raise Refused("answers.experience_months: a whole number of months from 0 to 1200")
        held = raw.get("certifications_held", [])
        if not isinstance(held, (list, tuple)) or len(held) > 50:
            raise Refused("answers.certifications_held: a list of at most 50 scheme ids")
        return cls(level, months, tuple(fields.identifier(h, "answers.certifications_held") for h in held),
                   fields.text(raw.get("statement", ""), "answers.statement", 5000, required=False))

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "certifications_held": list(self.certifications_held)}


@dataclass(frozen=True)
class RuleResult:
    rule: str
    result: str
    reason: str


@dataclass(frozen=True)
class Eligibility:
    result: str
    rules: tuple[RuleResult, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"result": self.result, "rules": [asdict(r) for r in self.rules]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Eligibility:
        return cls(data["result"], tuple(RuleResult(**r) for r in data["rules"]))


def check(prerequisites: Mapping[str, Any], answers: Answers, date_of_birth: str | None, on: date,
          verified_certifications: Iterable[str] = ()) -> Eligibility:
    """Every prerequisite of the scheme against the application, as of ``on``."""
    rules: list[RuleResult] = []
    if "education" in prerequisites:
        rules.append(_education(prerequisites["education"], answers.education_level))
    if "experience_months" in prerequisites:
        rules.append(_experience(int(prerequisites["experience_months"]), answers.experience_months))
    if "minimum_age" in prerequisites:
        rules.append(_age(int(prerequisites["minimum_age"]), date_of_birth, on))
    verified = set(verified_certifications)
    for scheme_id in prerequisites.get("certifications", []):
        rules.append(_certification(scheme_id, answers.certifications_held, verified))
    worst = max((r.result for r in rules), key=_ORDER.__getitem__, default=MET)
    return Eligibility(worst, tuple(rules))


def _education(required: str, declared: str | None) -> RuleResult:
    if declared is None:
        return RuleResult("education", REVIEW, f"requires {required}; the applicant declared no education level")
    if EDUCATION_LEVELS.index(declared) < EDUCATION_LEVELS.index(required):
        return RuleResult("education", NOT_MET, f"requires {required}; declared {declared}")
    return RuleResult("education", MET, f"requires {required}; declared {declared} (evidence to be reviewed)")


def _experience(required: int, declared: int | None) -> RuleResult:
    if declared is None:
        return RuleResult("experience_months", REVIEW, f"requires {required} months; none declared")
    if declared < required:
        return RuleResult("experience_months", NOT_MET, f"requires {required} months; declared {declared}")
    return RuleResult("experience_months", MET, f"requires {required} months; declared {declared} "
                                                "(evidence to be reviewed)")


def age_on(date_of_birth: date, on: date) -> int:
    """Whole years of age on ``on`` (a person born on 29 February has their birthday on 1 March)."""
    return on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))


def _age(required: int, date_of_birth: str | None, on: date) -> RuleResult:
    if not date_of_birth:
        return RuleResult("minimum_age", REVIEW, f"requires age {required}; the person's date of birth is not recorded")
    age = age_on(date.fromisoformat(date_of_birth), on)
    if age < required:
        return RuleResult("minimum_age", NOT_MET, f"requires age {required}; {age} on {on.isoformat()}")
    return RuleResult("minimum_age", MET, f"requires age {required}; {age} on {on.isoformat()}")


def _certification(scheme_id: str, declared: tuple[str, ...], verified: set[str]) -> RuleResult:
    rule = f"certification:{scheme_id}"
    if scheme_id in verified:
        return RuleResult(rule, MET, f"holds {scheme_id} (the body's register)")
    if scheme_id in declared:
        return RuleResult(rule, REVIEW, f"declares {scheme_id}, which the body's register does not confirm")
    return RuleResult(rule, NOT_MET, f"requires {scheme_id}; not declared")
