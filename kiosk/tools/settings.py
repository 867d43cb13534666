"""What the candidate's page may set: display settings, tools, and per-question annotations.

Why one module decides it: the page is the least trusted part of the kiosk, and every setting it
posts is journaled and sealed into the result. So each name and value is checked here against
what is actually allowed for this attempt, before it reaches the journal:

* **Display** (everyone, no accommodation needed): text size 100, 125 or 150 %, high contrast on or
  off. The roster goes beyond: ``large_text`` adds 175 and 200 %, ``zoom_percent`` a page zoom.
* **Tools** (a setting of the form's scheme, :class:`exam_core.model.CandidateTools`): calculator,
  scratch pad, highlighter, strike-through, line reader; text-to-speech only where the scheme
  permits it *and* the roster grants it. Opening a tool is recorded like an accommodation.
* **Annotations** (journaled, so they survive navigation and a restart): highlighted ranges of a
  question's text, struck-out options of a question, and the scratch pad's text. Notes to self:
  never scored, never part of a response.
"""

from __future__ import annotations

from typing import Any

from exam_core.errors import ValidationError
from exam_core.model import IDENTIFIER_RE, Accommodations, CandidateTools, Item

SELF_SERVICE_TEXT_SIZES = (100, 125, 150)
GRANTED_TEXT_SIZES = (175, 200)
TOOL_SWITCHES = ("calculator", "scratch_pad", "highlighter", "line_reader", "text_to_speech")
ANNOTATION_KINDS = ("highlight", "strike", "scratch")
MAX_HIGHLIGHTS = 200            # ranges per question
MAX_TEXT_OFFSET = 1_000_000     # a question's text is at most MAX_TEXT characters
SCRATCH_MAX_CHARS = 20_000


def text_sizes(granted: Accommodations) -> tuple[int, ...]:
    """Text sizes this candidate may choose, in percent."""
    return SELF_SERVICE_TEXT_SIZES + (GRANTED_TEXT_SIZES if granted.large_text else ())


def enabled_tools(tools: CandidateTools, granted: Accommodations) -> dict[str, Any]:
    """The tools this candidate has, as the page shows them."""
    return {"calculator": tools.calculator, "scratch_pad": tools.scratch_pad,
            "highlighter": tools.highlighter, "strike_through": tools.strike_through,
            "line_reader": tools.line_reader,
            "text_to_speech": tools.text_to_speech and granted.text_to_speech}


def check_setting(name: str, value: Any, granted: Accommodations, tools: CandidateTools) -> Any:
    """The value to journal for a display setting or tool switch; ValidationError if not allowed."""
    if name == "text_size":
        if isinstance(value, bool) or value not in text_sizes(granted):
            raise ValidationError("value", f"must be one of {', '.join(map(str, text_sizes(granted)))}")
        return value
    if name == "high_contrast" or (name == "large_text" and granted.large_text):
        return _bool(value)
    if name == "zoom" and granted.zoom_percent != 100:
        if isinstance(value, bool) or value not in (100, granted.zoom_percent):
            raise ValidationError("value", f"must be 100 or {granted.zoom_percent}")
        return value
    if name in TOOL_SWITCHES:
        allowed = enabled_tools(tools, granted)[name]
        if allowed in (False, "none"):
            raise ValidationError("name", f"the tool {name!r} is not available in this examination")
        return _bool(value)
    raise ValidationError("name", f"{name!r} is not a setting this candidate may change")


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationError("value", "must be true or false")
    return value


def annotation_tool(kind: str) -> str:
    """The tool an annotation kind belongs to (recorded as used with it)."""
    return {"highlight": "highlighter", "strike": "strike_through", "scratch": "scratch_pad"}[kind]


def check_annotation(kind: str, item: Item | None, value: Any, tools: CandidateTools) -> Any:
    """The annotation to journal, normalised; ValidationError naming the field if not allowed.

    ``highlight``: ``[[start, end], ...]`` character offsets into the question's text (sorted,
    merged); ``strike``: option ids of the question's choice interactions; ``scratch``: text.
    """
    if kind not in ANNOTATION_KINDS:
        raise ValidationError("kind", f"must be one of {', '.join(ANNOTATION_KINDS)}")
    if not getattr(tools, annotation_tool(kind)):
        raise ValidationError("kind", f"the tool for {kind!r} is not available in this examination")
    if kind == "scratch":
        if not isinstance(value, str) or len(value) > SCRATCH_MAX_CHARS:
            raise ValidationError("value", f"must be text of at most {SCRATCH_MAX_CHARS} characters")
        return value
    if item is None:
        raise ValidationError("item_id", "is required")
    return _ranges(value) if kind == "highlight" else _struck(item, value)


def _ranges(value: Any) -> list[list[int]]:
    if not isinstance(value, list) or len(value) > MAX_HIGHLIGHTS:
        raise ValidationError("value", f"must be a list of at most {MAX_HIGHLIGHTS} [start, end] ranges")
    ranges = []
    for n, pair in enumerate(value):
        if (not isinstance(pair, list) or len(pair) != 2
                or any(isinstance(v, bool) or not isinstance(v, int) for v in pair)
                or not 0 <= pair[0] < pair[1] <= MAX_TEXT_OFFSET):
            raise ValidationError(f"value[{n}]", "must be [start, end] with 0 <= start < end")
        ranges.append(list(pair))
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def _struck(item: Item, value: Any) -> list[str]:
    options = {c.id for i in item.interactions if i.type == "choice" for c in i.choices}
    if not isinstance(value, list) or len(value) > len(options):
        raise ValidationError("value", "must be a list of this question's option ids")
    for n, ident in enumerate(value):
        if not isinstance(ident, str) or not IDENTIFIER_RE.match(ident) or ident not in options:
            raise ValidationError(f"value[{n}]", "is not an option of this question")
    return sorted(set(value))
