import contextlib
import json
import time

import pytest
from hypothesis import given, settings, strategies as st

from exam_core import jsonio, limits
from exam_core.errors import ArtefactError, MalformedError, TooLargeError, ValidationError


def test_round_trip_canonical():
    obj = {"b": [1, 2, {"z": "é", "a": None}], "a": True}
    data = jsonio.canonical_dumps(obj)
    assert data == '{"a":true,"b":[1,2,{"a":null,"z":"é"}]}'.encode()
    assert jsonio.loads_strict(data) == obj


@pytest.mark.parametrize("text", [b'{"a":1,"a":2}', b'{"x":{"k":1,"k":1}}'])
def test_duplicate_keys_rejected(text):
    with pytest.raises(MalformedError, match="duplicate key"):
        jsonio.loads_strict(text)


@pytest.mark.parametrize("text", [b"NaN", b"[Infinity]", b'{"a":-Infinity}', b"1e400", b"[-1E999]"])
def test_non_finite_rejected(text):
    with pytest.raises(MalformedError):
        jsonio.loads_strict(text)


def test_invalid_utf8_and_syntax():
    with pytest.raises(MalformedError, match="UTF-8"):
        jsonio.loads_strict(b'"\xff"')
    with pytest.raises(MalformedError, match="invalid JSON"):
        jsonio.loads_strict(b'{"a":')
    with pytest.raises(MalformedError, match="surrogate"):
        jsonio.loads_strict(b'["\\ud800"]')
    with pytest.raises(MalformedError):
        jsonio.loads_strict("text")  # type: ignore[arg-type]  # not bytes: the refusal is under test


def test_too_large_rejected_before_parsing():
    with pytest.raises(TooLargeError):
        jsonio.loads_strict(b" " * 101, max_bytes=100)


@pytest.mark.parametrize("depth", [33, 900, 200_000])
def test_deep_nesting_rejected_fast(depth):
    data = b"[" * depth + b"]" * depth
    start = time.perf_counter()
    with pytest.raises(TooLargeError, match="nested"):
        jsonio.loads_strict(data, max_bytes=10**7)
    assert time.perf_counter() - start < 1.0


def test_depth_limit_exact():
    ok = b"[" * 32 + b"]" * 32
    assert jsonio.loads_strict(ok) is not None
    nested = b'{"a":' * 33 + b"1" + b"}" * 33
    with pytest.raises(TooLargeError):
        jsonio.loads_strict(nested)


def test_canonical_refuses_nan_and_objects():
    with pytest.raises(ValidationError):
        jsonio.canonical_dumps({"x": float("nan")})
    with pytest.raises(ValidationError):
        jsonio.canonical_dumps({"x": object()})


def test_base64_strict():
    assert jsonio.b64d(jsonio.b64e(b"\x00\xffab")) == b"\x00\xffab"
    for bad in ["YQ", "YQ==\n", "Y Q==", "YR==", "-_8=", 5]:
        with pytest.raises(MalformedError):
            jsonio.b64d(bad, "f")
    with pytest.raises(TooLargeError):
        jsonio.b64d(jsonio.b64e(b"x" * 100), "f", max_bytes=10)



@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(alphabet='[]{}":,0123456789.eE+-truefalsn\\u ', max_size=200).map(str.encode))
def test_arbitrary_input_raises_only_artefact_errors(data):
    with contextlib.suppress(ArtefactError):
        jsonio.loads_strict(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_base64_round_trip_and_canonical(raw):
    text = jsonio.b64e(raw)
    assert jsonio.b64d(text) == raw


# ----- the textual depth check accepts and refuses exactly what walking the parsed value did ------

def _depth_of(value) -> int:
    """Nesting depth by walking the parsed value: the check loads_strict made before (reference)."""
    if isinstance(value, dict):
        return 1 + max((_depth_of(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth_of(v) for v in value), default=0)
    return 0


def _reference_loads_strict(data: bytes, max_depth: int):
    """The previous loads_strict (parse, then walk the value for depth), for comparison."""
    if len(data) > limits.JSON_MAX_BYTES:
        raise TooLargeError("size")
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedError("utf-8") from None
    try:
        value = json.loads(text, object_pairs_hook=jsonio._no_duplicates, parse_constant=jsonio._no_constant,
                           parse_float=jsonio._finite_float)
    except RecursionError:
        raise TooLargeError("depth") from None
    except ValueError:
        raise MalformedError("syntax") from None
    if _depth_of(value) > max_depth:
        raise TooLargeError("depth")
    jsonio._check_strings(value)
    return value


def _members_of(value) -> int:
    if isinstance(value, dict):
        return len(value) + sum(_members_of(v) for v in value.values())
    if isinstance(value, list):
        return sum(_members_of(v) for v in value)
    return 0


def _text_deeper_than(text: bytes, max_depth: int) -> bool:
    return jsonio._nested_deeper_than(jsonio._structure(text).replace(b":", b""), max_depth)


def _outcome(parse, data: bytes, max_depth: int):
    try:
        return "ok", parse(data, max_depth=max_depth)
    except (TooLargeError, MalformedError) as exc:
        return type(exc).__name__, None


# Strings full of the characters the text check has to see past: brackets, quotes, backslashes.
_tricky_text = st.text(alphabet=st.sampled_from(list('[]{}"\\/ a\u00e9\u2028\U0001f600\n')), max_size=8)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-10**30, max_value=10**30) | _tricky_text
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_tricky_text, inner, max_size=4),
    max_leaves=60,
)


@settings(max_examples=400, deadline=None)
@given(_json_values, st.booleans(), st.sampled_from([None, 0, 2]), st.data())
def test_textual_depth_matches_walking_the_value(value, ascii_only, indent, data):
    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent).encode()
    depth = _depth_of(value)
    max_depth = data.draw(st.integers(min_value=0, max_value=depth + 1), label="max_depth")
    assert _text_deeper_than(text, max_depth) == (depth > max_depth)
    assert jsonio._structure(text).count(b":") == _members_of(value)
    assert _outcome(jsonio.loads_strict, text, max_depth) == _outcome(_reference_loads_strict, text, max_depth)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet='[]{}":,01e.-\\u ntrlsaf', max_size=120).map(str.encode), st.integers(0, 6))
def test_loads_strict_agrees_with_reference_on_arbitrary_text(data, max_depth):
    assert _outcome(jsonio.loads_strict, data, max_depth) == _outcome(_reference_loads_strict, data, max_depth)


@pytest.mark.parametrize("text, depth", [
    (b'["[[[[", "]]]]"]', 1),                 # brackets inside strings do not nest
    (b'[{"a\\"[[": ["\\\\", [["]"]]]}]', 5),   # escaped quote and escaped backslash before a quote
    (b'["\\u005b\\u005b", [[]]]', 3),          # escaped brackets are string content
    (b'[[[["\\\\\\"]"]]]]', 4),                # \\ then \" inside one string
])
def test_textual_depth_examples(text, depth):
    assert _depth_of(json.loads(text)) == depth
    assert not _text_deeper_than(text, depth)
    assert _text_deeper_than(text, depth - 1)


def _object_text(members: list, ascii_only: bool) -> str:
    return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=ascii_only)}: {v}" for k, v in members) + "}"


# Objects written member by member, so keys can repeat (json.dumps of a dict never repeats one).
_keys = st.sampled_from(["a", "b", "a:", ":", '"', "\\", "\\\"", "[", "}", "\u00e9"])
_member_lists = st.recursive(
    st.sampled_from(["1", '"x:y"', "[]", "{}", '"[:"', "null"]),
    lambda inner: st.builds(_object_text, st.lists(st.tuples(_keys, inner), max_size=4), st.booleans())
    | st.lists(inner, max_size=3).map(lambda items: "[" + ",".join(items) + "]"),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(_member_lists, st.integers(0, 8))
def test_duplicate_keys_refused_exactly_as_before(text, max_depth):
    data = text.encode()
    expected = _outcome(_reference_loads_strict, data, max_depth)
    assert _outcome(jsonio.loads_strict, data, max_depth) == expected


@pytest.mark.parametrize("text", [rb'{"a:":1,"a:":2}', rb'{"x":"a:b","y":{":":1,":":2}}', rb'[{"\\":1,"\\":1}]',
                                  rb'{"\u0061":1,"a":2}', rb'{"k\"":{"z":[{"q":1}]},"k\"":0}'])
def test_duplicate_keys_behind_escapes_and_colons_refused(text):
    with pytest.raises(MalformedError, match="duplicate key"):
        jsonio.loads_strict(text)
