"""W3C Bitstring Status List v1.0: the bitstring, its ``encodedList``, and its signed credential.

Two lists per body, one per ``statusPurpose``: ``revocation`` (withdrawn for good, or a credential
superseded by a newer one) and ``suspension`` (may be restored). Each list has ``LIST_SIZE``
entries (131,072: the specification's minimum, 16 KiB, so one holder's bit is lost among many and
a verifier learns nothing from which entry it fetched); every credential gets a random free index
in each list (section 6.1, privacy: indexes in issue order would let a verifier date and count
certificates). Bit 0 is the left-most bit of the first byte. ``encodedList`` is the multibase
base64url (``u`` prefix, no padding) of the GZIP-compressed bitstring.

The lists are not stored: the registry's status is the truth, and the list is built from it at
every request, so a suspension is in the served list at the very next request.
"""

from __future__ import annotations

import base64
import gzip
import io
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from item_bank_sync.certificates.credential import VC_CONTEXT, Issuer, sign_jwt, vc_time_epoch, vc_time
from item_bank_sync.certificates.keys import SigningKey

LIST_SIZE = 131_072
PURPOSES = ("revocation", "suspension")
#: How long a served list credential says it is valid: verifiers must fetch it again after this.
LIST_TTL = timedelta(minutes=5)


def random_index() -> int:
    """A uniformly random entry of a list (the caller retries on a taken one)."""
    return secrets.randbelow(LIST_SIZE)


def bitstring(set_indexes: Iterable[int], size: int = LIST_SIZE) -> bytes:
    """``size`` bits, all 0 but ``set_indexes``; index 0 is the most significant bit of byte 0."""
    bits = bytearray(size // 8)
    for index in set_indexes:
        if not 0 <= index < size:
            raise ValueError(f"status index {index} outside the list")
        bits[index // 8] |= 0x80 >> (index % 8)
    return bytes(bits)


def encode_list(bits: bytes) -> str:
    """The ``encodedList``: multibase (``u``) base64url without padding of the GZIP'd bitstring."""
    compressed = gzip.compress(bits, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def decode_list(encoded: str, max_bytes: int = 16 * 1024 * 1024) -> bytes:
    """The bitstring of an ``encodedList`` (bounded against a decompression bomb)."""
    if not encoded.startswith("u"):
        raise ValueError("encodedList must be multibase base64url ('u' prefix)")
    raw = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    with gzip.GzipFile(fileobj=io.BytesIO(raw)) as gz:
        bits = gz.read(max_bytes + 1)
    if len(bits) > max_bytes:
        raise ValueError("status list larger than allowed")
    return bits


def bit_at(bits: bytes, index: int) -> bool:
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def list_url(issuer: Issuer, purpose: str) -> str:
    return f"{issuer.base_url}/status/{purpose}"


def status_list_credential(issuer: Issuer, purpose: str, set_indexes: Iterable[int],
                           now: datetime) -> dict[str, Any]:
    """The ``BitstringStatusListCredential`` of one purpose (section 2.2)."""
    url = list_url(issuer, purpose)
    return {"@context": [VC_CONTEXT], "id": url, "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": issuer.id, "validFrom": vc_time(now), "validUntil": vc_time(now + LIST_TTL),
            "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList", "statusPurpose": purpose,
                                  "encodedList": encode_list(bitstring(set_indexes))}}


def status_list_jwt(credential: dict[str, Any], key: SigningKey) -> str:
    """The list credential as a VC-JWT (same framing as the certificates' credentials)."""
    payload = dict(credential)
    payload.update(iss=credential["issuer"], jti=credential["id"], nbf=vc_time_epoch(credential["validFrom"]),
                   exp=vc_time_epoch(credential["validUntil"]))
    return sign_jwt(payload, key)
