import pytest
from hypothesis import given, settings, strategies as st

from exam_core import hpke, keys
from exam_core.errors import (ArtefactError, MalformedError, TamperedError, UnknownVersionError,
                              WrongKeyError, WrongPurposeError)


@pytest.mark.parametrize("fixture", ["hpke_key", "x25519_key"])
def test_round_trip_both_suites(request, fixture):
    key = request.getfixturevalue(fixture)
    sealed = hpke.seal(key.public_key(), "response-envelope", b"secret", b"ctx")
    assert b"secret" not in sealed
    assert hpke.open_sealed(key, "response-envelope", sealed, b"ctx") == b"secret"
    assert hpke.sealed_recipient_hint(sealed) == (key.suite, keys.key_id(key)[:16])


def test_errors_are_distinct(hpke_key, other_hpke_key, x25519_key):
    sealed = hpke.seal(hpke_key.public_key(), "form-content-key", b"k" * 32, b"pkg-1")
    with pytest.raises(WrongKeyError):
        hpke.open_sealed(other_hpke_key, "form-content-key", sealed, b"pkg-1")
    with pytest.raises(WrongKeyError):
        hpke.open_sealed(x25519_key, "form-content-key", sealed, b"pkg-1")
    with pytest.raises(WrongPurposeError):
        hpke.open_sealed(hpke_key, "content-key-release", sealed, b"pkg-1")
    with pytest.raises(TamperedError):
        hpke.open_sealed(hpke_key, "form-content-key", sealed, b"pkg-2")
    with pytest.raises(UnknownVersionError):
        hpke.open_sealed(hpke_key, "form-content-key", b"\x09" + sealed[1:], b"pkg-1")
    with pytest.raises(MalformedError):
        hpke.open_sealed(hpke_key, "form-content-key", sealed[:40], b"pkg-1")


def test_each_seal_is_fresh(x25519_key):
    a = hpke.seal(x25519_key.public_key(), "receipt", b"same")
    b = hpke.seal(x25519_key.public_key(), "receipt", b"same")
    assert a != b


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_any_flipped_byte_rejected(hpke_key, data):
    sealed = hpke.seal(hpke_key.public_key(), "response-envelope", b"answers" * 10, b"ctx")
    pos = data.draw(st.integers(0, len(sealed) - 1))
    bad = bytearray(sealed)
    bad[pos] ^= 1 << data.draw(st.integers(0, 7))
    with pytest.raises(ArtefactError) as info:
        hpke.open_sealed(hpke_key, "response-envelope", bytes(bad), b"ctx")
    if pos >= hpke.HEADER_LEN:
        assert isinstance(info.value, TamperedError)
