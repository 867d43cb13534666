import base64
import json
from datetime import timedelta

import pytest
from hypothesis import given, settings, strategies as st

from exam_core import certs, envelope, keys, receipt
from exam_core.errors import (ArtefactError, ExpiredError, MalformedError, RevokedError, TamperedError,
                              TooLargeError, UntrustedError, ValidationError, WrongKeyError,
                              WrongPurposeError)
from exam_core.jsonio import canonical_dumps, utc_now
from tests.core.pki import PAYLOAD, make_pki, seal

@pytest.fixture(scope="module")
def sealed(pki):
    return seal(pki)


def test_round_trip(pki, sealed):
    header, payload = envelope.open_envelope(sealed, pki.results, pki.central.public_key())
    assert payload == PAYLOAD
    assert (header.envelope_id, header.attempt_id, header.kiosk_id, header.form_version) == ("env-1", "att-1", "kiosk-7", 2)
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


def test_inner_payload_cannot_move_to_another_header(pki):
    a, b = seal(pki, envelope_id="env-a"), seal(pki, envelope_id="env-b")
    mixed = _outer(a)
    mixed["ciphertext"] = _outer(b)["ciphertext"]
    with pytest.raises(TamperedError):
        envelope.open_envelope(canonical_dumps(mixed), pki.results, pki.central.public_key())


def test_header_signed_by_another_kiosk(pki):
    other = make_pki()
    forged = _outer(seal(pki))
    forged["header"] = _outer(seal(other))["header"]
    with pytest.raises(ArtefactError):
        envelope.open_envelope(canonical_dumps(forged), pki.results, pki.central.public_key())


def test_limits(pki):
    with pytest.raises(TooLargeError):
        envelope.read_unverified_header(b" " * (envelope.limits.ENVELOPE_MAX_BYTES + 1))
    with pytest.raises(ValidationError):
        seal(pki, attempt_id="../../etc")
    with pytest.raises(MalformedError):
        envelope.read_unverified_header(b'{"format":"invigil-envelope","v":1}')


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
