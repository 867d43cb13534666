"""Certification schemes: the documented YAML file (docs/ITEM-FORMATS.md) and its storage.

A scheme says what a certificate requires and how its exam is built: the blueprint (how many
items from each competency area), duration, cut score, allowed accommodations, the candidate tools
its forms offer (``tools``: calculator, scratch pad, highlighter, strike-through, line reader,
read-aloud; whether a tool is fair depends on what the exam measures) and enemy groups
(items that must never appear on the same form, because one gives away another). A scheme
(id, version) is immutable once added: changing the rules means a new version, so every form
and every decision can name exactly which rules it followed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Engine, insert, select

from exam_core.errors import InvigilError, ValidationError
from exam_core.jsonio import canonical_dumps
from exam_core.model import IDENTIFIER_RE, AccommodationPolicy, Accommodations, CandidateTools
from exam_core.timestamps import utc_text
from item_bank_sync.bank.schema import schemes, versioned_json
from item_bank_sync.db.sql import fetch_all, lock, write
from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.items.qti.body import sanitise_fragment
from item_bank_sync.items.yaml_safe import load_yaml

FORMAT = "invigil-scheme/1"
FIELDS = {"format", "id", "version", "title", "eligibility", "duration_minutes", "cut_score_percent",
          "accommodations_allowed", "max_extra_time_percent", "blueprint", "enemy_groups",
          "instructions", "agreement", "tools", "prerequisites", "certification_period_months",
          "recertification"}
REQUIRED = {"format", "id", "version", "title", "duration_minutes", "cut_score_percent", "blueprint"}
ACCOMMODATIONS = tuple(f for f in Accommodations.__dataclass_fields__)
#: Education levels a scheme's ``prerequisites.education`` names, lowest first (an applicant meets
#: the rule with the named level or any above it).
EDUCATION_LEVELS = ("none", "secondary", "post_secondary", "bachelor", "master", "doctorate")
PREREQUISITES = {"education", "experience_months", "certifications", "minimum_age"}
RECERTIFICATION = {"period_months", "cpd", "reexamination", "route", "grace_months"}


class SchemeError(InvigilError):
    """A scheme file or request was refused; the message names the field."""


@dataclass(frozen=True)
class BlueprintArea:
    area: str
    items: int
    title: str = ""


@dataclass(frozen=True)
class Scheme:
    scheme_id: str
    version: int
    title: str
    eligibility: str
    duration_minutes: int
    cut_score_percent: float
    blueprint: tuple[BlueprintArea, ...]
    accommodations_allowed: tuple[str, ...] = ()
    max_extra_time_percent: int = 0
    enemy_groups: tuple[tuple[str, ...], ...] = ()
    instructions: str = ""
    agreement: str = ""
    tools: dict[str, Any] = field(default_factory=dict)   # CandidateTools; empty: none
    #: Eligibility rules (registry/eligibility.py checks applications against them); empty: none.
    prerequisites: dict[str, Any] = field(default_factory=dict)
    #: How long a certificate is valid (ISO/IEC 17024 9.6); 0: the body's default (36 months,
    #: item_bank_sync.certificates.registry.DEFAULT_PERIOD_MONTHS).
    certification_period_months: int = 0
    #: Recertification rules (ISO/IEC 17024 9.6; item_bank_sync/recertification/rules.py reads them):
    #: period_months, cpd {credits, categories {name: minimum}}, reexamination, route; empty: none.
    recertification: dict[str, Any] = field(default_factory=dict)

    @property
    def form_length(self) -> int:
        return sum(a.items for a in self.blueprint)

    @property
    def accommodation_policy(self) -> AccommodationPolicy:
        """What this scheme allows, as its form packages carry it to the centres (signed)."""
        return AccommodationPolicy(self.accommodations_allowed, self.max_extra_time_percent)

    @property
    def candidate_tools(self) -> CandidateTools:
        return CandidateTools.from_dict(self.tools, "tools")

    def to_dict(self) -> dict[str, Any]:
        """The stored document; without ``tools`` when there are none, so a scheme stored before
        tools existed is still "unchanged" when its file is added again."""
        doc = json.loads(json.dumps(asdict(self)))
        for optional in ("tools", "prerequisites", "certification_period_months", "recertification"):
            if not doc[optional]:
                del doc[optional]
        return doc

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scheme:
        return cls(**{**data, "blueprint": tuple(BlueprintArea(**a) for a in data["blueprint"]),
                      "accommodations_allowed": tuple(data["accommodations_allowed"]),
                      "enemy_groups": tuple(tuple(g) for g in data["enemy_groups"])})


def parse_scheme(data: bytes, source: str) -> Scheme:
    """Read and check a scheme YAML file; raises SchemeError naming the field."""
    try:
        doc = load_yaml(data, source)
    except ItemRejected as exc:
        raise SchemeError(f"{source}: {exc.reason}") from None
    if not isinstance(doc, dict):
        raise SchemeError(f"{source}: must be a YAML mapping")
    check = _Checker(source)
    unknown = sorted(set(map(str, doc)) - FIELDS)
    if unknown:
        raise check.fail(unknown[0], "is not a known field")
    missing = sorted(REQUIRED - set(doc))
    if missing:
        raise check.fail(missing[0], "is required")
    if doc["format"] != FORMAT:
        raise check.fail("format", f"must be {FORMAT!r}")
    blueprint = tuple(check.area(a, i) for i, a in enumerate(check.of(doc, "blueprint", list)))
    if not blueprint:
        raise check.fail("blueprint", "must list at least one competency area")
    areas = [a.area for a in blueprint]
    if len(set(areas)) != len(areas):
        raise check.fail("blueprint", "names an area twice")
    allowed = tuple(check.of(doc, "accommodations_allowed", list, []))
    for name in allowed:
        if name not in ACCOMMODATIONS:
            raise check.fail("accommodations_allowed", f"{name!r} is not one of {', '.join(ACCOMMODATIONS)}")
    groups = tuple(check.group(g, i) for i, g in enumerate(check.of(doc, "enemy_groups", list, [])))
    return Scheme(
        scheme_id=check.identifier(doc["id"], "id"), version=check.integer(doc, "version", 1, 1_000_000),
        title=check.text(doc, "title", 300), eligibility=check.text(doc, "eligibility", 20_000, ""),
        duration_minutes=check.integer(doc, "duration_minutes", 1, 24 * 60),
        cut_score_percent=check.number(doc, "cut_score_percent", 0, 100),
        blueprint=blueprint, accommodations_allowed=allowed,
        max_extra_time_percent=check.integer(doc, "max_extra_time_percent", 0, 400, 0),
        enemy_groups=groups, instructions=check.html(doc, "instructions"), agreement=check.html(doc, "agreement"),
        tools=check.tools(doc), prerequisites=check.prerequisites(doc),
        certification_period_months=check.integer(doc, "certification_period_months", 0, 600, 0),
        recertification=check.recertification(doc))


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> SchemeError:
        return SchemeError(f"{self.source}: {where}: {problem}")

    def of(self, doc: dict, name: str, kind: type, default: Any = ...) -> Any:
        value = doc.get(name, default)
        if value is ...:
            raise self.fail(name, "is required")
        if not isinstance(value, kind):
            raise self.fail(name, f"must be a {kind.__name__}")
        return value

    def identifier(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not IDENTIFIER_RE.match(value):
            raise self.fail(where, "must be an identifier (letters, digits, _ . -)")
        return value

    def integer(self, doc: dict, name: str, low: int, high: int, default: Any = ...) -> int:
        value = doc.get(name, default)
        if value is ... or isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(name, f"must be an integer from {low} to {high}")
        return value

    def number(self, doc: dict, name: str, low: float, high: float) -> float:
        value = doc.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise self.fail(name, f"must be a number from {low} to {high}")
        return float(value)

    def text(self, doc: dict, name: str, max_len: int, default: Any = ...) -> str:
        value = doc.get(name, default)
        if value is ... or not isinstance(value, str) or len(value) > max_len:
            raise self.fail(name, f"must be text of at most {max_len} characters")
        return value

    def html(self, doc: dict, name: str) -> str:
        """Instructions and agreement are shown to candidates: sanitised like item bodies."""
        text = self.text(doc, name, 100_000, "")
        try:
            return sanitise_fragment(text, self.source, name) if text else ""
        except ItemRejected as exc:
            raise self.fail(name, exc.reason) from None

    def tools(self, doc: dict) -> dict[str, Any]:
        """The candidate tools, checked by the wire model's own reader (what the kiosk will read)."""
        raw = doc.get("tools", {})
        try:
            tools = CandidateTools.from_dict(raw, "tools")
        except ValidationError as exc:
            raise self.fail(exc.field, exc.reason) from None
        return {} if tools == CandidateTools() else tools.to_dict()

    def prerequisites(self, doc: dict) -> dict[str, Any]:
        """``prerequisites``: education (a level of EDUCATION_LEVELS), experience_months, minimum_age,
        certifications (scheme ids the applicant must hold); every rule optional."""
        raw = self.of(doc, "prerequisites", dict, {})
        unknown = sorted(set(map(str, raw)) - PREREQUISITES)
        if unknown:
            raise self.fail(f"prerequisites.{unknown[0]}", f"is not one of {', '.join(sorted(PREREQUISITES))}")
        out: dict[str, Any] = {}
        if "education" in raw:
            if raw["education"] not in EDUCATION_LEVELS:
                raise self.fail("prerequisites.education", f"must be one of {', '.join(EDUCATION_LEVELS)}")
            out["education"] = raw["education"]
        if "experience_months" in raw:
            out["experience_months"] = self.integer(raw, "experience_months", 0, 600)
        if "minimum_age" in raw:
            out["minimum_age"] = self.integer(raw, "minimum_age", 0, 120)
        if "certifications" in raw:
            held = self.of(raw, "certifications", list)
            out["certifications"] = [self.identifier(v, f"prerequisites.certifications[{i}]")
                                     for i, v in enumerate(held)]
        return out

    def recertification(self, doc: dict) -> dict[str, Any]:
        """``recertification``: period_months (default: the certification period), cpd (credits in
        total and a minimum per category; only those categories count), reexamination (a pass of this
        scheme's exam within the period), route (``all`` requirements, or ``any`` one of CPD and
        re-examination). At least one of cpd and reexamination."""
        raw = self.of(doc, "recertification", dict, {})
        if not raw:
            return {}
        unknown = sorted(set(map(str, raw)) - RECERTIFICATION)
        if unknown:
            raise self.fail(f"recertification.{unknown[0]}", f"is not one of {', '.join(sorted(RECERTIFICATION))}")
        out: dict[str, Any] = {"reexamination": self.of(raw, "reexamination", bool, False),
                               "route": self.of(raw, "route", str, "all")}
        if out["route"] not in ("all", "any"):
            raise self.fail("recertification.route", "must be all or any")
        if "period_months" in raw:
            out["period_months"] = self.integer(raw, "period_months", 1, 600)
        if "grace_months" in raw:
            out["grace_months"] = self.integer(raw, "grace_months", 0, 120)
        if "cpd" in raw:
            out["cpd"] = self.cpd(self.of(raw, "cpd", dict))
        if "cpd" not in out and not out["reexamination"]:
            raise self.fail("recertification", "must ask for cpd, reexamination or both")
        return out

    def cpd(self, raw: dict) -> dict[str, Any]:
        if set(map(str, raw)) - {"credits", "categories"}:
            raise self.fail("recertification.cpd", "may have only credits and categories")
        categories = self.of(raw, "categories", dict, {})
        minimums = {self.identifier(name, "recertification.cpd.categories"):
                    self.number(categories, name, 0, 10_000) for name in categories}
        total = self.number(raw, "credits", 0, 10_000) if "credits" in raw else sum(minimums.values())
        if total <= 0 or total < sum(minimums.values()):
            raise self.fail("recertification.cpd.credits", "must be positive and at least the categories' minimums")
        return {"credits": total, "categories": minimums}

    def area(self, raw: Any, index: int) -> BlueprintArea:
        where = f"blueprint[{index}]"
        if not isinstance(raw, dict) or set(raw) - {"area", "items", "title"}:
            raise self.fail(where, "must be a mapping with area, items and optional title")
        return BlueprintArea(area=self.identifier(raw.get("area"), f"{where}.area"),
                             items=self.integer(raw, "items", 1, 10_000),
                             title=self.text(raw, "title", 300, ""))

    def group(self, raw: Any, index: int) -> tuple[str, ...]:
        where = f"enemy_groups[{index}]"
        if not isinstance(raw, list) or len(raw) < 2:
            raise self.fail(where, "must list at least two item identifiers")
        members = tuple(self.identifier(v, f"{where}") for v in raw)
        if len(set(members)) != len(members):
            raise self.fail(where, "names an item twice")
        return members


class SchemeStore:
    """Schemes in the bank store; adding the same (id, version) with different content is refused."""

    def __init__(self, db: Engine) -> None:
        self.db = db

    def add(self, scheme: Scheme, source_text: str) -> str:
        """Store a scheme; returns ``"added"`` or ``"unchanged"``."""
        doc = canonical_dumps(scheme.to_dict()).decode()
        with write(self.db) as conn:
            lock(conn, f"scheme:{scheme.scheme_id}")
            row = conn.execute(select(schemes.c.scheme_json).where(schemes.c.scheme_id == scheme.scheme_id,
                                                                    schemes.c.version == scheme.version)).first()
            if row:
                if row[0] == doc:
                    return "unchanged"
                raise SchemeError(f"scheme {scheme.scheme_id} version {scheme.version} exists with other content; "
                                  "raise the version to change a scheme")
            conn.execute(insert(schemes).values(scheme_id=scheme.scheme_id, version=scheme.version,
                                                title=scheme.title, scheme_json=doc, source_text=source_text,
                                                created_at=utc_text()))
        return "added"

    def get(self, scheme_id: str, version: int | None = None) -> Scheme:
        doc = versioned_json(self.db, "schemes", scheme_id, version)
        if doc is None:
            raise SchemeError(f"no scheme {scheme_id}" + (f" version {version}" if version else ""))
        return Scheme.from_dict(doc)

    def list(self) -> list[dict[str, Any]]:
        c = schemes.c
        rows = fetch_all(self.db, select(c.scheme_id, c.version, c.title, c.created_at)
                         .order_by(c.scheme_id, c.version))
        return [dict(zip(("scheme_id", "version", "title", "created_at"), r)) for r in rows]
