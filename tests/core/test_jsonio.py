import time

import pytest

from exam_core import jsonio
from exam_core.errors import MalformedError, TooLargeError, ValidationError


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
        jsonio.loads_strict("text")  # not bytes


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


from hypothesis import given, settings, strategies as st

from exam_core.errors import ArtefactError


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(alphabet='[]{}":,0123456789.eE+-truefalsn\\u ', max_size=200).map(str.encode))
def test_arbitrary_input_raises_only_artefact_errors(data):
    try:
        jsonio.loads_strict(data)
    except ArtefactError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_base64_round_trip_and_canonical(raw):
    text = jsonio.b64e(raw)
    assert jsonio.b64d(text) == raw
