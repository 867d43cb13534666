"""Strict JSON in, canonical JSON out, strict base64: the parsing boundary of every artefact.

``json.loads`` alone accepts duplicate keys (last wins, so two parsers can disagree about a
signed document), ``NaN`` and ``Infinity``, unbounded nesting and lone surrogates. Everything
received from another node goes through ``loads_strict`` instead.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from typing import Any

from exam_core import limits
from exam_core.errors import MalformedError, TooLargeError, ValidationError

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise MalformedError(f"duplicate key {key!r}")
            seen.add(key)
    return result


def _no_constant(name: str) -> Any:
    raise MalformedError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # e.g. 1e400: valid JSON syntax, but no finite number
        raise MalformedError(f"number {text[:20]} is out of range")
    return value


# Duplicate keys and nesting are judged from the text's structure, not by Python code per object:
# an ``object_pairs_hook`` doubled the parse time of a response payload and walking the parsed
# containers for depth took another third. Only colons and brackets outside strings are structure,
# and bytes.translate/replace/split find them at C speed.
_FOLD_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_STRUCTURE = bytes(c for c in range(256) if c not in b'"[]{}:')


def _structure(raw: bytes) -> bytes:
    """The colons and brackets (``{}`` folded to ``[]``) of *valid* JSON text outside its strings.

    Escapes go first (``\\\\`` pairs, then ``\\"``, left to right as JSON reads them), so every
    quote left delimits a string; after keeping only quotes, colons and brackets, the pieces between
    quotes alternate outside/inside. Dropping adjacent ``""`` first only shortens the split: either
    an empty string or two strings with nothing kept between them, so the alternation holds.
    """
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    marks = raw.translate(_FOLD_BRACKETS, _NOT_STRUCTURE).replace(b'""', b"")
    if b'"' in marks:
        marks = b"".join(marks.split(b'"')[0::2])
    return marks


def _nested_deeper_than(brackets: bytes, max_depth: int) -> bool:
    """Whether a balanced ``[]`` skeleton nests deeper than ``max_depth``.

    Each pass removes every innermost (empty) pair, i.e. one level, so the skeleton of depth d is
    empty after d passes and not before: at most ``max_depth`` C-speed passes.
    """
    for _ in range(max_depth):
        if not brackets:
            return False
        brackets = brackets.replace(b"[]", b"")
    return bool(brackets)


def _check_strings(value: Any) -> None:
    """Refuse lone surrogates (run only when the text holds a surrogate escape)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in node:
                _check_string(key)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            _check_string(node)


def _check_string(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedError("JSON string holds a lone surrogate") from None


def _parse(text: str, max_depth: int, **hook: Any) -> Any:
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float, **hook)
    except RecursionError:
        raise TooLargeError(f"JSON nested deeper than {max_depth}") from None
    except json.JSONDecodeError as exc:
        raise MalformedError(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except ValueError as exc:  # e.g. integer with too many digits
        raise MalformedError(f"invalid JSON: {exc}") from None


def loads_strict(data: bytes | bytearray | memoryview, max_bytes: int = limits.JSON_MAX_BYTES,
                 max_depth: int = limits.JSON_MAX_DEPTH) -> Any:
    """Parse UTF-8 JSON bytes, refusing anything two parsers might read differently.

    Raises ``TooLargeError`` (size, depth) or ``MalformedError`` (invalid UTF-8, syntax,
    duplicate keys, NaN/Infinity, lone surrogates). The size check runs before decoding and the
    C parser's own recursion guard bounds the work on hostile nesting, so rejection is fast.
    Duplicate keys and depth are judged after the parse from the text's structure (see
    ``_structure``); the parser reports every object's distinct key count through a cheap
    ``object_hook``.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise MalformedError(f"expected bytes, got {type(data).__name__}")
    if len(data) > max_bytes:
        raise TooLargeError(f"JSON document of {len(data)} bytes exceeds {max_bytes}")
    raw = bytes(data)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedError(f"invalid UTF-8 at byte {exc.start}") from None
    sizes: list[int] = []

    def count_members(obj: dict[str, Any]) -> dict[str, Any]:
        sizes.append(len(obj))
        return obj

    value = _parse(text, max_depth, object_hook=count_members)
    if sizes or raw.count(b"[") + raw.count(b"{") > max_depth:
        structure = _structure(raw)
        # In valid JSON each object member has exactly one colon outside strings, and the parser
        # keeps one entry per distinct key: fewer entries than colons means a repeated key.
        if structure.count(b":") != sum(sizes):
            _parse(text, max_depth, object_pairs_hook=_no_duplicates)  # raises, naming the key
            raise MalformedError("duplicate key")
        if _nested_deeper_than(structure.replace(b":", b""), max_depth):
            raise TooLargeError(f"JSON nested deeper than {max_depth}")
    if _SURROGATE_ESCAPE.search(raw):
        _check_strings(value)
    return value


#: One reused encoder: ``json.dumps`` would build one per call, and its cycle check's bookkeeping
#: is not needed (a cyclic object still fails: the C encoder's recursion guard raises).
_CANONICAL_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                                      allow_nan=False, check_circular=False)


def canonical_dumps(obj: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8, no NaN: the one byte form we sign and hash."""
    try:
        return _CANONICAL_ENCODER.encode(obj).encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError, RecursionError) as exc:
        raise ValidationError("json", f"cannot encode canonically: {exc}") from None


def b64e(data: bytes | bytearray | memoryview) -> str:
    """Standard base64 with padding, as text."""
    return base64.b64encode(bytes(data)).decode("ascii")


def b64d(text: Any, field: str = "base64", max_bytes: int | None = None) -> bytes:
    """Decode standard padded base64, refusing every non-canonical spelling.

    Whitespace, URL-safe characters, missing padding and non-zero trailing bits are all refused,
    so each byte string has exactly one accepted encoding (no malleability of signed fields).
    """
    if not isinstance(text, str):
        raise MalformedError(f"expected base64 text, got {type(text).__name__}", field)
    if max_bytes is not None and len(text) > 4 * ((max_bytes + 2) // 3):
        raise TooLargeError(f"more than {max_bytes} bytes", field)
    try:
        raw = binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise MalformedError("invalid base64", field) from None
    # Strict mode refuses bad characters, bad padding and data after it; what is left to refuse
    # is non-zero unused bits in the last quantum, checked by re-encoding just that quantum.
    tail = len(raw) % 3 or 3
    if len(text) != 4 * ((len(raw) + 2) // 3) or (raw and base64.b64encode(raw[-tail:]).decode("ascii") != text[-4:]):
        raise MalformedError("non-canonical base64", field)
    return raw
