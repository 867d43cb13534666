"""The attestation wire format (exam_core.attestation): round trip and every refusal."""

from __future__ import annotations

import base64
import json

import pytest

from exam_core import purposes, signing
from exam_core.attestation import (NotAllowlistedError, StaleAttestationError, make_attestation_document,
                                   open_attestation, verify_attestation)
from exam_core.errors import MalformedError, TamperedError, ValidationError, WrongKeyError, WrongPurposeError
from exam_core.jsonio import canonical_dumps
from exam_core.keys import generate_signing_key

NONCE = bytes(range(32))
DIGEST, POLICY = "ab" * 32, "cd" * 32


def _attest(device, nonce=NONCE, kiosk_id="kiosk-07", measurement=DIGEST) -> bytes:
    return make_attestation_document(device, kiosk_id=kiosk_id, nonce=nonce, measurement=measurement,
                                     kind="source", policy_sha256=POLICY, files=42)


def _resign(device, blob: bytes, **changes) -> bytes:
    """The same payload with fields changed, validly signed: tests the shape checks, not the signature."""
    payload = json.loads(base64.b64decode(json.loads(blob)["payload"]))
    payload.update(changes)
    for name in [k for k, v in changes.items() if v is None]:
        del payload[name]
    return signing.make_signed(device, purposes.KIOSK_ATTESTATION, payload)


def test_round_trip_with_and_without_allowlist():
    device = generate_signing_key()
    blob = _attest(device)
    opened = open_attestation(blob, device.public_key(), NONCE)
    assert (opened.kiosk_id, opened.measurement, opened.kind, opened.files, opened.release) == \
        ("kiosk-07", DIGEST, "source", 42, None)
    verified = verify_attestation(blob, device.public_key(), {DIGEST: "2026.11"}, NONCE)
    assert verified.release == "2026.11"
    assert verify_attestation(blob, device.public_key(), [DIGEST], NONCE).release == DIGEST


def test_another_nonce_is_stale_and_an_unlisted_build_names_its_measurement():
    device = generate_signing_key()
    blob = _attest(device)
    with pytest.raises(StaleAttestationError):
        open_attestation(blob, device.public_key(), bytes(32))
    with pytest.raises(NotAllowlistedError, match=DIGEST):
        verify_attestation(blob, device.public_key(), {"0" * 64: "old"}, NONCE)
    with pytest.raises(NotAllowlistedError):
        verify_attestation(blob, device.public_key(), [], NONCE)


def test_forgeries_are_refused():
    device = generate_signing_key()
    blob = _attest(device)
    with pytest.raises(WrongKeyError):
        open_attestation(blob, generate_signing_key().public_key(), NONCE)
    document = json.loads(blob)
    payload = json.loads(base64.b64decode(document["payload"]))
    payload["measurement"] = "ef" * 32  # claim another build under the same signature
    document["payload"] = base64.b64encode(canonical_dumps(payload)).decode()
    with pytest.raises(TamperedError):
        open_attestation(canonical_dumps(document), device.public_key(), NONCE)
    with pytest.raises(WrongPurposeError):
        open_attestation(signing.make_signed(device, purposes.RECEIPT, payload), device.public_key(), NONCE)


@pytest.mark.parametrize("changes", [
    {"format": "other"}, {"v": 2}, {"extra": 1}, {"files": None}, {"measurement": "AB" * 32},
    {"measurement": "ab"}, {"kind": "vm"}, {"files": -1}, {"files": True}, {"kiosk_id": ""},
    {"policy_sha256": 7},
])
def test_malformed_payloads_are_refused(changes):
    device = generate_signing_key()
    with pytest.raises(MalformedError):
        open_attestation(_resign(device, _attest(device), **changes), device.public_key(), NONCE)


def test_bad_inputs_to_make_are_refused():
    device = generate_signing_key()
    with pytest.raises(ValidationError, match="nonce"):
        _attest(device, nonce=b"short")
    with pytest.raises(ValidationError, match="kiosk_id"):
        _attest(device, kiosk_id="")
    with pytest.raises(ValidationError, match="measurement"):
        _attest(device, measurement="not-a-digest")
    with pytest.raises(ValidationError, match="nonce"):
        open_attestation(_attest(device), device.public_key(), b"")
