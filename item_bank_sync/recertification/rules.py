"""A scheme's recertification rules (ISO/IEC 17024 9.6) and the check of a holder against them.

The rules come from the scheme's ``recertification`` section (docs/ITEM-FORMATS.md): the newest
version of the certificate's scheme that has one, from the certificate's own version on
(:func:`item_bank_sync.recertification.common.rules_for`). A scheme without the section in any
such version cannot be renewed at all (fail closed: nobody has said what continued competence
means for it). :func:`assess` is pure: the counting of credits and the
search for a re-examination are the caller's, so the rules are table-tested on their own.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from exam_core.errors import InvigilError


class NoRules(InvigilError):
    """The certificate's scheme has no recertification rules."""


@dataclass(frozen=True)
class Rules:
    """What a renewal needs: ``period_months`` added per renewal; CPD ``credits`` in total with a
    minimum per category (empty ``categories`` and zero ``credits``: no CPD asked); a
    re-examination; ``route`` ``all`` (every requirement) or ``any`` (CPD or the re-examination);
    ``grace_months`` after expiry during which a pass of the scheme's exam still renews the
    certificate (:func:`item_bank_sync.recertification.renewal.renew_on_pass`) instead of a new one."""

    period_months: int
    credits: float = 0.0
    categories: dict[str, float] = field(default_factory=dict)
    reexamination: bool = False
    route: str = "all"
    grace_months: int = 0

    @property
    def asks_cpd(self) -> bool:
        return self.credits > 0

    @classmethod
    def of_scheme(cls, doc: dict[str, Any], default_period: int) -> Rules:
        """The rules of a stored scheme document; :class:`NoRules` when it has none."""
        raw = doc.get("recertification") or {}
        if not raw:
            raise NoRules(f"scheme {doc.get('scheme_id', '?')} version {doc.get('version', '?')} has no "
                          "recertification rules; add them in a new scheme version")
        cpd = raw.get("cpd") or {}
        period = raw.get("period_months") or doc.get("certification_period_months") or default_period
        return cls(int(period), float(cpd.get("credits", 0)), {str(k): float(v) for k, v in
                                                               (cpd.get("categories") or {}).items()},
                   bool(raw.get("reexamination")), str(raw.get("route", "all")), int(raw.get("grace_months") or 0))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Assessment:
    """Whether the holder meets the rules, and every shortfall in words (empty when met)."""

    met: bool
    shortfalls: tuple[str, ...]
    counted: dict[str, float]
    reexam_passed: bool

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "shortfalls": list(self.shortfalls)}


def cpd_shortfalls(rules: Rules, credits: dict[str, float]) -> list[str]:
    """What the CPD credits (by category) lack: each category's minimum, then the total. Credits in a
    category the scheme does not list do not count (the scheme decides what develops competence)."""
    missing = [f"{cat}: {have:g} of {need:g} credits" for cat, need in sorted(rules.categories.items())
               if (have := credits.get(cat, 0.0)) < need]
    total = sum(v for k, v in credits.items() if not rules.categories or k in rules.categories)
    if total < rules.credits:
        missing.append(f"total: {total:g} of {rules.credits:g} credits")
    return missing


def assess(rules: Rules, credits: dict[str, float], reexam_passed: bool) -> Assessment:
    """The holder against ``rules``: CPD credits counted per category within the period, and whether
    a re-examination was passed within it."""
    cpd = cpd_shortfalls(rules, credits) if rules.asks_cpd else []
    exam = [] if reexam_passed or not rules.reexamination else ["re-examination: no pass within the period"]
    asked = [part for part, wanted in ((cpd, rules.asks_cpd), (exam, rules.reexamination)) if wanted]
    met = any(not part for part in asked) if rules.route == "any" else all(not part for part in asked)
    shortfalls = () if met else tuple(cpd + exam)
    return Assessment(met, shortfalls, dict(sorted(credits.items())), reexam_passed)
