"""Scoring responses with answer keys that never left the central body.

Each response is scored by its :class:`exam_core.model.ResponseKey` template, following QTI 2.1
response processing:

``match_correct``
    full marks (``max_score``) when the response equals the correct value, else 0. Equality is
    cardinality-aware: ``single`` compares one value, ``multiple`` compares *sets* (order and
    repeats do not matter), ``ordered`` compares sequences. A ``pair`` is unordered (``A B`` is
    ``B A``), a ``directedPair`` ordered. Strings compare exactly unless the key says
    ``case_sensitive: false``. Numbers compare by value (``2`` equals ``2.0``), or within the
    key's ``tolerance`` when it has one (QTI ``equal`` with ``toleranceMode`` absolute or relative).
``map_response``
    the sum of the mapped values of the *distinct* responses (a value chosen twice counts once),
    ``default_value`` for each response the mapping does not list, then clamped to
    ``lower_bound`` / ``upper_bound``. Mapping keys are strings: identifiers as is, pairs as
    ``"A B"`` (either order for ``pair``), numbers as written (``"3"``, ``"2.5"``).
``map_response_point``
    for each area of ``area_mapping``, its value once if at least one response point lies in it;
    each point in no area adds ``default_value`` once; then clamped to the bounds.
``human``
    not scored here: the response goes to the human-marking queue (see :mod:`marking`).
``unscored``
    recorded, worth 0 of 0 (a media interaction's play count when no rule scores it).

"No response" (``None`` or an empty list) scores 0 under every template.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Iterable, Sequence

from exam_core.errors import ValidationError
from exam_core.model import IDENTIFIER_RE, AnswerKey, AreaMapEntry, Response, ResponseKey, check_response_value

HUMAN = "human"


@dataclass(slots=True)
class ResponseScore:
    """The score of one response; ``score`` is None while it awaits a human marker."""

    item_id: str
    response_id: str
    score: float | None
    max_score: float
    template: str


@dataclass
class AttemptScore:
    """Scores of one attempt: per response, per item, totals, and what still needs a marker."""

    responses: list[ResponseScore] = field(default_factory=list)

    @property
    def pending(self) -> list[ResponseScore]:
        return [r for r in self.responses if r.score is None]

    @property
    def total(self) -> float:
        return sum(r.score for r in self.responses if r.score is not None)

    @property
    def max_total(self) -> float:
        return sum(r.max_score for r in self.responses)

    def item_scores(self) -> dict[str, float | None]:
        """Score of each item (None while any of its responses awaits a marker)."""
        out: dict[str, float | None] = {}
        for r in self.responses:
            if r.item_id in out and out[r.item_id] is None:
                continue
            out[r.item_id] = None if r.score is None else (out.get(r.item_id) or 0.0) + r.score
        return out


# --- value normalisation ------------------------------------------------------------------------

def _scalar(value: Any, key: ResponseKey) -> Any:
    """A hashable, comparable form of one single value under the key's base type."""
    base = key.base_type
    if base == "pair":
        return frozenset(value) if value[0] != value[1] else (value[0], value[0])
    if base == "directedPair":
        return (value[0], value[1])
    if base == "point":
        return (float(value[0]), float(value[1]))
    if base == "string" and not key.case_sensitive:
        return value.casefold()
    if base in ("integer", "float"):
        return float(value)
    return value


def _values(value: Any, key: ResponseKey) -> list[Any]:
    """The response as a list of single values (empty for no response)."""
    if value is None:
        return []
    return [value] if key.cardinality == "single" else list(value)


@dataclass(frozen=True)
class _Compiled:
    """A key's correct value and mapping, normalised once (intake scores thousands per key)."""

    want: list[Any] | None
    want_set: frozenset[Any]
    mapping: dict[Any, float]


_COMPILED: dict[int, tuple[ResponseKey, _Compiled]] = {}


def _compiled(key: ResponseKey) -> _Compiled:
    """Cached by identity (keys are immutable; the entry keeps the key alive so ids are not reused)."""
    hit = _COMPILED.get(id(key))
    if hit is not None and hit[0] is key:
        return hit[1]
    want = None if key.correct is None else [_scalar(v, key) for v in _values(key.correct, key)]
    mapping = {_mapping_key(raw, key): score for raw, score in key.mapping.items()}
    compiled = _Compiled(want, frozenset(want or ()), mapping)
    if len(_COMPILED) > 50_000:
        _COMPILED.clear()
    _COMPILED[id(key)] = (key, compiled)
    return compiled


def _matches(response: Any, key: ResponseKey) -> bool:
    want = _compiled(key).want
    if want is None:
        return False
    got = [_scalar(v, key) for v in _values(response, key)]
    if key.tolerance is not None:  # a single number within the tolerance (QTI equal), e.g. "within 1 %"
        return len(got) == 1 == len(want) and key.tolerance.holds(got[0], want[0])
    if key.cardinality == "multiple":
        return set(got) == _compiled(key).want_set and len(got) == len(set(got))
    return got == want


def _mapping_key(raw: str, key: ResponseKey) -> Any:
    base = key.base_type
    if base in ("pair", "directedPair"):
        parts = raw.split()
        if len(parts) != 2:
            raise ValidationError(f"mapping.{raw}", f"a {base} mapping key must be two identifiers")
        return _scalar(parts, key)
    if base in ("integer", "float"):
        try:
            return float(raw)
        except ValueError:
            raise ValidationError(f"mapping.{raw}", f"not a number for base type {base}") from None
    if base == "point":
        raise ValidationError("mapping", "point responses are mapped with area_mapping, not mapping")
    return _scalar(raw, key)


def _bounded(value: float, key: ResponseKey) -> float:
    if key.lower_bound is not None:
        value = max(value, key.lower_bound)
    if key.upper_bound is not None:
        value = min(value, key.upper_bound)
    return value


def _map_response(response: Any, key: ResponseKey) -> float:
    distinct = list(dict.fromkeys(_scalar(v, key) for v in _values(response, key)))
    if not distinct:
        return 0.0
    mapping = _compiled(key).mapping
    return _bounded(sum(mapping.get(v, key.default_value) for v in distinct), key)


# --- areas -------------------------------------------------------------------------------------

def point_in_area(x: float, y: float, area: AreaMapEntry) -> bool:
    """QTI shapes in image pixels: rect (left, top, right, bottom), circle (cx, cy, r),
    ellipse (cx, cy, hr, vr), poly (x1, y1, x2, y2, ...), default (the whole image). Edges count."""
    c = area.coords
    if area.shape == "default":
        return True
    if area.shape == "rect" and len(c) == 4:
        return min(c[0], c[2]) <= x <= max(c[0], c[2]) and min(c[1], c[3]) <= y <= max(c[1], c[3])
    if area.shape == "circle" and len(c) == 3:
        return math.hypot(x - c[0], y - c[1]) <= c[2]
    if area.shape == "ellipse" and len(c) == 4 and c[2] > 0 and c[3] > 0:
        return ((x - c[0]) / c[2]) ** 2 + ((y - c[1]) / c[3]) ** 2 <= 1
    if area.shape == "poly" and len(c) >= 6 and len(c) % 2 == 0:
        return _point_in_polygon(x, y, list(zip(c[0::2], c[1::2])))
    raise ValidationError("area_mapping.coords", f"{len(c)} coordinates do not describe a {area.shape}")


def _point_in_polygon(x: float, y: float, vertices: list[tuple[float, float]]) -> bool:
    """Even-odd ray casting; a point on an edge counts as inside."""
    inside = False
    n = len(vertices)
    for i in range(n):
        (x1, y1), (x2, y2) = vertices[i], vertices[(i + 1) % n]
        cross = (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1)
        if abs(cross) < 1e-9 and min(x1, x2) <= x <= max(x1, x2) and min(y1, y2) <= y <= max(y1, y2):
            return True
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def _map_response_point(response: Any, key: ResponseKey) -> float:
    points = _values(response, key)
    if not points:
        return 0.0
    hit = [False] * len(key.area_mapping)
    total = 0.0
    for x, y in points:
        in_any = False
        for index, area in enumerate(key.area_mapping):
            if point_in_area(float(x), float(y), area):
                in_any = True
                if not hit[index]:
                    hit[index] = True
                    total += area.value
        if not in_any:
            total += key.default_value
    return _bounded(total, key)


# --- entry points ------------------------------------------------------------------------------

def score_response(value: Any, key: ResponseKey, where: str = "value") -> float | None:
    """Score one response value under its key; None for the ``human`` template.

    The value is first checked against the key's declared cardinality and base type: a value of
    the wrong shape (a tampered or buggy kiosk) raises ValidationError instead of scoring 0.
    """
    if type(value) is str and key.cardinality == "single" and key.base_type == "identifier" \
            and key.template == "match_correct":
        # the common case (a choice), checked and scored without the generic dispatch
        if not IDENTIFIER_RE.match(value):
            raise ValidationError(where, f"must match {IDENTIFIER_RE.pattern}")
        return float(key.max_score) if [value] == _compiled(key).want else 0.0
    value = check_response_value(value, key.cardinality, key.base_type, where)
    if key.template == HUMAN:
        return None
    if key.template == "unscored":
        return 0.0
    if isinstance(value, list) and not value:
        return 0.0
    if key.template == "match_correct":
        return float(key.max_score) if _matches(value, key) else 0.0
    if key.template == "map_response":
        return _map_response(value, key)
    if key.template == "map_response_point":
        return _map_response_point(value, key)
    raise ValidationError("template", f"unknown scoring template {key.template!r}")


def final_responses(responses: Iterable[Response]) -> dict[tuple[str, str], Any]:
    """The last value of each (item, response) by journal sequence number: what was submitted."""
    latest: dict[tuple[str, str], Response] = {}
    for r in responses:
        slot = (r.item_id, r.response_id)
        if slot not in latest or r.seq > latest[slot].seq:
            latest[slot] = r
    return {slot: r.value for slot, r in latest.items()}


def score_attempt(
    keys: Sequence[AnswerKey], responses: Iterable[Response],
) -> AttemptScore:
    """Score every response slot of the form's items (unanswered slots score 0).

    ``keys`` are the answer keys of the form's item versions, in form order. Responses to items or
    response ids the form does not have are refused: they cannot come from an honest kiosk.
    """
    finals = final_responses(responses)
    known = {(k.item_id, rk.response_id) for k in keys for rk in k.responses}
    for slot in finals:
        if slot not in known:
            raise ValidationError(f"responses[{slot[0]}.{slot[1]}]", "is not a response of this form")
    result = AttemptScore()
    for key in keys:
        for rk in key.responses:
            value = finals.get((key.item_id, rk.response_id))
            score = score_response(value, rk, f"responses[{key.item_id}.{rk.response_id}]")
            result.responses.append(ResponseScore(key.item_id, rk.response_id, score, rk.max_score, rk.template))
    return result


def passed(total: float, cut_score: float) -> bool:
    """Pass when the total reaches the cut score (the cut score itself passes)."""
    return total >= cut_score - 1e-9

