"""The second factor of a web sign-in: time-based one-time passwords (RFC 6238) and recovery codes.

Codes come from pyotp (6 digits, 30-second steps, SHA-1: what every authenticator app speaks). What
pyotp leaves to its caller is done here:

* **one use per code**: :func:`matching_step` returns the time step a code belongs to, and the
  caller stores the last step used and refuses that step or an earlier one, so a code seen over a
  shoulder or in a log cannot be replayed within its window;
* **the secret sealed at rest**: :func:`seal_secret` encrypts it with AES-256-GCM under a key the
  caller owns (bound to the account name), so a copy of the database alone does not give codes;
  it is shown once, at enrolment, and never again;
* **enrolment by QR code**: an SVG ``data:`` URI made by segno (no script, no outside request);
* **recovery codes**: a few random codes, stored only as SHA-256 hashes (80 random bits each, so a
  slow hash adds nothing), each usable once.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time

import pyotp
import segno
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

#: Steps either side of now a code is accepted in (clock drift of the phone): ±30 s.
VALID_WINDOW = 1
RECOVERY_CODES = 8
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
_NONCE_BYTES = 12


def new_secret() -> str:
    """A fresh base32 secret (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg_data_uri(uri: str) -> str:
    """The QR code of ``uri`` as an SVG ``data:`` URI for an ``<img>`` (allowed by the CSP)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=4))


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step whose code ``code`` is (within ``VALID_WINDOW``), or None.

    Each candidate step is compared in constant time; the caller must refuse a step at or before
    the last one it accepted (one use per code).
    """
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    step = int((time.time() if now is None else now) // totp.interval)
    found = None
    for candidate in range(step - VALID_WINDOW, step + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            found = candidate
    return found


def seal_secret(key: bytes, secret: str, account: str) -> bytes:
    """``nonce || AES-GCM(secret)`` bound to ``account`` (a sealed secret moved to another account
    does not open)."""
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, secret.encode("ascii"), account.encode("utf-8"))


def open_secret(key: bytes, sealed: bytes, account: str) -> str:
    """The secret :func:`seal_secret` sealed (raises ``cryptography``'s InvalidTag if altered)."""
    sealed = bytes(sealed)
    return AESGCM(key).decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], account.encode("utf-8")).decode("ascii")


def new_recovery_codes(count: int = RECOVERY_CODES) -> list[str]:
    """``count`` codes of 16 characters (80 bits) in groups of four, to be shown once."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i:i + 4] for i in range(0, 16, 4)))
    return codes


def recovery_code_hash(code: str) -> str:
    """The stored form of a recovery code (spaces, dashes and case ignored)."""
    normal = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(normal.encode("ascii", "ignore")).hexdigest()
