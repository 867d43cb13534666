"""What an item's ``responseProcessing`` does to ``SCORE``, recognised by template *or by structure*.

Invigil scores with per-response templates (:mod:`item_bank_sync.results.scoring`): the item
score is the sum of each response's ``match_correct`` (a weight when correct, else 0),
``map_response`` or ``map_response_point`` score. Authoring tools rarely point at the template
URI; they write the template's rules out inline, often weighted, often one rule per interaction
of a cloze item, often followed by rules that only set feedback. This module proves, rule by
rule, that the processing is exactly such a sum, and refuses anything else by name: a rule it
cannot prove equal would be scored differently from what the author wrote.

Recognised (QTI 2 camelCase or QTI 3 kebab case, any operand order in ``match``):

* a standard template URI (``match_correct``, ``map_response``, ``map_response_point``, and the
  Common Cartridge ``CC2_match``, ``CC2_match_basic``, ``CC2_map_response``) under any of the
  published URI forms;
* ``if match(R, correct(R)) then SCORE = W [else SCORE = 0]`` where W is a number or the
  constant ``MAXSCORE`` outcome (weighted match_correct), only as the first scoring rule;
  ``equal(R, correct(R))`` in place of ``match`` (any operand order), with ``toleranceMode``
  absolute or relative, is a numeric match_correct within that tolerance ("accept within 1 %");
* ``if match(R, correct(R)) then SCORE = SCORE + W`` (one per response: cloze items);
* ``SCORE = mapResponse(R)`` / ``SCORE = SCORE + mapResponse(R)`` (also ``mapResponsePoint``),
  bare or guarded by ``isNull(R)`` / ``not(isNull(R))``;
* ``SCORE = sum(mapResponse(R1), ..., mapResponse(Rn))``, one rule for a whole cloze (QTIWorks);
* ``SCORE = 0`` as the first rule, also inside conditions (human-marked items: nothing is scored);
* any rule that never sets ``SCORE`` or ``MAXSCORE`` and never exits (feedback only): ignored,
  as feedback is not delivered in an exam.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from lxml import etree

from exam_core.model import TOLERANCE_MODES, Tolerance
from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.items.qti.xml import qti_attrs, qti_children, qti_name

TEMPLATES = ("match_correct", "map_response", "map_response_point")
#: Template names -> the template they are (Common Cartridge's add only feedback).
TEMPLATE_ALIASES = {
    "match_correct": "match_correct", "map_response": "map_response", "map_response_point": "map_response_point",
    "CC2_match": "match_correct", "CC2_match_basic": "match_correct", "CC2_map_response": "map_response",
}
TEMPLATE_PREFIXES = (
    "http://www.imsglobal.org/question/qti_v2p0/rptemplates/",
    "http://www.imsglobal.org/question/qti_v2p1/rptemplates/",
    "http://www.imsglobal.org/question/qti_v2p2/rptemplates/",
    "http://www.imsglobal.org/question/qti_v3p0/rptemplates/",
    "https://www.imsglobal.org/question/qti_v3p0/rptemplates/",
    "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/",
    "http://purl.imsglobal.org/spec/qti/v3p0/rptemplates/",
    "",
)
SCORE = "SCORE"
MAXSCORE = "MAXSCORE"
#: Elements that change what follows, or pull in rules we cannot see: never "feedback only".
_CONTROL = frozenset({"exitResponse", "responseProcessingFragment", "include", "lookupOutcomeValue"})


@dataclass(frozen=True)
class Rule:
    """How one response is scored: its template, and for match_correct the score when correct."""

    response_id: str
    template: str
    weight: float = 1.0
    guarded: bool = True  # map templates: a missing response scores 0 (isNull guard or template)
    tolerance: Tolerance | None = None  # match_correct by QTI equal with a toleranceMode


def template_name(uri: str) -> str | None:
    """The standard template a ``template``/``templateLocation`` URI names, or None."""
    for prefix in TEMPLATE_PREFIXES:
        if uri.startswith(prefix):
            name = uri[len(prefix):].removesuffix(".xml")
            if name in TEMPLATE_ALIASES:
                return TEMPLATE_ALIASES[name]
    return None


class ProcessingReader:
    """Reads one ``responseProcessing`` element into per-response :class:`Rule` s."""

    def __init__(self, source: str, outcome_defaults: dict[str, float | None]) -> None:
        self.source = source
        self.defaults = outcome_defaults

    def reject(self, element: str, problem: str) -> ItemRejected:
        return ItemRejected(self.source, element, problem)

    def read(self, rp: etree._Element) -> tuple[list[Rule], bool]:
        """(rules, is_template): the per-response rules, and whether a template URI gave them."""
        rules = list(qti_children(rp))
        if not rules:
            a = qti_attrs(rp)
            uri = a.get("template") or a.get("templateLocation") or ""
            name = template_name(uri)
            if name is None:
                raise self.reject("responseProcessing", f"template {uri!r} is not a standard template "
                                                        "(match_correct, map_response, map_response_point, CC2_*)")
            return [Rule("RESPONSE", name)], True
        return self._inline(rules), False

    # --- inline rules ----------------------------------------------------------------------------
    def _inline(self, rules: list[etree._Element]) -> list[Rule]:
        found: list[Rule] = []
        assigned = zeroed = False
        for index, rule in enumerate(rules, 1):
            where = f"responseProcessing/{qti_name(rule)}[{index}]"
            if self._feedback_only(rule):
                continue
            if self._zero_only(rule):
                if found or assigned:
                    raise self.reject(where, "sets SCORE to 0 after other rules already scored")
                zeroed = True
                continue
            recognised = self._sum_of_maps(rule)
            if recognised is None:
                single = self._scoring_rule(rule, where)
                recognised = None if single is None else ([] if single[0] is None else [single[0]], single[1])
            if recognised is None:
                raise self.reject(where, "custom response processing rules are not supported: this rule is not "
                                         "match_correct or map_response scoring (plain, weighted or summed per "
                                         "response) nor feedback only")
            specs, is_sum = recognised
            if not is_sum:
                if found or assigned:
                    raise self.reject(where, "sets SCORE after other rules already scored: only the first "
                                             "scoring rule may assign SCORE, later ones must add to it")
                assigned = True
            zeroed = zeroed or not specs  # a SCORE = 0 reset
            for rule_spec in specs:
                if any(r.response_id == rule_spec.response_id for r in found):
                    raise self.reject(where, f"scores {rule_spec.response_id} a second time")
                found.append(rule_spec)
        if not found and not zeroed:
            raise self.reject("responseProcessing", "no rule sets SCORE from a response: the item cannot be scored")
        # found empty but zeroed: SCORE is only ever 0 (a human-marked item's processing); the key
        # reader refuses any automatically scored interaction that nothing scores
        if not assigned and (self.defaults.get(SCORE) or 0.0) != 0.0:
            raise self.reject("outcomeDeclaration[SCORE]", "a default SCORE other than 0 added to summed "
                                                           "response scores is not supported")
        return found

    def _zero_only(self, rule: etree._Element) -> bool:
        """True for a condition whose branches set SCORE to 0 or leave it (with a 0 default), nothing else.

        Human-marked items often say "SCORE = 0 whether or not there is a response" (the marker's
        mark replaces it): that scores nothing automatically, so it is not custom scoring.
        """
        if qti_name(rule) != "responseCondition" or (self.defaults.get(SCORE) or 0.0) != 0.0:
            return False
        zero_seen = False
        for el in rule.iter():
            if not isinstance(el.tag, str):
                continue
            name = qti_name(el)
            if name in _CONTROL or name in ("setCorrectResponse", "setTemplateValue"):
                return False
            if name == "setOutcomeValue":
                ident = qti_attrs(el).get("identifier")
                if ident == MAXSCORE:
                    return False
                if ident == SCORE:
                    expr = _only_child(el)
                    if expr is None or self._constant(expr) != 0.0:
                        return False
                    zero_seen = True
        return zero_seen

    def _sum_of_maps(self, rule: etree._Element) -> tuple[list[Rule], bool] | None:
        """``SCORE = sum(mapResponse(R1), ..., mapResponse(Rn))`` (``variable SCORE`` may be one operand).

        QTIWorks and STOMP items score a cloze in one rule this way: it is exactly the sum of each
        response's map_response (unguarded: a missing response maps as the template would not, so
        the key check refuses a mapping whose defaultValue or bounds would then score).
        """
        if qti_name(rule) != "setOutcomeValue" or qti_attrs(rule).get("identifier") != SCORE:
            return None
        expr = _only_child(rule)
        if expr is None or qti_name(expr) != "sum":
            return None
        specs: list[Rule] = []
        is_sum = False
        for operand in qti_children(expr):
            if not is_sum and qti_name(operand) == "variable" and qti_attrs(operand).get("identifier") == SCORE:
                is_sum = True
                continue
            mapped = self._mapped(operand)
            if mapped is None:
                return None
            specs.append(Rule(mapped[0], mapped[1], guarded=False))
        return (specs, is_sum) if len(specs) >= 2 else None

    def _feedback_only(self, rule: etree._Element) -> bool:
        """True when the rule sets some outcome, and nothing in it sets SCORE or MAXSCORE or
        changes control flow (a rule that sets nothing is not recognised: it is not what it seems)."""
        sets_something = False
        for el in rule.iter():
            if not isinstance(el.tag, str):
                continue
            name = qti_name(el)
            if name in _CONTROL:
                return False
            if name == "setOutcomeValue":
                if qti_attrs(el).get("identifier") in (SCORE, MAXSCORE):
                    return False
                sets_something = True
        return sets_something

    def _scoring_rule(self, rule: etree._Element, where: str) -> tuple[Rule | None, bool] | None:
        """(rule or None for a reset, is_sum), or None when the rule is not a recognised form."""
        name = qti_name(rule)
        if name == "setOutcomeValue":
            return self._score_assignment(rule, where, guarded=False)
        if name != "responseCondition":
            return None
        branches = self._without_null_branch(list(qti_children(rule)))
        if not branches or qti_name(branches[0]) not in ("responseIf", "responseElseIf") or len(branches) > 2:
            return None
        if len(branches) == 2 and qti_name(branches[1]) != "responseElse":
            return None
        first = list(qti_children(branches[0]))
        other = list(qti_children(branches[1])) if len(branches) == 2 else []
        if not first:
            return None
        condition, then = first[0], first[1:]
        matched, tolerance = self._match_condition(condition), None
        if matched is None:
            matched, tolerance = self._equal_condition(condition, where) or (None, None)
        if matched is not None:
            found = self._match_correct(matched, then, other, where)
            return None if found is None else (dataclasses.replace(found[0], tolerance=tolerance), found[1])
        null = self._null_condition(condition)
        if null is not None:
            response_id, negated = null
            scoring, zero = (then, other) if negated else (other, then)
            return self._guarded_map(response_id, scoring, zero, where)
        return None

    def _without_null_branch(self, branches: list[etree._Element]) -> list[etree._Element]:
        """ONYX writes ``if isNull(R) [feedback] elseif match(R, correct R) SCORE += W else [feedback]``:
        a missing response never matches, so the first branch scores nothing either way and is left
        out (only when it sets no SCORE, the next branch tests the same R, and SCORE starts at 0).
        Anything else is returned unchanged and judged as written."""
        if len(branches) < 2 or qti_name(branches[0]) != "responseIf" or qti_name(branches[1]) != "responseElseIf":
            return branches
        null_part, next_part = list(qti_children(branches[0])), list(qti_children(branches[1]))
        null = self._null_condition(null_part[0]) if null_part else None
        if null is None or null[1] or not next_part or (self.defaults.get(SCORE) or 0.0) != 0.0:
            return branches
        if any(not self._feedback_only(action) for action in null_part[1:]):
            return branches
        tested = self._match_condition(next_part[0])
        if tested is None:
            tested = (self._equal_condition(next_part[0], "responseElseIf") or (None, None))[0]
        return branches[1:] if tested == null[0] else branches

    def _match_correct(self, response_id: str, then: list[etree._Element], other: list[etree._Element],
                       where: str) -> tuple[Rule, bool] | None:
        score_then = self._score_setter(then)
        score_else = self._score_setter(other)
        if score_then is None:
            return None
        expr = _only_child(score_then)
        if expr is None:
            return None
        summed = self._sum_operand(expr)
        if summed is not None:
            if score_else is not None:
                return None
            return Rule(response_id, "match_correct", self._weight(summed, where)), True
        if score_else is not None:
            else_expr = _only_child(score_else)
            if else_expr is None or self._constant(else_expr) != 0.0:
                return None
        elif (self.defaults.get(SCORE) or 0.0) != 0.0:
            return None
        return Rule(response_id, "match_correct", self._weight(expr, where)), False

    def _guarded_map(self, response_id: str, scoring: list[etree._Element], zero: list[etree._Element],
                     where: str) -> tuple[Rule, bool] | None:
        setter = self._score_setter(scoring)
        zero_setter = self._score_setter(zero)
        if setter is None:
            return None
        recognised = self._score_assignment(setter, where, guarded=True)
        if recognised is None:
            return None
        rule, is_sum = recognised
        if rule is None or rule.response_id != response_id:
            return None
        if zero_setter is not None:
            zero_expr = _only_child(zero_setter)
            if is_sum or zero_expr is None or self._constant(zero_expr) != 0.0:
                return None
        return rule, is_sum

    def _score_assignment(self, setter: etree._Element, where: str,
                          guarded: bool) -> tuple[Rule | None, bool] | None:
        """``SCORE = 0``, ``SCORE = mapResponse(R)`` or ``SCORE = SCORE + mapResponse(R)``."""
        if qti_attrs(setter).get("identifier") != SCORE:
            return None
        expr = _only_child(setter)
        if expr is None:
            return None
        if not guarded and self._constant(expr) == 0.0:
            return None, False
        summed = self._sum_operand(expr)
        target = summed if summed is not None else expr
        mapped = self._mapped(target)
        if mapped is None:
            return None
        response_id, template = mapped
        return Rule(response_id, template, guarded=guarded), summed is not None

    def _score_setter(self, actions: list[etree._Element]) -> etree._Element | None:
        """The one ``setOutcomeValue SCORE`` among a branch's actions; others must set other outcomes."""
        setters = []
        for action in actions:
            if qti_name(action) != "setOutcomeValue":
                if not self._feedback_only(action):
                    return _INVALID
                continue
            ident = qti_attrs(action).get("identifier")
            if ident == SCORE:
                setters.append(action)
            elif ident == MAXSCORE:
                return _INVALID
        if len(setters) > 1:
            return _INVALID
        return setters[0] if setters else None

    # --- expressions -----------------------------------------------------------------------------
    def _sum_operand(self, expr: etree._Element) -> etree._Element | None:
        """X when ``expr`` is ``sum(SCORE, X)`` (either order), else None."""
        if qti_name(expr) != "sum":
            return None
        operands = list(qti_children(expr))
        if len(operands) != 2:
            return None
        for mine, theirs in ((operands[0], operands[1]), (operands[1], operands[0])):
            if qti_name(mine) == "variable" and qti_attrs(mine).get("identifier") == SCORE:
                return theirs
        return None

    def _mapped(self, expr: etree._Element) -> tuple[str, str] | None:
        name = qti_name(expr)
        if name in ("mapResponse", "mapResponsePoint") and not list(qti_children(expr)):
            ident = qti_attrs(expr).get("identifier", "")
            return (ident, "map_response" if name == "mapResponse" else "map_response_point") if ident else None
        return None

    def _match_condition(self, cond: etree._Element) -> str | None:
        """R when ``cond`` is ``match(variable R, correct R)`` (either order)."""
        cond = _unwrapped(cond)
        if qti_name(cond) != "match":
            return None
        operands = list(qti_children(cond))
        if len(operands) != 2:
            return None
        kinds = sorted((qti_name(o), qti_attrs(o).get("identifier", "")) for o in operands)
        if [k for k, _ in kinds] != ["correct", "variable"] or kinds[0][1] != kinds[1][1] or not kinds[0][1]:
            return None
        return kinds[0][1]

    def _equal_condition(self, cond: etree._Element, where: str) -> tuple[str, Tolerance | None] | None:
        """(R, tolerance) when ``cond`` is ``equal(variable R, correct R)`` (either order); exact
        mode has no tolerance. A tolerance that is not one or two numbers of at least 0 is refused."""
        cond = _unwrapped(cond)
        if qti_name(cond) != "equal":
            return None
        operands = [(qti_name(o), qti_attrs(o).get("identifier", "")) for o in qti_children(cond)]
        if (len(operands) != 2 or sorted(k for k, _ in operands) != ["correct", "variable"]
                or operands[0][1] != operands[1][1] or not operands[0][1]):
            return None
        a = qti_attrs(cond)
        mode = a.get("toleranceMode", "exact")
        if mode == "exact":
            return operands[0][1], None
        if mode not in TOLERANCE_MODES:
            raise self.reject(f"{where}/equal@toleranceMode", f"{mode!r} is not exact, absolute or relative")
        try:
            parts = [float(t) for t in a.get("tolerance", "").split()]
        except ValueError:
            parts = []
        if len(parts) not in (1, 2) or not all(math.isfinite(t) and t >= 0 for t in parts):
            raise self.reject(f"{where}/equal@tolerance", f"{a.get('tolerance', '')!r} is not one or two numbers "
                                                          "of at least 0")
        bounds = [a.get(b, "true") for b in ("includeLowerBound", "includeUpperBound")]
        if any(b not in ("true", "false") for b in bounds):
            raise self.reject(f"{where}/equal", "includeLowerBound and includeUpperBound are true or false")
        return operands[0][1], Tolerance(mode, parts[0], parts[-1], bounds[0] == "true", bounds[1] == "true",
                                         "response" if operands[0][0] == "variable" else "correct")

    def _null_condition(self, cond: etree._Element) -> tuple[str, bool] | None:
        """(R, negated) when ``cond`` is ``isNull(variable R)`` or ``not(isNull(variable R))``."""
        negated = False
        cond = _unwrapped(cond)
        if qti_name(cond) == "not":
            inner = _only_child(cond)
            if inner is None:
                return None
            cond, negated = _unwrapped(inner), True
        if qti_name(cond) != "isNull":
            return None
        var = _only_child(cond)
        if var is None or qti_name(var) != "variable":
            return None
        ident = qti_attrs(var).get("identifier", "")
        return (ident, negated) if ident else None

    def _constant(self, expr: etree._Element) -> float | None:
        """The value of ``baseValue`` N, or of the MAXSCORE outcome (a constant no rule sets)."""
        name = qti_name(expr)
        if name == "baseValue" and qti_attrs(expr).get("baseType") in ("float", "integer"):
            try:
                value = float((expr.text or "").strip())
            except ValueError:
                return None
            return value if math.isfinite(value) else None
        if name == "variable" and qti_attrs(expr).get("identifier") == MAXSCORE:
            return self.defaults.get(MAXSCORE)
        return None

    def _weight(self, expr: etree._Element, where: str) -> float:
        value = self._constant(expr)
        if value is None:
            raise self.reject(where, "the score when correct must be a number or the MAXSCORE outcome's "
                                     "default value")
        if value <= 0:
            raise self.reject(where, f"the score when correct is {value:g}: it must be above zero")
        return value


_INVALID = etree.Element("invalid")


def _unwrapped(cond: etree._Element) -> etree._Element:
    """The condition inside single-operand ``and``/``or`` wrappers (authoring tools write
    ``and(match(R, correct R))``): with one operand they are that operand, so it is judged as written."""
    while qti_name(cond) in ("and", "or"):
        inner = _only_child(cond)
        if inner is None:
            return cond
        cond = inner
    return cond


def _only_child(el: etree._Element) -> etree._Element | None:
    children = list(qti_children(el))
    return children[0] if len(children) == 1 else None
