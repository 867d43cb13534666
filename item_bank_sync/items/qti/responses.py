"""Response declarations and scoring of a QTI item: from declarations to ``ResponseKey``s.

This is the "reject rather than guess" half of the importer: a declaration must fit its
interaction (cardinality, base type, choice limits), every correct value and map key must be one
of the interaction's options, and scoring must be what :mod:`~item_bank_sync.items.qti.processing`
recognises (a standard template, or inline rules proven equal to a sum of per-response templates)
or human marking for extended text.

Standard templates score the response called ``RESPONSE`` (that is what their rules refer to),
so an item whose template-scored interaction uses another identifier is refused rather than
silently scored zero. Inline rules name their responses, so any identifier works there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, overload

from lxml import etree

from exam_core.model import BASE_TYPES, IDENTIFIER_RE, AreaMapEntry, Interaction, ResponseKey
from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.items.qti.processing import ProcessingReader, Rule
from item_bank_sync.items.qti.xml import qti_attrs, qti_children, qti_name

#: (cardinalities, base types) each interaction accepts.
FITS = {
    "choiceInteraction": ({"single", "multiple"}, {"identifier"}),
    "orderInteraction": ({"ordered"}, {"identifier"}),
    "inlineChoiceInteraction": ({"single"}, {"identifier"}),
    "textEntryInteraction": ({"single"}, {"string", "integer", "float"}),
    "extendedTextInteraction": ({"single"}, {"string"}),
    "matchInteraction": ({"single", "multiple"}, {"directedPair"}),
    "associateInteraction": ({"single", "multiple"}, {"pair"}),
    "gapMatchInteraction": ({"single", "multiple"}, {"directedPair"}),
    "hottextInteraction": ({"single", "multiple"}, {"identifier"}),
    "hotspotInteraction": ({"single", "multiple"}, {"identifier"}),
    "selectPointInteraction": ({"single", "multiple"}, {"point"}),
    "sliderInteraction": ({"single"}, {"integer", "float"}),
    "graphicOrderInteraction": ({"ordered"}, {"identifier"}),
    "graphicAssociateInteraction": ({"single", "multiple"}, {"pair"}),
    "graphicGapMatchInteraction": ({"single", "multiple"}, {"directedPair"}),
    "mediaInteraction": ({"single"}, {"integer"}),
    "drawingInteraction": ({"single"}, {"file"}),
}
#: Interactions that an item's scoring may leave out: essays and drawings go to markers, a media
#: interaction's play count is recorded unscored.
UNSCORED_OK = ("extended_text", "drawing", "media")
#: Interactions always marked by people: their scoring rules (if any) are ignored with a warning.
HUMAN_MARKED = ("extended_text", "drawing")


@dataclass
class Declaration:
    """One ``responseDeclaration`` as read (values still as text, checked when keys are built)."""

    identifier: str
    cardinality: str
    base_type: str
    correct: list[str] | None
    mapping: list[tuple[str, float, bool]] | None
    map_default: float
    map_lower: float | None
    map_upper: float | None
    area_mapping: list[AreaMapEntry] | None


@dataclass
class Found:
    """An interaction found in the body, with the option ids its responses may use."""

    element: str
    qti: str
    interaction: Interaction
    options: set[str]
    targets: set[str]


class ResponseRules:
    """Reads declarations and builds answer keys; the item reader extends it with interactions."""

    def __init__(self, root: etree._Element, source: str, warnings: list[str]) -> None:
        self.root = root
        self.source = source
        self.warnings = warnings

    def reject(self, element: str, problem: str) -> ItemRejected:
        return ItemRejected(self.source, element, problem)

    @overload
    def _only_child(self, name: str, required: Literal[True]) -> etree._Element: ...
    @overload
    def _only_child(self, name: str, required: bool = False) -> etree._Element | None: ...
    def _only_child(self, name: str, required: bool = False) -> etree._Element | None:
        matches = [c for c in qti_children(self.root) if qti_name(c) == name]
        if len(matches) > 1:
            raise self.reject(name, "appears more than once")
        if required and not matches:
            raise self.reject(name, "is missing")
        return matches[0] if matches else None

    # --- declarations ------------------------------------------------------------------------
    def _declarations(self) -> dict[str, Declaration]:
        decls: dict[str, Declaration] = {}
        for el in qti_children(self.root):
            if qti_name(el) == "responseDeclaration":
                decl = self._declaration(el)
                if decl.identifier in decls:
                    raise self.reject(f"responseDeclaration[{decl.identifier}]", "is declared twice")
                decls[decl.identifier] = decl
        return decls

    def _declaration(self, el: etree._Element) -> Declaration:
        attrs = qti_attrs(el)
        ident = attrs.get("identifier", "")
        where = f"responseDeclaration[{ident}]"
        if not IDENTIFIER_RE.match(ident):
            raise self.reject("responseDeclaration", f"identifier {ident!r} is not valid")
        cardinality, base = attrs.get("cardinality", ""), attrs.get("baseType", "")
        if cardinality not in ("single", "multiple", "ordered"):
            raise self.reject(where, f"cardinality {cardinality!r} is not supported (record is not)")
        correct = mapping = area = None
        lower = upper = None
        default = 0.0
        for child in qti_children(el):
            name = qti_name(child)
            if name == "correctResponse":
                correct = [(v.text or "") for v in qti_children(child) if qti_name(v) == "value"]
            elif name == "mapping":
                m = qti_attrs(child)
                default, lower, upper = (self._number(m.get("defaultValue", "0"), f"{where}/mapping@defaultValue"),
                                         self._opt_number(m.get("lowerBound"), f"{where}/mapping@lowerBound"),
                                         self._opt_number(m.get("upperBound"), f"{where}/mapping@upperBound"))
                mapping = []
                # some tools give the mapping a caseSensitive default its entries inherit: honoured, never dropped
                inherited = self._boolean(m.get("caseSensitive"), f"{where}/mapping@caseSensitive", True)
                for entry in qti_children(child):
                    e = qti_attrs(entry)
                    if "mapKey" not in e or "mappedValue" not in e:
                        raise self.reject(f"{where}/mapping/mapEntry", "needs mapKey and mappedValue")
                    entry_where = f"{where}/mapEntry[{e['mapKey']}]"
                    mapping.append((e["mapKey"], self._number(e["mappedValue"], entry_where),
                                    self._boolean(e.get("caseSensitive"), f"{entry_where}@caseSensitive", inherited)))
            elif name == "areaMapping":
                m = qti_attrs(child)
                default, lower, upper = (self._number(m.get("defaultValue", "0"), f"{where}/areaMapping@defaultValue"),
                                         self._opt_number(m.get("lowerBound"), f"{where}/areaMapping@lowerBound"),
                                         self._opt_number(m.get("upperBound"), f"{where}/areaMapping@upperBound"))
                area = [self._area_entry(entry, where) for entry in qti_children(child)]
            elif name != "defaultValue":
                raise self.reject(f"{where}/{name}", "is not supported in a response declaration")
        if base not in BASE_TYPES:
            raise self.reject(where, f"baseType {base!r} is not supported")
        return Declaration(ident, cardinality, base, correct, mapping, default, lower, upper, area)

    def _area_entry(self, entry: etree._Element, where: str) -> AreaMapEntry:
        e = qti_attrs(entry)
        shape = e.get("shape", "")
        if shape not in ("rect", "circle", "ellipse", "poly", "default"):
            raise self.reject(f"{where}/areaMapEntry", f"shape {shape!r} is not a QTI shape")
        coords = self._coords(e.get("coords", ""), f"{where}/areaMapEntry")
        counts = {"rect": len(coords) == 4, "circle": len(coords) == 3 and coords[2] >= 0,
                  "ellipse": len(coords) == 4, "poly": len(coords) >= 6 and len(coords) % 2 == 0, "default": True}
        if not counts[shape]:
            raise self.reject(f"{where}/areaMapEntry", f"{len(coords)} coords do not describe a {shape}")
        return AreaMapEntry(shape=shape, coords=coords,
                            value=self._number(e.get("mappedValue", ""), f"{where}/areaMapEntry@mappedValue"))

    def _number(self, text: str, where: str) -> float:
        try:
            value = float(text)
        except (TypeError, ValueError):
            raise self.reject(where, f"{text!r} is not a number") from None
        if not math.isfinite(value):
            raise self.reject(where, f"{text!r} is not a finite number")
        return value

    def _boolean(self, text: str | None, where: str, default: bool) -> bool:
        """An xs:boolean (``true``/``false``/``1``/``0``): "1" is true, not "anything but 'true' is false"."""
        if text is None:
            return default
        value = text.strip()
        if value in ("true", "1"):
            return True
        if value in ("false", "0"):
            return False
        raise self.reject(where, f"{text!r} is not a boolean (true, false, 1 or 0)")

    def _opt_number(self, text: str | None, where: str) -> float | None:
        return None if text is None else self._number(text, where)

    def _coords(self, text: str, where: str) -> tuple[float, ...]:
        parts = [p for p in text.replace(" ", "").split(",") if p]
        return tuple(self._number(p, f"{where}@coords") for p in parts)

    # --- scoring -----------------------------------------------------------------------------
    def _rules(self) -> tuple[dict[str, Rule], bool] | None:
        """Per-response scoring rules and whether they came from a template URI; None without processing."""
        rp = self._only_child("responseProcessing")
        if rp is None:
            return None
        rules, is_template = ProcessingReader(self.source, self._outcome_defaults()).read(rp)
        return {r.response_id: r for r in rules}, is_template

    def _outcome_defaults(self) -> dict[str, float | None]:
        """Numeric default values of the outcome declarations (SCORE, MAXSCORE) as declared."""
        out: dict[str, float | None] = {}
        for el in qti_children(self.root):
            if qti_name(el) != "outcomeDeclaration":
                continue
            ident = qti_attrs(el).get("identifier", "")
            values = [v for d in qti_children(el) if qti_name(d) == "defaultValue"
                      for v in qti_children(d) if qti_name(v) == "value"]
            out[ident] = None
            if len(values) == 1:
                try:
                    value = float((values[0].text or "").strip())
                except ValueError:
                    continue
                out[ident] = value if math.isfinite(value) else None
        return out

    def _keys(self, found_list: list[Found], decls: dict[str, Declaration],
              assume_match_correct: bool) -> list[ResponseKey]:
        """One key per interaction; also fixes each interaction's cardinality and base type."""
        processing = self._rules()
        rules, is_template = processing if processing is not None else ({}, False)
        if is_template:
            self._template_scores_response(found_list, rules["RESPONSE"].template)
        responses = {f.interaction.response_id for f in found_list}
        for rid in rules:
            if rid not in responses:
                raise self.reject("responseProcessing",
                                  f"scores response {rid!r}, which no interaction of the item has")
        keys = []
        for found in found_list:
            inter = found.interaction
            decl = decls.get(inter.response_id)
            if decl is None:
                raise self.reject(found.element, f"responseIdentifier {inter.response_id!r} is not declared")
            found.interaction = self._fit(found, decl)
            rule = rules.get(inter.response_id)
            if processing is not None and rule is None and inter.type not in UNSCORED_OK:
                raise self.reject(found.element, f"nothing in responseProcessing scores {inter.response_id!r}")
            keys.append(self._key(found, decl, rule, processing is None, assume_match_correct))
        if all(k.template == "unscored" for k in keys):
            raise self.reject("responseProcessing", "scores nothing: a media interaction's play count alone is "
                                                    "not an item (unscored survey items are not supported)")
        return keys

    def _template_scores_response(self, found_list: list[Found], template: str) -> None:
        """A standard template scores RESPONSE only: any other automatically scored interaction is refused."""
        for found in found_list:
            rid = found.interaction.response_id
            if rid != "RESPONSE" and found.interaction.type not in UNSCORED_OK:
                raise self.reject(found.element, f"template {template} scores the response RESPONSE, but this "
                                                 f"interaction uses {rid!r}, which would never be scored")

    def _fit(self, found: Found, decl: Declaration) -> Interaction:
        """Check the declaration fits the interaction; return the interaction with its real shape."""
        cards, bases = FITS[found.qti]
        where = found.element
        if decl.cardinality not in cards:
            raise self.reject(where, f"cardinality {decl.cardinality!r} of {decl.identifier} does not fit "
                                     f"(expected {' or '.join(sorted(cards))})")
        if decl.base_type not in bases:
            raise self.reject(where, f"baseType {decl.base_type!r} of {decl.identifier} does not fit "
                                     f"(expected {' or '.join(sorted(bases))})")
        inter = found.interaction
        if decl.cardinality == "single" and inter.max_choices != 1 and found.qti not in (
                "textEntryInteraction", "extendedTextInteraction", "orderInteraction", "gapMatchInteraction",
                "sliderInteraction"):
            raise self.reject(where, f"cardinality single does not fit maxChoices/maxAssociations={inter.max_choices}")
        if decl.cardinality == "single" and found.qti == "gapMatchInteraction" and len(inter.targets) != 1:
            raise self.reject(where, "cardinality single does not fit a gap match with several gaps")
        slider = inter.slider
        if slider is not None and decl.base_type == "integer" and not all(
                float(v).is_integer() for v in (slider.lower, slider.upper, slider.step or 1)):
            raise self.reject(where, f"baseType integer of {decl.identifier} does not fit a slider whose bounds or "
                                     "step are not whole numbers")
        changes: dict[str, Any] = {"cardinality": decl.cardinality, "base_type": decl.base_type}
        return Interaction(**{**{f: getattr(inter, f) for f in inter.__dataclass_fields__}, **changes})

    def _key(self, found: Found, decl: Declaration, rule: Rule | None, no_processing: bool,
             assume_match_correct: bool) -> ResponseKey:
        inter = found.interaction
        correct = self._values(found, decl, decl.correct, "correctResponse") if decl.correct else None
        if decl.correct is not None and not decl.correct:
            raise self.reject(f"responseDeclaration[{decl.identifier}]/correctResponse", "holds no value")
        base: dict[str, Any] = {"response_id": inter.response_id, "cardinality": decl.cardinality,
                                "base_type": decl.base_type}
        if inter.type in HUMAN_MARKED:
            if rule is not None:
                self.warnings.append(f"{found.element}: {inter.type.replace('_', ' ')} is marked by people; its "
                                     f"{rule.template} scoring rule is ignored")
            # a correctResponse of an essay is its model answer: it goes to the markers with the key
            return ResponseKey(**base, template="human", correct=correct, max_score=self._human_max())
        if inter.type == "media" and rule is None:
            # the play count is recorded for the record (and disputes), scored by nothing
            return ResponseKey(**base, template="unscored", correct=correct, max_score=0.0)
        if no_processing:
            return self._no_template(found, decl, correct, base, assume_match_correct)
        if rule is None:  # callers pass a rule whenever the item has response processing
            raise self.reject(f"responseDeclaration[{decl.identifier}]", "has no scoring rule")
        if rule.template == "match_correct":
            if correct is None:
                raise self.reject(f"responseDeclaration[{decl.identifier}]",
                                  "match_correct scoring needs a correctResponse")
            if rule.tolerance is not None and (decl.cardinality != "single"
                                               or decl.base_type not in ("integer", "float")):
                raise self.reject(f"responseDeclaration[{decl.identifier}]", "equal with a tolerance scores a "
                                  "single integer or float only")
            return ResponseKey(**base, template="match_correct", correct=correct, max_score=rule.weight,
                               tolerance=rule.tolerance)
        if rule.template == "map_response":
            key = self._map_response(found, decl, correct, base)
        else:
            key = self._map_point(found, decl, correct, base)
        if not rule.guarded and _clamp(key.default_value if decl.cardinality == "single" else 0.0,
                                       key.lower_bound, key.upper_bound) != 0.0:
            raise self.reject("responseProcessing", f"maps {decl.identifier} without an isNull guard, so a missing "
                                                    "response would score the mapping's defaultValue or bounds, "
                                                    "not 0; this is not supported")
        return key

    def _no_template(self, found: Found, decl: Declaration, correct: Any, base: dict,
                     assume_match_correct: bool) -> ResponseKey:
        where = f"responseDeclaration[{decl.identifier}]"
        if correct is None and decl.mapping is not None and decl.base_type != "point":
            # a scale (likert) item gives each option its points in a mapping and often no rules:
            # the mapping is the author's own scoring, so it is the key (said in the report)
            self.warnings.append(f"responseProcessing: missing; {decl.identifier} scored by its mapping "
                                 "(map_response), the points the item gives each option")
            return self._map_response(found, decl, correct, base)
        if correct is None:
            raise self.reject("responseProcessing", f"is missing and {where} has no correctResponse or mapping: "
                                                    "the item cannot be scored (unscored survey and likert items are "
                                                    "not supported; give each option its points in a mapping)")
        if not assume_match_correct:
            raise self.reject("responseProcessing", f"is missing, so nothing scores {decl.identifier}; add the "
                                                    "match_correct template or import with --assume-match-correct")
        self.warnings.append(f"responseProcessing: missing; {decl.identifier} scored with match_correct "
                             "from its correctResponse (--assume-match-correct)")
        return ResponseKey(**base, template="match_correct", correct=correct, max_score=1.0)

    def _map_response(self, found: Found, decl: Declaration, correct: Any, base: dict) -> ResponseKey:
        where = f"responseDeclaration[{decl.identifier}]/mapping"
        if decl.mapping is None:
            raise self.reject(f"responseDeclaration[{decl.identifier}]", "template map_response needs a mapping")
        if decl.base_type == "point":
            raise self.reject(where, "a point response is scored with areaMapping and map_response_point")
        sensitivity = {cs for _, _, cs in decl.mapping}
        if len(sensitivity) > 1:
            raise self.reject(where, "mapEntry caseSensitive differs between entries; this is not supported")
        case_sensitive = sensitivity.pop() if sensitivity else True
        mapping: dict[str, float] = {}
        for key, value, _ in decl.mapping:
            parsed = self._values(found, decl, [key], f"mapping/mapEntry[{key}]", single=True)
            norm = _map_key(key, parsed, decl.base_type, case_sensitive)
            if norm in mapping:
                raise self.reject(f"{where}/mapEntry[{key}]", "maps the same response twice")
            mapping[norm] = value
        if decl.cardinality != "single" and decl.base_type in ("pair", "directedPair"):
            best = self._best_pairs(found, mapping, where)
        else:
            best = _best_total(list(mapping.values()), decl.map_default, decl.cardinality,
                               found.interaction.max_choices)
        max_score = _clamp(best, decl.map_lower, decl.map_upper)
        if max_score <= 0:
            raise self.reject(where, "no response can score above zero")
        return ResponseKey(**base, template="map_response", correct=correct, mapping=mapping,
                           default_value=decl.map_default, lower_bound=decl.map_lower, upper_bound=decl.map_upper,
                           case_sensitive=case_sensitive if decl.base_type == "string" else True,
                           max_score=max_score)

    def _best_pairs(self, found: Found, mapping: dict[str, float], where: str) -> float:
        """The most a set of associations can earn: each choice, gap or hotspot used at most its
        matchMax times (0: no limit), at most maxAssociations pairs. Adding the best values blindly
        counted two words placed in the same gap (a 7-mark gap match stored as 8)."""
        inter = found.interaction
        capacity = {c.id: c.match_max for c in (*inter.choices, *inter.targets)}
        capacity.update({h.id: h.match_max for h in inter.hotspots})
        pairs = sorted(((value, tuple(key.split())) for key, value in mapping.items() if value > 0), reverse=True)
        best = _best_associations(pairs, {k: v or len(pairs) for k, v in capacity.items()},
                                  inter.max_choices or len(pairs))
        if best is None:
            raise self.reject(where, f"{len(pairs)} scoring pairs are too many to find the highest score")
        return best

    def _map_point(self, found: Found, decl: Declaration, correct: Any, base: dict) -> ResponseKey:
        if decl.base_type != "point" or decl.area_mapping is None:
            raise self.reject(f"responseDeclaration[{decl.identifier}]",
                              "template map_response_point needs a point response with an areaMapping")
        self._areas_apart(decl)
        best = _best_total([e.value for e in decl.area_mapping], decl.map_default, decl.cardinality,
                           found.interaction.max_choices)
        max_score = _clamp(best, decl.map_lower, decl.map_upper)
        if max_score <= 0:
            raise self.reject(f"responseDeclaration[{decl.identifier}]/areaMapping", "no point can score above zero")
        return ResponseKey(**base, template="map_response_point", correct=correct,
                           area_mapping=tuple(decl.area_mapping), default_value=decl.map_default,
                           lower_bound=decl.map_lower, upper_bound=decl.map_upper, max_score=max_score)

    def _areas_apart(self, decl: Declaration) -> None:
        """Refuse areas that overlap where it changes the score.

        QTI gives a point lying in several areas the value of the first listed only (a bullseye:
        centre 2, ring 1); Invigil's key adds every area a point lies in. The two agree only when
        each later area of an overlapping pair is worth 0, so any other overlap is refused by name
        rather than scored 3 where the author wrote 2. Ellipses and polygons are compared by their
        bounding boxes (may refuse a pair that only nearly touches; never accepts a real overlap).
        """
        entries = decl.area_mapping or []
        for later_index, later in enumerate(entries):
            if later.value == 0:
                continue
            for first_index, first in enumerate(entries[:later_index]):
                if _areas_overlap(first, later):
                    raise self.reject(
                        f"responseDeclaration[{decl.identifier}]/areaMapping",
                        f"areaMapEntry {later_index + 1} ({later.shape}) overlaps areaMapEntry {first_index + 1} "
                        f"({first.shape}): QTI scores a point in both with the first only, Invigil would add "
                        "both; give the overlapping part one area of its own")

    def _human_max(self) -> float:
        """What markers mark out of: SCORE's normalMaximum, else the MAXSCORE outcome's default value
        (TAO, pie-qti and QTI 3 tools declare it there; it used to be ignored, marking a 4-mark essay
        out of 1), else 1, said in a warning."""
        for el in qti_children(self.root):
            if qti_name(el) == "outcomeDeclaration" and qti_attrs(el).get("identifier") == "SCORE":
                maximum = qti_attrs(el).get("normalMaximum")
                if maximum is not None:
                    return self._number(maximum, "outcomeDeclaration[SCORE]@normalMaximum")
        declared = self._outcome_defaults().get("MAXSCORE")
        if declared is not None:
            if declared <= 0:
                raise self.reject("outcomeDeclaration[MAXSCORE]", f"the maximum mark {declared:g} must be above zero")
            return declared
        warning = ("outcomeDeclaration[SCORE]: no normalMaximum and no MAXSCORE default, so people mark this "
                   "item out of 1; set the maximum mark on the item if it is worth more")
        if warning not in self.warnings:
            self.warnings.append(warning)
        return 1.0

    # --- values ------------------------------------------------------------------------------
    def _values(self, found: Found, decl: Declaration, texts: list[str], what: str,
                single: bool = False) -> Any:
        where = f"responseDeclaration[{decl.identifier}]/{what}"
        values = [self._value(found, decl.base_type, t, where) for t in texts]
        if single or decl.cardinality == "single":
            if len(values) != 1:
                raise self.reject(where, f"cardinality single needs one value, found {len(values)}")
            return values[0]
        seen = [repr(sorted(v) if decl.base_type == "pair" else v) for v in values]
        if len(set(seen)) != len(seen):
            raise self.reject(where, "repeats a value")
        limit = found.interaction.max_choices
        if limit and len(values) > limit and found.qti not in ("orderInteraction", "graphicOrderInteraction"):
            raise self.reject(where, f"has {len(values)} values but at most {limit} can be given")
        return values

    def _value(self, found: Found, base: str, text: str, where: str) -> Any:
        text_s = text.strip()
        if base == "identifier":
            if text_s not in found.options:
                raise self.reject(where, f"{text_s!r} is not one of the options of {found.element}")
            return text_s
        if base in ("pair", "directedPair"):
            parts = text_s.split()
            if len(parts) != 2:
                raise self.reject(where, f"{text_s!r} is not a pair of two identifiers")
            first, second = parts
            if base == "directedPair":
                if first not in found.options or second not in found.targets:
                    raise self.reject(where, f"{text_s!r} does not pair an option with a target of {found.element}")
            elif first not in found.options or second not in found.options or first == second:
                raise self.reject(where, f"{text_s!r} does not pair two different options of {found.element}")
            return [first, second]
        if base == "point":
            parts = text_s.split()
            if len(parts) != 2:
                raise self.reject(where, f"{text_s!r} is not a point 'x y'")
            return [self._number(p, where) for p in parts]
        if base == "integer":
            try:
                return self._on_slider(found, int(text_s), where)
            except ValueError:
                raise self.reject(where, f"{text_s!r} is not an integer") from None
        if base == "float":
            return self._on_slider(found, float(self._number(text_s, where)), where)
        return text

    def _on_slider(self, found: Found, value: int | float, where: str) -> int | float:
        """A slider's key can only name a value the slider offers (else it could never be given)."""
        slider = found.interaction.slider
        if slider is not None and not slider.offers(value):
            raise self.reject(where, f"{value} is not a value the slider offers ({_num_text(slider.lower)} to "
                                     f"{_num_text(slider.upper)} by {_num_text(slider.step or 1)})")
        return value


def _num_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _map_key(text: str, parsed: Any, base: str, case_sensitive: bool) -> str:
    """One spelling per mapped response: pairs "A B", numbers in canonical decimal, folded case."""
    if base in ("pair", "directedPair"):
        return " ".join(parsed)
    if base in ("integer", "float"):
        return str(parsed)
    if base == "string" and not case_sensitive:
        return text.casefold()
    return parsed if base == "identifier" else text


def _best_associations(pairs: list[tuple[float, tuple[str, ...]]], capacity: dict[str, int], limit: int,
                       budget: int = 200_000) -> float | None:
    """Highest sum of values of pairs (sorted, best first) within the ids' capacities and ``limit``
    pairs: a depth-first search that stops where the rest cannot beat the best found; None when
    ``budget`` steps were not enough (never a guess)."""
    best = 0.0
    steps = 0
    suffix = [0.0] * (len(pairs) + 1)
    for i in range(len(pairs) - 1, -1, -1):
        suffix[i] = suffix[i + 1] + pairs[i][0]
    left = dict(capacity)

    def search(i: int, total: float, used: int) -> bool:
        nonlocal best, steps
        steps += 1
        if steps > budget:
            return False
        best = max(best, total)
        if i == len(pairs) or used == limit or total + suffix[i] <= best:
            return True
        value, ids = pairs[i]
        if all(left.get(x, limit) > 0 for x in ids):
            for x in ids:
                left[x] = left.get(x, limit) - 1
            done = search(i + 1, total + value, used + 1)
            for x in ids:
                left[x] += 1
            if not done:
                return False
        return search(i + 1, total, used)

    return best if search(0, 0.0, 0) else None


def _best_total(values: list[float], default: float, cardinality: str, max_choices: int) -> float:
    """The highest raw sum a response can reach under a mapping (before bounds)."""
    if cardinality == "single":
        return max([*values, default]) if values else default
    positive = sorted((v for v in values if v > 0), reverse=True)
    if max_choices:
        positive = positive[:max_choices]
    return float(sum(positive))


def _clamp(value: float, lower: float | None, upper: float | None) -> float:
    if upper is not None:
        value = min(value, upper)
    if lower is not None:
        value = max(value, lower)
    return float(value)


def _areas_overlap(a: AreaMapEntry, b: AreaMapEntry) -> bool:
    """Whether two QTI areas share interior points (exact for circles and rectangles, bounding boxes
    otherwise); ``default`` (the whole image) overlaps everything. Shared edges do not count."""
    if "default" in (a.shape, b.shape):
        return True
    if a.shape == b.shape == "circle":
        return math.hypot(a.coords[0] - b.coords[0], a.coords[1] - b.coords[1]) < a.coords[2] + b.coords[2]
    if {a.shape, b.shape} == {"circle", "rect"}:
        circle, rect = (a, b) if a.shape == "circle" else (b, a)
        left, top, right, bottom = _box(rect)
        cx, cy, r = circle.coords[:3]
        return math.hypot(cx - min(max(cx, left), right), cy - min(max(cy, top), bottom)) < r
    a_box, b_box = _box(a), _box(b)
    return a_box[0] < b_box[2] and b_box[0] < a_box[2] and a_box[1] < b_box[3] and b_box[1] < a_box[3]


def _box(area: AreaMapEntry) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of a rect, circle, ellipse or poly."""
    c = area.coords
    if area.shape == "circle" and len(c) == 3:
        return c[0] - c[2], c[1] - c[2], c[0] + c[2], c[1] + c[2]
    if area.shape == "ellipse" and len(c) == 4:
        return c[0] - c[2], c[1] - c[3], c[0] + c[2], c[1] + c[3]
    if area.shape == "rect" and len(c) == 4:
        return min(c[0], c[2]), min(c[1], c[3]), max(c[0], c[2]), max(c[1], c[3])
    xs, ys = c[0::2] or (0.0,), c[1::2] or (0.0,)
    return min(xs), min(ys), max(xs), max(ys)
