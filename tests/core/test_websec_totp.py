"""exam_core.websec.totp against pyotp's own codes (RFC 6238) and the RFC's test vector."""

from __future__ import annotations

import base64

import pyotp
import pytest
from cryptography.exceptions import InvalidTag

from exam_core.websec import totp

#: RFC 6238 appendix B: the SHA-1 secret "12345678901234567890", T = 59 s -> 94287082 (8 digits);
#: its last six digits are the 6-digit code.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()


def test_the_rfc_6238_vector():
    assert totp.matching_step(RFC_SECRET, "287082", now=59) == 1


def test_codes_of_the_neighbouring_steps_match_and_others_do_not():
    secret = totp.new_secret()
    now = 1_800_000_000.0
    step = int(now // 30)
    code = pyotp.TOTP(secret)
    assert totp.matching_step(secret, code.generate_otp(step), now) == step
    assert totp.matching_step(secret, code.generate_otp(step - 1), now) == step - 1
    assert totp.matching_step(secret, code.generate_otp(step + 1), now) == step + 1
    assert totp.matching_step(secret, code.generate_otp(step - 3), now) is None
    for bad in ("", "12345", "1234567", "abcdef", "12 34 5x"):
        assert totp.matching_step(secret, bad, now) is None


def test_a_sealed_secret_opens_only_for_its_account_and_key():
    key, other = b"k" * 32, b"o" * 32
    sealed = totp.seal_secret(key, "SECRETSECRET", "alice")
    assert totp.open_secret(key, sealed, "alice") == "SECRETSECRET"
    assert b"SECRETSECRET" not in sealed
    with pytest.raises(InvalidTag):
        totp.open_secret(key, sealed, "bob")
    with pytest.raises(InvalidTag):
        totp.open_secret(other, sealed, "alice")


def test_recovery_codes_are_random_and_hashed_ignoring_layout():
    codes = totp.new_recovery_codes()
    assert len(codes) == 8 and len(set(codes)) == 8
    assert totp.recovery_code_hash(codes[0]) == totp.recovery_code_hash(codes[0].upper().replace("-", " "))
    assert totp.recovery_code_hash(codes[0]) != totp.recovery_code_hash(codes[1])


def test_the_qr_code_is_an_svg_data_uri():
    uri = totp.qr_svg_data_uri(totp.provisioning_uri(totp.new_secret(), "alice", "Invigil Body"))
    assert uri.startswith("data:image/svg+xml")
