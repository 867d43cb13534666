"""Proctor passwords: Argon2id with a per-user salt, compared in constant time.

Why not a library such as argon2-cffi: ``cryptography`` (already a dependency) has Argon2id, and
the stored parameters make it possible to raise the cost later without invalidating old hashes.
"""

from __future__ import annotations

import hmac
import json
import secrets

from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from exam_core.errors import ValidationError

#: OWASP's first recommended Argon2id setting (19 MiB, t=2, p=1): ~30 ms on the target machine.
DEFAULT_PARAMS = {"iterations": 2, "lanes": 1, "memory_cost": 19 * 1024, "length": 32}
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024


def check_password_policy(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise ValidationError("password", f"must be at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise ValidationError("password", f"must be at most {MAX_PASSWORD_CHARS} characters")


def _derive(password: str, salt: bytes, params: dict[str, int]) -> bytes:
    kdf = Argon2id(salt=salt, length=params["length"], iterations=params["iterations"],
                   lanes=params["lanes"], memory_cost=params["memory_cost"])
    return kdf.derive(password.encode("utf-8"))


def hash_password(password: str) -> tuple[bytes, bytes, str]:
    """``(hash, salt, params_json)`` for a new password (policy checked first)."""
    check_password_policy(password)
    salt = secrets.token_bytes(16)
    return _derive(password, salt, DEFAULT_PARAMS), salt, json.dumps(DEFAULT_PARAMS, sort_keys=True)


def verify_password(password: str, stored_hash: bytes, salt: bytes, params_json: str) -> bool:
    """True when ``password`` matches; the comparison does not leak where the bytes differ."""
    if not isinstance(password, str) or len(password) > MAX_PASSWORD_CHARS:
        return False
    params = json.loads(params_json)
    return hmac.compare_digest(_derive(password, salt, params), bytes(stored_hash))


def dummy_verify() -> None:
    """Spend the time of one verification, so an unknown user name is not told apart by timing."""
    _derive("not-a-password", b"\x00" * 16, DEFAULT_PARAMS)
