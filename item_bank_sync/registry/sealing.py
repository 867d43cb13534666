"""Personal documents sealed at rest: AES-256-GCM under the body's evidence key.

Why a key of its own (``DIR/keys/evidence.key``, 0600) rather than the database: a copy of the
database (a backup, a PostgreSQL replica, a leaked dump) then holds no readable evidence or photo;
the key stays with the central body's other keys. ``init`` makes it with them and it must be backed
up with them (docs/OPERATIONS.md); a missing one is refused, never replaced
(:mod:`item_bank_sync.trust.evidence_key` says why).

The AAD binds the purpose, a format version and the identifiers of the record and of the document,
so a sealed document moved onto another application (or from a photo to evidence) fails to open
instead of being served as that one.
Layout of a sealed value: 12-byte random nonce, then ciphertext and tag.
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from exam_core.errors import TamperedError
from exam_core.jsonio import canonical_dumps
from item_bank_sync.trust.evidence_key import KEY_FILE, EvidenceKeyMissing, create_key, key_path, load_key

NONCE_BYTES = 12
VERSION = 1


def _aad(purpose: str, record_id: str, document_id: str) -> bytes:
    return canonical_dumps({"purpose": purpose, "version": VERSION, "record": record_id, "document": document_id})


def seal(key: bytes, purpose: str, record_id: str, document_id: str, plaintext: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, _aad(purpose, record_id, document_id))


def unseal(key: bytes, purpose: str, record_id: str, document_id: str, sealed: bytes) -> bytes:
    """The plaintext; :class:`TamperedError` when the bytes, key or binding do not match."""
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _aad(purpose, record_id, document_id))
    except (InvalidTag, ValueError):
        raise TamperedError(f"sealed {purpose} {document_id}: does not open (changed, moved or wrong key)") from None


__all__ = ["KEY_FILE", "EvidenceKeyMissing", "create_key", "key_path", "load_key", "seal", "unseal"]
