"""Proctor passwords: Argon2id, salted per user, policy checked, compared in constant time."""

from __future__ import annotations

import json

import pytest

from exam_core.websec.passwords import hash_password, verify_password


def test_passwords_are_argon2id_salted_and_checked() -> None:
    digest, salt, params = hash_password("a long enough password")
    assert len(digest) == 32 and len(salt) == 16 and json.loads(params)["memory_cost"] >= 19 * 1024
    assert verify_password("a long enough password", digest, salt, params)
    assert not verify_password("a long enough passworD", digest, salt, params)
    assert hash_password("a long enough password")[0] != digest  # per-user salt
    with pytest.raises(Exception, match="at least"):
        hash_password("short")
