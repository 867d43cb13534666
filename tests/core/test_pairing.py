"""Pairing: the one-time code, the MAC-sealed request and response, their strict records."""

from __future__ import annotations

import pytest

from exam_core import keys, pairing
from exam_core.errors import TamperedError, ValidationError
from exam_core.jsonio import b64e


def test_pairing_mac_needs_the_code() -> None:
    code = pairing.new_pairing_code()
    sealed = pairing.seal_pairing(code, pairing.PAIRING_REQUEST, {"kiosk_id": "k"})
    assert pairing.open_pairing(code.lower().replace("-", " "), pairing.PAIRING_REQUEST, sealed) == {"kiosk_id": "k"}
    with pytest.raises(TamperedError):
        pairing.open_pairing(pairing.new_pairing_code(), pairing.PAIRING_REQUEST, sealed)
    with pytest.raises(TamperedError):  # a request MAC is not a response MAC
        pairing.open_pairing(code, pairing.PAIRING_RESPONSE, sealed)
    with pytest.raises(ValidationError):
        pairing.normalise_pairing_code("short")


def test_pairing_code_normalises_look_alikes() -> None:
    code = pairing.new_pairing_code()
    assert len(code) == 14 and code.count("-") == 2
    assert pairing.normalise_pairing_code("0il0-0000-0000") == "011000000000"


def test_sealed_message_is_strict() -> None:
    code = pairing.new_pairing_code()
    sealed = pairing.seal_pairing(code, pairing.PAIRING_REQUEST, {"kiosk_id": "k"})
    with pytest.raises(ValidationError, match="extra"):
        pairing.open_pairing(code, pairing.PAIRING_REQUEST, {**sealed, "extra": 1})
    with pytest.raises(ValidationError, match="v"):
        pairing.open_pairing(code, pairing.PAIRING_REQUEST, {**sealed, "v": 2})


def test_pair_request_round_trip_and_refusals() -> None:
    signing_key, hpke_key = keys.generate_signing_key(), keys.generate_hpke_key()
    request = pairing.PairRequest(kiosk_id="kiosk-1", signing_key=keys.public_key_to_dict(signing_key.public_key()),
                                  hpke_key=keys.public_key_to_dict(hpke_key.public_key()),
                                  nonce=b64e(bytes(16)), software_version="1.0")
    assert pairing.PairRequest.from_dict(request.to_dict()) == request
    with pytest.raises(ValidationError, match="nonce"):
        pairing.PairRequest.from_dict({**request.to_dict(), "nonce": b64e(bytes(32))})
    with pytest.raises(ValidationError, match="kiosk_id"):
        pairing.PairRequest.from_dict({k: v for k, v in request.to_dict().items() if k != "kiosk_id"})
