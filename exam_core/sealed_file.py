"""Sealing large files (air-gap bundles) to one recipient: HPKE for a per-file key, AES-GCM chunks.

HPKE single-shot encryption is limited to ``limits.HPKE_MAX_PLAINTEXT`` (64 MiB) so that nothing
large is held twice in memory by a parser of untrusted input; a central body's delivery of form
packages to one centre is easily larger. A sealed file therefore carries a fresh random AES-256
key, HPKE-sealed to the recipient for the file's purpose, and the plaintext in 1 MiB chunks, each
AES-256-GCM encrypted under that key with the chunk's index as nonce (the key is used for this
file only, so a counter nonce never repeats).

Layout::

    MAGIC (8 bytes, b"INVSEAL1")
    u32 big-endian length of the sealed header, then the sealed header:
        hpke.seal(recipient, purpose, key (32) || file_id (16) || plaintext length (u64 BE))
    chunk 0 .. chunk n-1: AES-GCM(key, nonce = index as 12-byte BE,
                                  aad = purposes.bind(purpose, file_id || index u64 || last u8))

Every chunk is full (``CHUNK_BYTES``) except the last; an empty plaintext is one empty last chunk.
The AAD binds purpose, file, position and "last", so chunks cannot be reordered, swapped between
files, dropped or appended, and truncation is refused (the length in the header must match too).
Failures raise the usual errors: ``WrongKeyError``/``WrongPurposeError`` from the header's HPKE,
``TamperedError`` for any altered chunk, ``MalformedError`` for a wrong shape, ``TooLargeError``.
"""

from __future__ import annotations

import secrets
import struct
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from exam_core import hpke, purposes
from exam_core.errors import MalformedError, TamperedError, TooLargeError
from exam_core.keys import HpkePrivateKey, HpkePublicKey

MAGIC = b"INVSEAL1"
CHUNK_BYTES = 1024 * 1024
_TAG = 16
_HEADER = struct.Struct(">32s16sQ")
_HEADER_LEN_MAX = 4096


def _chunk_count(length: int) -> int:
    return max(1, -(-length // CHUNK_BYTES))


def _aad(purpose: str, file_id: bytes, index: int, last: bool) -> bytes:
    return purposes.bind(purpose, file_id + struct.pack(">QB", index, last))


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


def seal_file(public: HpkePublicKey, purpose: str, plaintext: bytes, max_bytes: int) -> bytes:
    """Encrypt ``plaintext`` (at most ``max_bytes``) to ``public`` for ``purpose``."""
    if len(plaintext) > max_bytes:
        raise TooLargeError(f"plaintext of {len(plaintext)} bytes exceeds {max_bytes}")
    key, file_id = AESGCM.generate_key(256), secrets.token_bytes(16)
    header = hpke.seal(public, purpose, _HEADER.pack(key, file_id, len(plaintext)))
    aead = AESGCM(key)
    view = memoryview(plaintext)
    count = _chunk_count(len(plaintext))
    parts = [MAGIC, struct.pack(">I", len(header)), header]
    for index in range(count):
        chunk = view[index * CHUNK_BYTES:(index + 1) * CHUNK_BYTES]
        parts.append(aead.encrypt(_nonce(index), chunk, _aad(purpose, file_id, index, index == count - 1)))
    return b"".join(parts)


def open_file(private: HpkePrivateKey, purpose: str, data: bytes, max_bytes: int) -> bytes:
    """Decrypt bytes made by ``seal_file``; refuse a plaintext larger than ``max_bytes``."""
    view = memoryview(data)
    if len(view) < len(MAGIC) + 4 or bytes(view[:len(MAGIC)]) != MAGIC:
        raise MalformedError("not an Invigil sealed file (magic)")
    (header_len,) = struct.unpack(">I", view[len(MAGIC):len(MAGIC) + 4])
    start = len(MAGIC) + 4 + header_len
    if header_len > _HEADER_LEN_MAX or len(view) < start:
        raise MalformedError("sealed file header has a wrong length")
    opened = hpke.open_sealed(private, purpose, bytes(view[len(MAGIC) + 4:start]))
    if len(opened) != _HEADER.size:
        raise MalformedError("sealed file header has a wrong shape")
    key, file_id, length = _HEADER.unpack(opened)
    if length > max_bytes:
        raise TooLargeError(f"sealed file of {length} bytes exceeds {max_bytes}")
    count = _chunk_count(length)
    if len(view) - start != length + count * _TAG:
        raise TamperedError("sealed file is truncated or extended")
    aead = AESGCM(key)
    out = bytearray()
    for index in range(count):
        size = min(CHUNK_BYTES, length - index * CHUNK_BYTES) + _TAG
        chunk = view[start:start + size]
        start += size
        try:
            out += aead.decrypt(_nonce(index), chunk, _aad(purpose, file_id, index, index == count - 1))
        except InvalidTag:
            raise TamperedError(f"sealed file chunk {index} fails authentication") from None
    return bytes(out)


def sealed_size(plaintext_bytes: int) -> int:
    """The largest sealed file a plaintext of this size can give (header and chunk tags included)."""
    return len(MAGIC) + 4 + _HEADER_LEN_MAX + plaintext_bytes + _chunk_count(plaintext_bytes) * _TAG


def read_sealed_file(path: Path, max_bytes: int) -> bytes:
    """A sealed file's bytes, refusing one too large for a ``max_bytes`` plaintext before reading it."""
    size = Path(path).stat().st_size
    if size > sealed_size(max_bytes):
        raise TooLargeError(f"{path}: {size} bytes is larger than a sealed file of {max_bytes} bytes can be")
    return Path(path).read_bytes()
