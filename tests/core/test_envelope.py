import base64
import hashlib
import json
from datetime import timedelta

import pytest
from hypothesis import given, settings, strategies as st

from exam_core import certs, envelope, hpke, keys, limits, purposes, receipt, signing
from exam_core.errors import (ArtefactError, ExpiredError, MalformedError, RevokedError, TamperedError,
                              TooLargeError, UnknownVersionError, UntrustedError, ValidationError,
                              WrongKeyError, WrongPurposeError)
from exam_core.jsonio import b64e, canonical_dumps
from exam_core.timestamps import format_time, utc_now
from tests.support.pki import PAYLOAD, make_pki, seal

IDS = {"envelope_id": "env-1", "attempt_id": "att-1", "centre_id": "centre-1", "kiosk_id": "kiosk-7",
       "form_id": "F1", "package_id": "pkg-1"}

@pytest.fixture(scope="module")
def sealed(pki):
    return seal(pki)


def test_round_trip(pki, sealed):
    header, payload = envelope.open_envelope(sealed, pki.results, pki.central.public_key())
    assert payload == PAYLOAD
    ids = (header.envelope_id, header.attempt_id, header.kiosk_id, header.form_version)
    assert ids == ("env-1", "att-1", "kiosk-7", 2)
    assert header.signer_key_id == keys.key_id(pki.kiosk)
    outer = _outer(sealed)
    readable = sealed + base64.b64decode(outer["header"]) + base64.b64decode(outer["ciphertext"])
    assert b"responses" not in readable and b"item_id" not in readable


def test_console_verifies_header_without_opening(pki, sealed):
    by_root = envelope.read_envelope_header(sealed, root_public=pki.central.public_key())
    by_kiosk = envelope.read_envelope_header(sealed, kiosk_public=pki.kiosk.public_key())
    assert by_root == by_kiosk
    assert envelope.read_unverified_header(sealed).envelope_id == "env-1"
    with pytest.raises(WrongKeyError):
        envelope.read_envelope_header(sealed, kiosk_public=pki.centre.public_key())
    with pytest.raises(ValidationError):
        envelope.read_envelope_header(sealed)


def test_wrong_results_key(pki, sealed):
    other = keys.generate_hpke_key()
    with pytest.raises(WrongKeyError):
        envelope.open_envelope(sealed, other, pki.central.public_key())


def test_untrusted_root_and_mismatched_chain(pki, sealed):
    with pytest.raises(UntrustedError):
        envelope.open_envelope(sealed, pki.results, keys.generate_signing_key().public_key())
    lying = seal(pki, kiosk_id="kiosk-8")
    with pytest.raises(UntrustedError, match="header says"):
        envelope.read_envelope_header(lying, root_public=pki.central.public_key())


def test_revoked_kiosk(pki, sealed):
    serial = certs.read_unverified_certificate(pki.kiosk_cert).serial
    revocation = certs.issue_revocation_list(pki.centre, "centre-1", [serial], 1)
    with pytest.raises(RevokedError):
        envelope.open_envelope(sealed, pki.results, pki.central.public_key(), revocations=[revocation])


def test_expired_kiosk_certificate():
    now = utc_now().replace(microsecond=0)
    old = make_pki(now - timedelta(days=30), now - timedelta(days=1))
    late = seal(old, created=now)  # sealed after the certificate expired
    with pytest.raises(ExpiredError):
        envelope.open_envelope(late, old.results, old.central.public_key())
    on_time = seal(old, created=now - timedelta(days=2))  # sealed while valid, delivered later
    assert envelope.open_envelope(on_time, old.results, old.central.public_key())[1] == PAYLOAD
    with pytest.raises(ExpiredError):
        envelope.open_envelope(on_time, old.results, old.central.public_key(), at=now)


def _outer(data):
    return json.loads(data)


def _forge(pki, plaintext: bytes, *, signer=None, chain=None, v=envelope.VERSION, context_ids=None,
           ciphertext=None, **over):
    """An envelope built from the primitives, as a kiosk holding ``signer`` could build it.

    The HPKE context is spelled out here as docs/WIRE-FORMATS.md states it, so a drift between the
    code and the documented format fails the round trip below."""
    signer = signer or pki.kiosk
    ids = {**IDS, **over}
    bound = {**ids, **(context_ids or {})}
    context = purposes.context("invigil-envelope", "2", bound["envelope_id"], bound["attempt_id"], bound["centre_id"],
                               bound["kiosk_id"], bound["form_id"], bound["package_id"], "2", keys.key_id(signer))
    if ciphertext is None:
        ciphertext = hpke.seal(pki.results.public_key(), purposes.RESPONSE_ENVELOPE, plaintext, context)
    header = signing.make_signed(signer, purposes.ENVELOPE_HEADER, {
        "format": "invigil-envelope-header", "v": v, **ids, "form_version": 2, "created": format_time(utc_now()),
        "ciphertext_sha256": hashlib.sha256(ciphertext).hexdigest(), "ciphertext_size": len(ciphertext),
        "results_key_id": keys.key_id(pki.results)})
    return canonical_dumps({"format": "invigil-envelope", "v": envelope.VERSION, "header": b64e(header),
                            "chain": [b64e(c) for c in (chain or pki.chain)], "ciphertext": b64e(ciphertext)})


def _open(pki, data, **kw):
    return envelope.open_envelope(data, pki.results, pki.central.public_key(), **kw)


def test_the_documented_format_round_trips(pki):
    header, payload = _open(pki, _forge(pki, canonical_dumps(PAYLOAD)))
    assert payload == PAYLOAD and header.envelope_id == "env-1"
    assert _outer(seal(pki))["v"] == 2


@pytest.mark.parametrize("part", ["ciphertext", "header"])
def test_part_swapped_from_another_envelope(pki, part):
    """Another envelope's ciphertext under this header, or its header over this ciphertext."""
    a, b = seal(pki, envelope_id="env-a"), seal(pki, envelope_id="env-b")
    mixed = _outer(a)
    mixed[part] = _outer(b)[part]
    with pytest.raises(TamperedError, match="does not match its signed header"):
        _open(pki, canonical_dumps(mixed))
    with pytest.raises(TamperedError):  # the console sees it too, without the results key
        envelope.read_envelope_header(canonical_dumps(mixed), kiosk_public=pki.kiosk.public_key())


def test_ciphertext_resigned_under_other_ids_does_not_open(pki):
    """The kiosk signs a correct hash of a ciphertext sealed for other ids: the context refuses it."""
    plaintext = canonical_dumps(PAYLOAD)
    for field, value in [("envelope_id", "env-2"), ("attempt_id", "att-2"), ("package_id", "pkg-2"),
                         ("form_id", "F2")]:
        with pytest.raises(TamperedError, match="fails authentication"):
            _open(pki, _forge(pki, plaintext, context_ids={field: value}))


def test_another_kiosk_cannot_claim_a_captured_ciphertext(pki):
    """Encrypt-then-sign's gap: a second certified kiosk re-signs kiosk-7's ciphertext as its own."""
    victim = _outer(seal(pki))
    captured = base64.b64decode(victim["ciphertext"])
    thief = keys.generate_signing_key()
    thief_chain = [pki.centre_cert, certs.issue_certificate(pki.centre, "centre-1", "kiosk-8", "kiosk",
                                                            thief.public_key())]
    claimed = _forge(pki, b"", signer=thief, chain=thief_chain, kiosk_id="kiosk-8", ciphertext=captured)
    assert envelope.read_envelope_header(claimed, root_public=pki.central.public_key()).kiosk_id == "kiosk-8"
    with pytest.raises(TamperedError, match="fails authentication"):
        _open(pki, claimed)
    # even a new key certified for the same kiosk id (a re-paired kiosk) cannot re-sign it
    new_key = keys.generate_signing_key()
    repaired = [pki.centre_cert, certs.issue_certificate(pki.centre, "centre-1", "kiosk-7", "kiosk",
                                                         new_key.public_key())]
    with pytest.raises(TamperedError, match="fails authentication"):
        _open(pki, _forge(pki, b"", signer=new_key, chain=repaired, ciphertext=captured))


def test_old_and_unknown_versions_refused(pki):
    for v in (1, 3, "2"):
        outer = _outer(seal(pki))
        outer["v"] = v
        with pytest.raises(UnknownVersionError):
            _open(pki, canonical_dumps(outer))
        with pytest.raises(UnknownVersionError):
            envelope.read_unverified_header(canonical_dumps(outer))
    with pytest.raises(UnknownVersionError, match="header version"):  # a v1 header inside a v2 envelope
        _open(pki, _forge(pki, canonical_dumps(PAYLOAD), v=1))


def test_payload_must_be_a_json_object(pki):
    with pytest.raises(MalformedError, match="payload"):
        _open(pki, _forge(pki, b"[1, 2]"))
    with pytest.raises(MalformedError):
        _open(pki, _forge(pki, b'{"a": 1, "a": 2}'))  # duplicate keys: strict parsing after decryption
    with pytest.raises(ValidationError):
        seal(pki, payload=[1, 2])
    with pytest.raises(ValidationError):
        seal(pki, payload={"x": float("nan")})


def test_oversize_payload(pki, monkeypatch):
    sealed = seal(pki)
    monkeypatch.setattr(limits, "ENVELOPE_PAYLOAD_MAX_BYTES", 64)
    with pytest.raises(TooLargeError):
        seal(pki)
    with pytest.raises(TooLargeError):  # the opener applies the limit to what the kiosk sealed
        _open(pki, sealed)
    monkeypatch.setattr(limits, "ENVELOPE_MAX_BYTES", len(sealed) - 1)
    with pytest.raises(TooLargeError):
        envelope.read_unverified_header(sealed)


def test_non_canonical_outer_bytes_are_refused(pki, sealed):
    spaced = json.dumps(_outer(sealed), sort_keys=True).encode()
    assert spaced != sealed
    with pytest.raises(MalformedError, match="canonical"):
        _open(pki, spaced)


def test_header_signed_by_another_kiosk(pki):
    other = make_pki()
    forged = _outer(seal(pki))
    forged["header"] = _outer(seal(other))["header"]
    with pytest.raises(ArtefactError):
        envelope.open_envelope(canonical_dumps(forged), pki.results, pki.central.public_key())


def test_limits(pki):
    with pytest.raises(TooLargeError):
        envelope.read_unverified_header(b" " * (limits.ENVELOPE_MAX_BYTES + 1))
    with pytest.raises(ValidationError):
        seal(pki, attempt_id="../../etc")
    with pytest.raises(MalformedError):
        envelope.read_unverified_header(b'{"format":"invigil-envelope","v":2}')


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_any_flipped_byte_rejected(pki, sealed, data):
    pos = data.draw(st.integers(0, len(sealed) - 1))
    bad = bytearray(sealed)
    bad[pos] ^= 1 << data.draw(st.integers(0, 7))
    with pytest.raises(ArtefactError):
        envelope.open_envelope(bytes(bad), pki.results, pki.central.public_key())


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_flipped_byte_in_the_ciphertext_is_tampering(pki, sealed, data):
    """Inside the base64 ciphertext a flip is a TamperedError for the console, before opening."""
    outer = _outer(sealed)
    raw = bytearray(base64.b64decode(outer["ciphertext"]))
    pos = data.draw(st.integers(0, len(raw) - 1))
    raw[pos] ^= 1 << data.draw(st.integers(0, 7))
    outer["ciphertext"] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(TamperedError):
        envelope.read_envelope_header(canonical_dumps(outer), kiosk_public=pki.kiosk.public_key())


# ----- receipts ----------------------------------------------------------------------------------

def test_receipt_round_trip_and_mismatch(pki, sealed):
    signed = receipt.issue_receipt(pki.central, sealed, "central")
    got = receipt.verify_receipt(signed, sealed, pki.central.public_key())
    assert got.envelope_sha256 == envelope.envelope_hash(sealed) and got.envelope_id == "env-1"
    with pytest.raises(TamperedError):
        receipt.verify_receipt(signed, seal(pki, envelope_id="env-2"), pki.central.public_key())
    with pytest.raises(WrongKeyError):
        receipt.verify_receipt(signed, sealed, pki.centre.public_key())
    not_a_receipt = certs.issue_revocation_list(pki.central, "central", [], 1)
    with pytest.raises(WrongPurposeError):
        receipt.verify_receipt(not_a_receipt, sealed, pki.central.public_key())


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_receipt_any_flipped_byte_rejected(pki, sealed, data):
    signed = receipt.issue_receipt(pki.central, sealed, "central")
    pos = data.draw(st.integers(0, len(signed) - 1))
    bad = bytearray(signed)
    bad[pos] ^= 1 << data.draw(st.integers(0, 7))
    with pytest.raises(ArtefactError):
        receipt.verify_receipt(bytes(bad), sealed, pki.central.public_key())


def test_envelope_bytes_are_canonical_json(sealed):
    assert sealed == canonical_dumps(json.loads(sealed))


def test_canonical_reader_agrees_with_the_json_parser(pki):
    for payload, chain in [(PAYLOAD, pki.chain), ({}, pki.chain), ({"s": "\u00e9\"\\"}, [pki.kiosk_cert])]:
        data = seal(pki, payload=payload, chain=chain)
        outer = json.loads(data)
        parts = envelope._split(data)
        assert parts.header_doc == base64.b64decode(outer["header"])
        assert parts.ciphertext == base64.b64decode(outer["ciphertext"])
        assert parts.chain == [base64.b64decode(c) for c in outer["chain"]]


def test_chain_shape_errors_are_precise(pki, sealed):
    for chain, error in [([], MalformedError), ([b64e(pki.kiosk_cert)] * 5, TooLargeError), (["&"], MalformedError)]:
        outer = _outer(sealed)
        outer["chain"] = chain
        with pytest.raises(error):
            envelope.read_unverified_header(canonical_dumps(outer))


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                     | st.text(),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                     max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(payload=st.dictionaries(st.text(), _JSON, max_size=5))
def test_payload_bytes_are_jsonio_canonical(payload):
    """The envelope's reused encoder writes exactly ``canonical_dumps``'s bytes."""
    assert envelope._encode_payload(payload) == canonical_dumps(payload)


def test_cyclic_payload_refused(pki):
    cyclic: dict = {}
    cyclic["self"] = cyclic
    with pytest.raises(ValidationError, match="payload"):
        seal(pki, payload=cyclic)
