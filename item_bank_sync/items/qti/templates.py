"""QTI template processing: item families whose variables are drawn once per form, with a seed.

Why: an item with ``templateDeclaration``/``templateProcessing`` is a *family* (``x = 3..9, the
answer is 2x``). Importing its static ``correctResponse`` would store a wrong key, and showing its
body would show variable names. So the bank stores the family (the QTI text, on the answer key,
which never leaves the central body) and form build draws one *instance*: the template variables
are evaluated, the response declarations receive what ``setCorrectResponse``/``setDefaultValue``
computed, the body receives the values (``printedVariable``, MathML ``mi``/``ci`` naming a
``mathVariable``, ``templateInline``/``templateBlock``/``templateIdentifier`` show and hide), and
the template variables used by ``responseProcessing`` become constants. The instance is plain QTI
and is read by the ordinary reader, with all its checks; the kiosk never evaluates templates.

The draw is reproducible on every machine and Python version. It does not use :mod:`random`
(whose ``randrange`` is not promised to stay the same across versions) but SHA-256 in counter
mode, :class:`Draw`: the seed is ``SHA-256("invigil-template-draw/1" NUL form_id NUL form_version
NUL item_id NUL item_version)`` and the n-th 64-bit number is the first 8 bytes (big-endian) of
``SHA-256(seed || n as 8 bytes big-endian)``, n = 0, 1, ... An integer below ``k`` is drawn by
rejection (numbers at or above the largest multiple of ``k`` are skipped); a float in [0, 1) is
the top 53 bits divided by 2**53.

Supported (everything else is refused naming the element): template variables of base type
integer, float, boolean, identifier or string, cardinality single, multiple or ordered; the rules
setTemplateValue, setCorrectResponse, setDefaultValue, templateCondition, templateConstraint
(redrawn up to :data:`MAX_DRAWS` times, then the build fails naming the item) and exitTemplate; the
expressions in :data:`EXPRESSIONS`.
"""

from __future__ import annotations

import copy
import hashlib
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from lxml import etree

from exam_core.model import Tolerance
from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.items.qti.xml import MATHML_NS, qti_attrs, qti_children, qti_name

#: How often a family is drawn again when a templateConstraint is not met (QTI suggests 100).
MAX_DRAWS = 100
#: Most elements a templateProcessing may hold (evaluated up to MAX_DRAWS times: bounds the work
#: a hostile file can ask for; real families hold a few dozen).
MAX_TEMPLATE_ELEMENTS = 5_000
#: Most values one randomInteger may choose from (the generator draws below 2**64).
MAX_RANDOM_CHOICES = 2**48
TEMPLATE_TOP = ("templateDeclaration", "templateProcessing")
BASE_TYPES = frozenset({"integer", "float", "boolean", "identifier", "string"})
CARDINALITIES = frozenset({"single", "multiple", "ordered"})
RULES = frozenset({"setTemplateValue", "setCorrectResponse", "setDefaultValue", "templateCondition",
                   "templateConstraint", "exitTemplate"})
EXPRESSIONS = frozenset({
    "baseValue", "variable", "null", "isNull", "randomInteger", "randomFloat", "random", "mathConstant",
    "sum", "product", "subtract", "divide", "power", "integerDivide", "integerModulus", "truncate", "round",
    "roundTo", "min", "max", "gt", "gte", "lt", "lte", "equal", "match", "and", "or", "not", "multiple",
    "ordered", "member", "contains", "index"})
_VAR_REF = re.compile(r"^\{?([A-Za-z_][A-Za-z0-9_.\-]*)\}?$")
_FORMAT = re.compile(r"^(?:[^%]|%%)*(%[-+ 0#]*\d{0,3}(?:\.\d{1,3})?[diouxXeEfFgGs])?(?:[^%]|%%)*$")


class TemplateUnsatisfiable(ItemRejected):
    """Every allowed redraw of a family broke its templateConstraint: the form cannot be built."""


@dataclass(frozen=True)
class Container:
    """A QTI multiple or ordered value (``values`` in order; a multiple ignores order when compared)."""

    cardinality: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class TemplateVar:
    identifier: str
    cardinality: str
    base_type: str
    default: Any
    math_variable: bool


class Draw:
    """The stable SHA-256 counter generator described in the module docstring."""

    def __init__(self, *parts: str | int) -> None:
        text = "\0".join(["invigil-template-draw/1", *(str(p) for p in parts)])
        self.seed = hashlib.sha256(text.encode("utf-8")).digest()
        self.counter = 0

    def bits64(self) -> int:
        block = hashlib.sha256(self.seed + self.counter.to_bytes(8, "big")).digest()
        self.counter += 1
        return int.from_bytes(block[:8], "big")

    def below(self, k: int) -> int:
        """A uniform integer in [0, k) (rejection sampling, so no value is favoured)."""
        limit = (1 << 64) - (1 << 64) % k
        while True:
            value = self.bits64()
            if value < limit:
                return value % k

    def unit(self) -> float:
        return (self.bits64() >> 11) / float(1 << 53)

    @property
    def seed_hex(self) -> str:
        return self.seed.hex()


def has_templates(root: etree._Element) -> bool:
    return any(qti_name(c) in TEMPLATE_TOP for c in qti_children(root))


@dataclass
class Instance:
    """One draw: the template values, what was set on responses/outcomes, and the seed used."""

    values: dict[str, Any]
    correct: dict[str, Any]
    defaults: dict[str, Any]
    seed: str
    draws: int


class Family:
    """A template item read and checked; :meth:`instance` draws one concrete QTI item from it."""

    def __init__(self, root: etree._Element, source: str) -> None:
        self.root = root
        self.source = source
        self.variables: dict[str, TemplateVar] = {}
        self.declared: dict[str, tuple[str, str]] = {}  # response/outcome id -> (cardinality, base type)
        self.processing: etree._Element | None = None
        self._read()

    def reject(self, element: str, problem: str) -> ItemRejected:
        return ItemRejected(self.source, element, problem)

    # --- reading -----------------------------------------------------------------------------
    def _read(self) -> None:
        for child in qti_children(self.root):
            name, a = qti_name(child), qti_attrs(child)
            if name in ("responseDeclaration", "outcomeDeclaration"):
                self.declared[a.get("identifier", "")] = (a.get("cardinality", ""), a.get("baseType", ""))
            elif name == "templateDeclaration":
                self._declaration(child, a)
            elif name == "templateProcessing":
                if self.processing is not None:
                    raise self.reject("templateProcessing", "appears more than once")
                self.processing = child
        if self.processing is not None:
            size = sum(1 for el in self.processing.iter() if isinstance(el.tag, str))
            if size > MAX_TEMPLATE_ELEMENTS:
                raise self.reject("templateProcessing", f"holds {size} elements, more than the "
                                                        f"{MAX_TEMPLATE_ELEMENTS} allowed")
            self._check_rules(self.processing, "templateProcessing")

    def _declaration(self, el: etree._Element, a: dict[str, str]) -> None:
        ident = a.get("identifier", "")
        where = f"templateDeclaration[{ident}]"
        if not _VAR_REF.match(ident) or ident in self.variables or ident in self.declared:
            raise self.reject(where, "identifier is missing, not valid or declared twice")
        card, base = a.get("cardinality", ""), a.get("baseType", "")
        if card not in CARDINALITIES:
            raise self.reject(where, f"cardinality {card!r} is not supported (single, multiple, ordered)")
        if base not in BASE_TYPES:
            raise self.reject(where, f"baseType {base!r} is not supported ({', '.join(sorted(BASE_TYPES))})")
        default = None
        for child in qti_children(el):
            if qti_name(child) != "defaultValue":
                raise self.reject(f"{where}/{qti_name(child)}", "is not supported in a template declaration")
            texts = [(v.text or "") for v in qti_children(child) if qti_name(v) == "value"]
            values = tuple(self._typed(base, t, f"{where}/defaultValue") for t in texts)
            default = values[0] if card == "single" and len(values) == 1 else (
                Container(card, values) if card != "single" else None)
        self.variables[ident] = TemplateVar(ident, card, base, default, a.get("mathVariable") == "true")

    def _check_rules(self, parent: etree._Element, where: str) -> None:
        self._check_rule_list(list(qti_children(parent)), where, nested=False)

    def _check_rule_list(self, rules: list[etree._Element], where: str, nested: bool) -> None:
        """Every rule supported and aimed at a declared variable; ``nested``: a templateCondition's branches."""
        for rule in rules:
            name = qti_name(rule)
            path = f"{where}/{name}"
            branch = name in ("templateIf", "templateElseIf", "templateElse")
            if nested != branch or (name not in RULES and not branch):
                raise self.reject(path, "is not supported in template processing" if not nested
                                  else "is not allowed in a templateCondition")
            target = qti_attrs(rule).get("identifier", "")
            if name == "setTemplateValue" and target not in self.variables:
                raise self.reject(f"{path}[{target}]", "does not name a template variable")
            if name in ("setCorrectResponse", "setDefaultValue") and target not in self.declared:
                raise self.reject(f"{path}[{target}]", "does not name a response or outcome declaration")
            children = list(qti_children(rule))
            if name == "templateCondition":
                self._check_rule_list(children, path, nested=True)
            elif name in ("templateIf", "templateElseIf"):
                self._check_expression(children[0] if children else None, path)
                self._check_rule_list(children[1:], path, nested=False)
            elif name == "templateElse":
                self._check_rule_list(children, path, nested=False)
            elif name != "exitTemplate":
                if len(children) != 1:
                    raise self.reject(path, "needs exactly one expression")
                self._check_expression(children[0], path)

    def _check_expression(self, el: etree._Element | None, where: str) -> None:
        if el is None:
            raise self.reject(where, "needs an expression")
        name = qti_name(el)
        path = f"{where}/{name}"
        if name not in EXPRESSIONS:
            raise self.reject(path, "is not supported in template processing")
        if name == "variable":
            ident = qti_attrs(el).get("identifier", "")
            if ident not in self.variables:
                raise self.reject(f"{path}[{ident}]", "names no template variable (response and outcome values "
                                                      "do not exist when a family is drawn)")
        for child in qti_children(el):
            self._check_expression(child, path)

    def _typed(self, base: str, text: str, where: str) -> Any:
        text = text.strip()
        try:
            if base == "integer":
                return int(text)
            if base == "float":
                value = float(text)
                if not math.isfinite(value):
                    raise ValueError(text)
                return value
        except ValueError:
            raise self.reject(where, f"{text!r} is not a {base}") from None
        if base == "boolean":
            if text not in ("true", "false", "1", "0"):
                raise self.reject(where, f"{text!r} is not a boolean")
            return text in ("true", "1")
        return text

    # --- drawing -----------------------------------------------------------------------------
    def draw(self, draw: Draw, item_label: str) -> Instance:
        """Evaluate template processing; redraw while a templateConstraint fails (up to MAX_DRAWS)."""
        for attempt in range(1, MAX_DRAWS + 1):
            run = _Run(self, draw)
            if run.execute():
                return Instance(run.values, run.correct, run.defaults, draw.seed_hex, attempt)
        raise TemplateUnsatisfiable(self.source, f"templateConstraint of {item_label}",
                                    f"was not met in {MAX_DRAWS} draws: the family cannot be instantiated "
                                    "(widen the ranges or fix the constraint)")

    def instance(self, draw: Draw, item_label: str) -> tuple[etree._Element, Instance]:
        """A concrete QTI item (a new tree) and the draw it came from."""
        inst = self.draw(draw, item_label)
        return _Instantiator(self, inst).apply(copy.deepcopy(self.root)), inst


class _Exit(Exception):
    """exitTemplate: stop template processing, keeping what was set."""


class _Run:
    """One pass through template processing (a fresh set of values)."""

    def __init__(self, family: Family, draw: Draw) -> None:
        self.family = family
        self.draw = draw
        self.values: dict[str, Any] = {k: v.default for k, v in family.variables.items()}
        self.correct: dict[str, Any] = {}
        self.defaults: dict[str, Any] = {}

    def execute(self) -> bool:
        """True when every templateConstraint held."""
        if self.family.processing is None:
            return True
        try:
            return self._rules(list(qti_children(self.family.processing)))
        except _Exit:
            return True

    def _rules(self, rules: list[etree._Element]) -> bool:
        return all(self._rule(rule) for rule in rules)  # stops at the first unmet constraint

    def _rule(self, rule: etree._Element) -> bool:
        name = qti_name(rule)
        kids = list(qti_children(rule))
        target = qti_attrs(rule).get("identifier", "")
        if name == "exitTemplate":
            raise _Exit()
        if name == "templateConstraint":
            return self.expr(kids[0]) is True
        if name == "templateCondition":
            for branch in kids:
                branch_kids = list(qti_children(branch))
                if qti_name(branch) == "templateElse":
                    return self._rules(branch_kids)
                if self.expr(branch_kids[0]) is True:
                    return self._rules(branch_kids[1:])
            return True
        value = self.expr(kids[0])
        try:
            if name == "setTemplateValue":
                var = self.family.variables[target]
                self.values[target] = _coerce(value, var.cardinality, var.base_type)
            else:
                card, base = self.family.declared[target]
                store = self.correct if name == "setCorrectResponse" else self.defaults
                store[target] = _coerce(value, card, base)
        except TypeError as exc:
            raise self.family.reject(f"templateProcessing/{name}[{target}]", str(exc)) from None
        return True

    # --- expressions -------------------------------------------------------------------------
    def expr(self, el: etree._Element) -> Any:
        """The value of one expression; NULL is None, multiple/ordered a Container."""
        name = qti_name(el)
        try:
            result = self._evaluate(el, name, qti_attrs(el))
        except (TypeError, ValueError, ArithmeticError, IndexError, StopIteration, AttributeError,
                InvalidOperation) as exc:
            raise self.family.reject(f"templateProcessing//{name}", "cannot be evaluated: operands missing or of "
                                                                    f"the wrong type ({exc!r:.80})") from None
        if isinstance(result, float) and not math.isfinite(result):
            return None  # an overflow is NULL, as a division by zero is
        return result

    def _evaluate(self, el: etree._Element, name: str, a: dict[str, str]) -> Any:
        if name == "baseValue":
            return self.family._typed(a.get("baseType", "string"), el.text or "", "baseValue")
        if name == "variable":
            return self.values.get(a.get("identifier", ""))
        if name == "null":
            return None
        if name == "random":
            pool = self.expr(next(qti_children(el)))
            return pool.values[self.draw.below(len(pool.values))] if _filled(pool) else None
        args = [self.expr(c) for c in qti_children(el)]
        if name in _FUNCTIONS:
            return _FUNCTIONS[name](self, a, args)
        return _operator(name, a, args)

    def ref(self, a: dict[str, str], attr: str, default: str | None = None) -> Any:
        """An ``integerOrVariableRef``/``floatOrVariableRef`` attribute: a number or ``{VAR}``/``VAR``."""
        text = a.get(attr, default)
        if text is None:
            raise self.family.reject(attr, "is required")
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
            if math.isfinite(number):
                return number
        except ValueError:
            pass
        match = _VAR_REF.match(text)
        if match and match.group(1) in self.values:
            return self.values[match.group(1)]
        raise self.family.reject(f"@{attr}", f"{text!r} is neither a number nor a template variable")


def _filled(value: Any) -> bool:
    return value is not None and not (isinstance(value, Container) and not value.values)


def _random_integer(run: _Run, a: dict[str, str], _: list[Any]) -> Any:
    low, high, step = int(run.ref(a, "min")), int(run.ref(a, "max")), int(run.ref(a, "step", "1"))
    if step < 1 or high < low:
        raise run.family.reject("randomInteger", f"min={low} max={high} step={step} is an empty range")
    choices = (high - low) // step + 1
    if choices > MAX_RANDOM_CHOICES:
        raise run.family.reject("randomInteger", f"chooses among {choices} values, more than {MAX_RANDOM_CHOICES}")
    return low + step * run.draw.below(choices)


def _random_float(run: _Run, a: dict[str, str], _: list[Any]) -> Any:
    low, high = float(run.ref(a, "min")), float(run.ref(a, "max"))
    if high < low:
        raise run.family.reject("randomFloat", f"min={low} max={high} is an empty range")
    return low + (high - low) * run.draw.unit()


def _math_constant(run: _Run, a: dict[str, str], _: list[Any]) -> Any:
    return {"pi": math.pi, "e": math.e}.get(a.get("name", ""))


def _index(run: _Run, a: dict[str, str], args: list[Any]) -> Any:
    n = int(run.ref(a, "n"))
    value = args[0]
    if not _filled(value) or not 1 <= n <= len(value.values):
        return None
    return value.values[n - 1]


def _round_to(run: _Run, a: dict[str, str], args: list[Any]) -> Any:
    value, figures = args[0], int(run.ref(a, "figures"))
    if value is None:
        return None
    mode = a.get("roundingMode", "significantFigures")
    return round_to(float(value), figures, mode)


_FUNCTIONS: dict[str, Callable[[_Run, dict[str, str], list[Any]], Any]] = {
    "randomInteger": _random_integer, "randomFloat": _random_float, "mathConstant": _math_constant,
    "index": _index, "roundTo": _round_to,
}


def round_to(value: float, figures: int, mode: str) -> float:
    """QTI roundTo: half away from zero on the decimal value, to significant figures or places."""
    if mode not in ("significantFigures", "decimalPlaces"):
        raise ValueError(f"roundingMode {mode!r}")
    if not (1 if mode == "significantFigures" else 0) <= figures <= 30:
        raise ValueError(f"figures={figures} is out of range for {mode}")
    if value == 0:
        return 0.0
    exact = Decimal(repr(value))
    places = figures if mode == "decimalPlaces" else figures - 1 - math.floor(math.log10(abs(value)))
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _numbers(args: list[Any]) -> list[Any] | None:
    flat: list[Any] = []
    for arg in args:
        if not _filled(arg):
            return None
        flat.extend(arg.values if isinstance(arg, Container) else [arg])
    return flat


def _operator(name: str, a: dict[str, str], args: list[Any]) -> Any:
    """Arithmetic, comparison, logic and container operators; NULL in gives NULL out (QTI)."""
    if name == "isNull":
        return not _filled(args[0])
    if name in ("multiple", "ordered"):
        values: list[Any] = []
        for arg in args:
            if _filled(arg):
                values.extend(arg.values if isinstance(arg, Container) else [arg])
        return Container(name, tuple(values))
    if name in ("and", "or", "not"):
        return _logic(name, args)
    nums = _numbers(args)
    if nums is None:
        return None
    return _NUMERIC[name](nums, a)


def _logic(name: str, args: list[Any]) -> Any:
    if name == "not":
        return None if args[0] is None else not args[0]
    if name == "and":
        return False if False in args else (None if None in args else True)
    return True if True in args else (None if None in args else False)


def _num_result(value: float, ints: bool) -> Any:
    return int(value) if ints else float(value)


def _all_int(nums: list[Any]) -> bool:
    return all(isinstance(n, int) and not isinstance(n, bool) for n in nums)


def _divide(n: list[Any], _: dict[str, str]) -> Any:
    return None if n[1] == 0 else n[0] / n[1]


def _int_divide(n: list[Any], _: dict[str, str]) -> Any:
    return None if n[1] == 0 else int(n[0]) // int(n[1])


def _int_modulus(n: list[Any], _: dict[str, str]) -> Any:
    return None if n[1] == 0 else int(n[0]) - (int(n[0]) // int(n[1])) * int(n[1])


def _power(n: list[Any], _: dict[str, str]) -> Any:
    try:
        result = float(n[0]) ** float(n[1])
    except (OverflowError, ZeroDivisionError):
        return None
    return result if isinstance(result, float) and math.isfinite(result) else None


def _equal(n: list[Any], a: dict[str, str]) -> Any:
    """QTI ``equal``: the same rule as a scored tolerance, :meth:`exam_core.model.Tolerance.holds`
    (the band is around the first operand)."""
    mode = a.get("toleranceMode", "exact")
    x, y = float(n[0]), float(n[1])
    if mode == "exact":
        return x == y
    tol = [float(t) for t in a.get("tolerance", "0").split()] or [0.0]
    return Tolerance(mode, tol[0], tol[-1], a.get("includeLowerBound", "true") == "true",
                     a.get("includeUpperBound", "true") == "true").holds(x, y)


_NUMERIC: dict[str, Callable[[list[Any], dict[str, str]], Any]] = {
    "sum": lambda n, _: _num_result(sum(n), _all_int(n)),
    "product": lambda n, _: _num_result(math.prod(n), _all_int(n)),
    "subtract": lambda n, _: _num_result(n[0] - n[1], _all_int(n)),
    "divide": _divide, "integerDivide": _int_divide, "integerModulus": _int_modulus, "power": _power,
    "truncate": lambda n, _: int(n[0]), "round": lambda n, _: math.floor(float(n[0]) + 0.5),
    "min": lambda n, _: _num_result(min(n), _all_int(n)), "max": lambda n, _: _num_result(max(n), _all_int(n)),
    "gt": lambda n, _: n[0] > n[1], "gte": lambda n, _: n[0] >= n[1],
    "lt": lambda n, _: n[0] < n[1], "lte": lambda n, _: n[0] <= n[1],
    "equal": _equal,
}


def _compare_match(args: list[Any]) -> Any:
    x, y = args
    if not _filled(x) or not _filled(y):
        return None
    if isinstance(x, Container) and isinstance(y, Container):
        return Counter(x.values) == Counter(y.values) if x.cardinality == "multiple" else x.values == y.values
    return x == y


def _member(args: list[Any]) -> Any:
    if not _filled(args[0]) or not _filled(args[1]):
        return None
    return args[0] in args[1].values


def _contains(args: list[Any]) -> Any:
    whole, part = args
    if not _filled(whole) or not _filled(part):
        return None
    if whole.cardinality == "multiple":
        return not (Counter(part.values) - Counter(whole.values))
    size = len(part.values)
    return any(whole.values[i:i + size] == part.values for i in range(len(whole.values) - size + 1))


def _container_op(name: str) -> Callable[[_Run, dict[str, str], list[Any]], Any]:
    ops = {"match": _compare_match, "member": _member, "contains": _contains}
    return lambda run, a, args: ops[name](args)


for _name in ("match", "member", "contains"):
    _FUNCTIONS[_name] = _container_op(_name)


def _coerce(value: Any, cardinality: str, base: str) -> Any:
    """A computed value in the declared shape (an integer declared float becomes a float)."""
    if not _filled(value):
        return None
    if cardinality == "single":
        if isinstance(value, Container):
            return _coerce(value.values[0], "single", base) if len(value.values) == 1 else None
        return _base(value, base)
    items = value.values if isinstance(value, Container) else (value,)
    return Container(cardinality, tuple(_base(v, base) for v in items))


def _base(value: Any, base: str) -> Any:
    """The value as ``base``; a value of another type is a TypeError (the author's mistake)."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if base == "float" and number:
        return float(value)
    if base == "integer" and number and float(value).is_integer():
        return int(value)
    if (base == "boolean" and isinstance(value, bool)) or (base in ("identifier", "string")
                                                           and isinstance(value, str)):
        return value
    if base in ("pair", "directedPair", "point", "duration", "file", "uri"):
        raise TypeError(f"baseType {base} cannot be set by a template")
    raise TypeError(f"sets {value!r}, which is not of baseType {base}")


# --- turning a draw into plain QTI ---------------------------------------------------------------

def value_text(value: Any) -> str:
    """A value as QTI writes it in ``<value>`` (integers plain, floats shortest round-trip)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def printed(value: Any, a: dict[str, str], where: str, source: str) -> str:
    """The text of a ``printedVariable``: ``format`` (C printf, one conversion), else ``base``."""
    if isinstance(value, Container):
        if "index" in a:
            n = _int_attr(a, "index", where, source)
            value = value.values[n - 1] if 1 <= n <= len(value.values) else None
        else:
            return a.get("delimiter", ";").join(printed(v, {k: v2 for k, v2 in a.items() if k != "delimiter"},
                                                        where, source) for v in value.values)
    if value is None:
        return ""
    fmt = a.get("format")
    if fmt:
        if not _FORMAT.match(fmt):
            raise ItemRejected(source, f"{where}@format", f"{fmt!r} is not one printf conversion")
        try:
            return fmt % value if "%" in fmt.replace("%%", "") else fmt.replace("%%", "%")
        except (TypeError, ValueError):
            raise ItemRejected(source, f"{where}@format", f"{fmt!r} does not fit the value {value!r}") from None
    base = _int_attr(a, "base", where, source, "10")
    if isinstance(value, int) and not isinstance(value, bool) and base != 10:
        return _in_base(value, base)
    return value_text(value) if not isinstance(value, float) else format(value, ".15g")


def _int_attr(a: dict[str, str], name: str, where: str, source: str, default: str = "") -> int:
    """An integer attribute of a printedVariable; anything else refuses the item by name (a bad
    file must never stop an import with an error instead of its reason)."""
    text = a.get(name, default)
    try:
        return int(text)
    except ValueError:
        raise ItemRejected(source, f"{where}@{name}", f"{text!r} is not an integer") from None


def _in_base(value: int, base: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    if not 2 <= base <= 36:
        return str(value)
    out, n = "", abs(value)
    while True:
        out = digits[n % base] + out
        n //= base
        if n == 0:
            return ("-" if value < 0 else "") + out


class _Instantiator:
    """Writes one draw into a copy of the family's tree, leaving plain QTI."""

    def __init__(self, family: Family, inst: Instance) -> None:
        self.family = family
        self.inst = inst
        self.source = family.source

    def apply(self, root: etree._Element) -> etree._Element:
        for child in list(qti_children(root)):
            name = qti_name(child)
            if name in TEMPLATE_TOP:
                root.remove(child)
            elif name in ("responseDeclaration", "outcomeDeclaration"):
                self._declaration(child)
                self._constants_in_attributes(child, f"{name}[{qti_attrs(child).get('identifier', '')}]")
            elif name == "responseProcessing":
                self._processing(child)
            elif name in ("itemBody", "modalFeedback"):
                self._body(child)
        return root

    def _make(self, root_like: etree._Element, name: str) -> etree._Element:
        ns = etree.QName(root_like).namespace
        kebab = etree.QName(root_like).localname.startswith("qti-")
        local = "qti-" + re.sub(r"([A-Z])", lambda m: "-" + m.group(1).lower(), name) if kebab else name
        return etree.Element(f"{{{ns}}}{local}" if ns else local)

    def _declaration(self, decl: etree._Element) -> None:
        ident = qti_attrs(decl).get("identifier", "")
        for store, child_name in ((self.inst.correct, "correctResponse"), (self.inst.defaults, "defaultValue")):
            if ident not in store:
                continue
            for old in [c for c in qti_children(decl) if qti_name(c) == child_name]:
                decl.remove(old)
            value = store[ident]
            if value is None:
                continue
            holder = self._make(decl, child_name)
            for item in value.values if isinstance(value, Container) else (value,):
                el = self._make(decl, "value")
                el.text = value_text(item)
                holder.append(el)
            decl.insert(0 if child_name == "defaultValue" else self._after_default(decl), holder)

    @staticmethod
    def _after_default(decl: etree._Element) -> int:
        kids = list(decl)
        return next((i + 1 for i, c in enumerate(kids) if qti_name(c) == "defaultValue"), 0)

    def _constants_in_attributes(self, top: etree._Element, where: str) -> None:
        """``{VAR}`` in an attribute (a ``mapEntry``'s ``mapKey`` or ``mappedValue``, an
        ``areaMapEntry``'s ``coords``, a tolerance, a weight) becomes this instance's value, so the
        reader sees a plain item; a NULL or multiple value cannot stand in one attribute."""
        for el in _elements(top):
            for attr, text in list(el.attrib.items()):
                match = _VAR_REF.match(text)
                if not (text.startswith("{") and match and match.group(1) in self.family.variables):
                    continue
                value = self.inst.values[match.group(1)]
                if not _filled(value) or isinstance(value, Container):
                    raise ItemRejected(self.source, f"{where}//{qti_name(el)}@{etree.QName(attr).localname}",
                                       f"template variable {match.group(1)} has no single value in this draw")
                el.set(attr, value_text(value))

    def _processing(self, rp: etree._Element) -> None:
        """Template variables used in response processing become constants of this instance."""
        self._constants_in_attributes(rp, "responseProcessing")
        for el in list(rp.iter()):
            if not isinstance(el.tag, str):
                continue
            ident = qti_attrs(el).get("identifier", "")
            if qti_name(el) == "variable" and ident in self.family.variables:
                self._replace(el, self._constant(el, self.family.variables[ident], self.inst.values[ident]))

    def _constant(self, like: etree._Element, var: TemplateVar, value: Any) -> etree._Element:
        if not _filled(value):
            return self._make(like, "null")
        items = value.values if isinstance(value, Container) else (value,)
        consts = []
        for item in items:
            el = self._make(like, "baseValue")
            el.set("base-type" if etree.QName(like).localname.startswith("qti-") else "baseType", var.base_type)
            el.text = value_text(item)
            consts.append(el)
        if var.cardinality == "single":
            return consts[0]
        holder = self._make(like, var.cardinality)
        holder.extend(consts)
        return holder

    @staticmethod
    def _replace(old: etree._Element, new: etree._Element) -> None:
        new.tail = old.tail
        parent = old.getparent()
        if parent is not None:
            parent.replace(old, new)

    def _body(self, body: etree._Element) -> None:
        for el in list(_elements(body)):
            if el is not body and body not in el.iterancestors():
                continue  # inside an element already removed
            name = qti_name(el)
            if name == "printedVariable":
                self._printed(el)
            elif name in ("math:mi", "math:ci"):
                self._math(el)
            elif "templateIdentifier" in qti_attrs(el):
                self._show_hide(el, name)

    def _printed(self, el: etree._Element) -> None:
        a = qti_attrs(el)
        ident = a.get("identifier", "")
        where = f"printedVariable[{ident}]"
        if ident not in self.family.variables:
            raise ItemRejected(self.source, where, "prints a response or outcome value, which an exam never shows")
        for unsupported in ("powerForm", "field", "mappingIndicator"):
            if unsupported in a and not (unsupported == "powerForm" and a[unsupported] == "false"):
                raise ItemRejected(self.source, f"{where}@{unsupported}", "is not supported")
        _replace_with_text(el, printed(self._shown(ident, where), a, where, self.source))

    def _shown(self, ident: str, where: str) -> Any:
        """A value the candidate will see; NULL would show an empty gap, so the draw is refused."""
        value = self.inst.values[ident]
        if not _filled(value):
            raise ItemRejected(self.source, where, f"shows template variable {ident}, which has no value in this "
                                                   "draw (no defaultValue and nothing sets it)")
        return value

    def _math(self, el: etree._Element) -> None:
        name = (el.text or "").strip()
        var = self.family.variables.get(name)
        if var is None or not var.math_variable or len(el):
            return
        value = self._shown(name, f"math/{qti_name(el)[5:]}[{name}]")
        if isinstance(value, Container):
            raise ItemRejected(self.source, f"math/mi[{name}]", "a multiple or ordered variable cannot stand in "
                                                                 "MathML")
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        tag = ("mn" if numeric else "mi") if qti_name(el) == "math:mi" else "cn" if numeric else "ci"
        new = etree.Element(f"{{{MATHML_NS}}}{tag}")
        new.text = printed(value, {}, f"math/{tag}", self.source)
        self._replace(el, new)

    def _show_hide(self, el: etree._Element, name: str) -> None:
        a = qti_attrs(el)
        var = self.family.variables.get(a.get("templateIdentifier", ""))
        where = f"{name}[{a.get('identifier', '')}]"
        if var is None:
            raise ItemRejected(self.source, f"{where}@templateIdentifier", "names no template variable")
        if not a.get("identifier"):
            raise ItemRejected(self.source, f"{where}@identifier", "is required with templateIdentifier (the value "
                                                                   "that shows or hides it)")
        value = self.inst.values[var.identifier]
        matched = (a.get("identifier") in value.values if isinstance(value, Container)
                   else value == a.get("identifier"))
        shown = matched != (a.get("showHide", "show") == "hide")
        if not shown:
            _remove_keeping_tail(el)
        elif name in ("templateInline", "templateBlock"):
            _unwrap(el)
        else:
            for attr in list(el.attrib):
                if etree.QName(attr).localname in ("templateIdentifier", "template-identifier", "showHide",
                                                   "show-hide"):
                    del el.attrib[attr]


def _elements(root: etree._Element) -> Iterator[etree._Element]:
    return (el for el in root.iter() if isinstance(el.tag, str))


def _replace_with_text(el: etree._Element, text: str) -> None:
    _remove_keeping_tail(el, text)


def _remove_keeping_tail(el: etree._Element, text: str = "") -> None:
    parent = el.getparent()
    if parent is None:
        return
    joined = text + (el.tail or "")
    previous = el.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + joined
    else:
        parent.text = (parent.text or "") + joined
    parent.remove(el)


def _unwrap(el: etree._Element) -> None:
    """``el`` replaced by its content (text and children), keeping the text around it."""
    parent = el.getparent()
    if parent is None:
        return
    children = list(el)
    if children:
        children[-1].tail = (children[-1].tail or "") + (el.tail or "")
        el.tail = None
        index = parent.index(el)
        for offset, child in enumerate(children, 1):
            parent.insert(index + offset, child)  # after el, which then goes with only its text
    _remove_keeping_tail(el, el.text or "")
