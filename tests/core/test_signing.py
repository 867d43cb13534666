import pytest
from hypothesis import given, settings, strategies as st

from exam_core import keys, signing
from exam_core.errors import (ArtefactError, MalformedError, TamperedError, UnknownVersionError,
                              UntrustedError, ValidationError, WrongKeyError, WrongPurposeError)
from exam_core.jsonio import b64e, canonical_dumps, loads_strict


def test_sign_verify_exact_bytes(signing_key):
    sig = signing.sign(signing_key, "receipt", b"payload")
    signing.verify(signing_key.public_key(), "receipt", b"payload", sig)
    with pytest.raises(TamperedError):
        signing.verify(signing_key.public_key(), "receipt", b"payload ", sig)
    with pytest.raises(TamperedError):
        signing.verify(signing_key.public_key(), "certificate", b"payload", sig)


def test_purpose_framing_cannot_be_shifted(signing_key):
    # "a" + NUL + "b\x00x" must not equal "a\x00b" + NUL + "x": purposes cannot hold NUL.
    with pytest.raises(ValidationError):
        signing.sign(signing_key, "receipt\x00x", b"")
    with pytest.raises(ValidationError):
        signing.sign(signing_key, "Receipt", b"")


def test_signed_document_round_trip(signing_key):
    doc = signing.make_signed(signing_key, "receipt", {"n": 1, "s": "é"})
    opened = signing.open_signed(doc, signing_key.public_key(), "receipt")
    assert opened.payload == {"n": 1, "s": "é"}
    assert opened.payload_bytes == canonical_dumps({"n": 1, "s": "é"})
    _payload_bytes, payload, signer = opened
    assert payload["n"] == 1 and signer == keys.key_id(signing_key)


def test_wrong_purpose_key_and_resolver(signing_key, other_signing_key):
    doc = signing.make_signed(signing_key, "receipt", {"n": 1})
    with pytest.raises(WrongPurposeError):
        signing.open_signed(doc, signing_key.public_key(), "certificate")
    with pytest.raises(WrongKeyError):
        signing.open_signed(doc, other_signing_key.public_key(), "receipt")
    known = {keys.key_id(signing_key): signing_key.public_key()}

    def resolver(kid):
        if kid not in known:
            raise UntrustedError(f"unknown signer {kid}")
        return known[kid]

    assert signing.open_signed(doc, resolver, "receipt").payload == {"n": 1}
    other = signing.make_signed(other_signing_key, "receipt", {"n": 1})
    with pytest.raises(UntrustedError):
        signing.open_signed(other, resolver, "receipt")
    with pytest.raises(WrongKeyError):  # resolver returning a key that is not the signer's
        signing.open_signed(other, lambda kid: signing_key.public_key(), "receipt")


def test_forged_payload_with_copied_signature(signing_key):
    doc = loads_strict(signing.make_signed(signing_key, "receipt", {"n": 1}))
    doc["payload"] = b64e(b'{"n":2}')
    with pytest.raises(TamperedError):
        signing.open_signed(canonical_dumps(doc), signing_key.public_key(), "receipt")


def test_unknown_version_and_extra_fields(signing_key):
    doc = loads_strict(signing.make_signed(signing_key, "receipt", {"n": 1}))
    with pytest.raises(UnknownVersionError):
        signing.open_signed(canonical_dumps({**doc, "v": 2}), signing_key.public_key(), "receipt")
    with pytest.raises(MalformedError):
        signing.open_signed(canonical_dumps({**doc, "extra": 1}), signing_key.public_key(), "receipt")
    with pytest.raises(MalformedError):
        signing.open_signed(canonical_dumps({**doc, "format": "x"}), signing_key.public_key(), "receipt")


def test_payload_must_be_object(signing_key):
    doc = signing.make_signed(signing_key, "receipt", b"[1]")
    with pytest.raises(MalformedError):
        signing.open_signed(doc, signing_key.public_key(), "receipt")


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_flipped_byte_rejected(signing_key, data):
    doc = signing.make_signed(signing_key, "receipt", {"envelope": "abc", "n": 12345})
    pos = data.draw(st.integers(0, len(doc) - 1))
    bit = data.draw(st.integers(0, 7))
    bad = bytearray(doc)
    bad[pos] ^= 1 << bit
    with pytest.raises(ArtefactError):
        signing.open_signed(bytes(bad), signing_key.public_key(), "receipt")


@settings(max_examples=50, deadline=None)
@given(payload=st.binary(max_size=300), purpose=st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True))
def test_signed_document_bytes_equal_canonical_json(signing_key, payload, purpose):
    """The directly assembled document is exactly canonical_dumps of the same fields."""
    doc = signing.make_signed(signing_key, purpose, payload)
    fields = loads_strict(doc)
    assert doc == canonical_dumps(fields)
    assert signing.read_unverified(doc).payload_bytes == payload
