"""Personal documents sealed at rest: AES-256-GCM under the body's evidence key.

Why a key of its own (``DIR/keys/evidence.key``, 0600) rather than the database: a copy of the
database (a backup, a PostgreSQL replica, a leaked dump) then holds no readable evidence or photo;
the key stays with the central body's other keys. ``init`` makes it with them (:func:`create_key`)
and it must be backed up with them (docs/OPERATIONS.md). Why never made on first use: a key found
missing later (a restore that left it out, a wrong directory) would silently be replaced by a new
one that opens none of the documents already sealed, and every new document would be sealed under
a key the backups do not hold; :func:`load_key` refuses instead, saying what to restore.

The AAD binds the purpose, a format version and the identifiers of the record and of the document,
so a sealed document moved onto another application (or from a photo to evidence) fails to open
instead of being served as that one.
Layout of a sealed value: 12-byte random nonce, then ciphertext and tag.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from exam_core.errors import KeyFileError, TamperedError
from exam_core.jsonio import canonical_dumps

KEY_FILE = "evidence.key"
KEY_BYTES = 32
NONCE_BYTES = 12
VERSION = 1


def key_path(keys_dir: Path) -> Path:
    return Path(keys_dir) / KEY_FILE


class EvidenceKeyMissing(KeyFileError):
    """The evidence key is not where ``init`` put it: nothing can be sealed or opened."""


def create_key(keys_dir: Path) -> Path:
    """Make the evidence key (``init``); an existing key is kept, never replaced. Creation links a
    complete temporary file into place, so two processes doing it together agree on one key."""
    path = key_path(keys_dir)
    if not path.exists():
        _create(path)
    return path


def load_key(keys_dir: Path) -> bytes:
    """The evidence key; :class:`EvidenceKeyMissing` when it is not there (see the module doc)."""
    path = key_path(keys_dir)
    if not path.exists():
        raise EvidenceKeyMissing(
            f"{path} is missing: evidence documents, photos and CPD evidence can be neither sealed nor "
            "opened. Restore it from the backup of the body's keys (a new key would open none of the "
            "documents already sealed).")
    return _read(path)


def _create(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temp = path.with_name(f".{KEY_FILE}.{secrets.token_hex(8)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, AESGCM.generate_key(bit_length=256))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temp, path)
    except FileExistsError:
        pass
    finally:
        temp.unlink()


def _read(path: Path) -> bytes:
    for _ in range(50):
        data = path.read_bytes()
        if len(data) == KEY_BYTES:
            if path.stat().st_mode & 0o077:
                raise KeyFileError(f"{path}: readable by others; chmod 600")
            return data
        time.sleep(0.01)
    raise KeyFileError(f"{path}: not a {KEY_BYTES}-byte evidence key")


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
