"""Signed HTTP requests: how a test centre authenticates every call to the central sync API.

Wire format: four headers

``X-Invigil-Centre``     the centre id (its certificate's subject)
``X-Invigil-Time``       the wire timestamp of signing (UTC, whole seconds, ``...Z``)
``X-Invigil-Nonce``      32 lowercase hex characters, never reused
``X-Invigil-Signature``  base64 Ed25519 signature, purpose ``sync-request``, over the canonical
                         JSON ``{"v": 1, "centre", "method", "path", "query", "body_sha256",
                         "time", "nonce"}`` (``exam_core.jsonio.canonical_dumps``)

The centre's client builds the headers with ``sign_request``; the central server rebuilds the
same message with ``request_message`` from what it received and verifies it (replay window and
nonce store are the server's business, in ``item_bank_sync.sync.auth``). Both sides use this one
module so the signed bytes cannot drift apart.
"""

from __future__ import annotations

import hashlib
import secrets

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exam_core import purposes, signing
from exam_core.jsonio import b64e, canonical_dumps
from exam_core.timestamps import format_time, utc_now

PURPOSE = purposes.SYNC_REQUEST
HEADER_CENTRE = "X-Invigil-Centre"
HEADER_TIME = "X-Invigil-Time"
HEADER_NONCE = "X-Invigil-Nonce"
HEADER_SIGNATURE = "X-Invigil-Signature"


def request_message(centre: str, method: str, path: str, query: str, body: bytes, at: str, nonce: str) -> bytes:
    """The exact bytes a centre signs for one request."""
    return canonical_dumps({"v": 1, "centre": centre, "method": method.upper(), "path": path, "query": query,
                            "body_sha256": hashlib.sha256(body).hexdigest(), "time": at, "nonce": nonce})


def sign_request(key: Ed25519PrivateKey, centre: str, method: str, path: str, query: str, body: bytes,
                 *, at: str | None = None, nonce: str | None = None) -> dict[str, str]:
    """The four authentication headers for one request (fresh time and nonce unless given)."""
    at = at or format_time(utc_now().replace(microsecond=0))
    nonce = nonce or secrets.token_hex(16)
    signature = signing.sign(key, PURPOSE, request_message(centre, method, path, query, body, at, nonce))
    return {HEADER_CENTRE: centre, HEADER_TIME: at, HEADER_NONCE: nonce, HEADER_SIGNATURE: b64e(signature)}
