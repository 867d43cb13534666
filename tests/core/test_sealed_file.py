"""exam_core.sealed_file: large sealed files, every kind of tampering refused."""

import struct

import pytest

from exam_core import sealed_file
from exam_core.errors import MalformedError, TamperedError, TooLargeError, WrongKeyError, WrongPurposeError
from exam_core.sealed_file import CHUNK_BYTES, open_file, read_sealed_file, seal_file

PURPOSE = "sync-bundle-to-centre"
LIMIT = 8 * CHUNK_BYTES


@pytest.mark.parametrize("size", [0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 3 * CHUNK_BYTES + 5])
def test_round_trip(x25519_key, size):
    plaintext = bytes(range(256)) * (size // 256) + bytes(size % 256)
    sealed = seal_file(x25519_key.public_key(), PURPOSE, plaintext, LIMIT)
    assert open_file(x25519_key, PURPOSE, sealed, LIMIT) == plaintext


def _chunks(sealed: bytes) -> tuple[bytes, list[bytes]]:
    (header_len,) = struct.unpack(">I", sealed[8:12])
    start = 12 + header_len
    body = sealed[start:]
    step = CHUNK_BYTES + 16
    return sealed[:start], [body[i:i + step] for i in range(0, len(body), step)]


def test_tampering_reordering_truncation_and_extension_are_refused(x25519_key):
    sealed = seal_file(x25519_key.public_key(), PURPOSE, b"x" * (2 * CHUNK_BYTES + 10), LIMIT)
    head, chunks = _chunks(sealed)
    assert len(chunks) == 3
    flipped = bytearray(sealed)
    flipped[len(head) + CHUNK_BYTES // 2] ^= 1
    cases = {
        "flipped": bytes(flipped),
        "swapped": head + chunks[1] + chunks[0] + chunks[2],
        "truncated": head + chunks[0] + chunks[1],
        "dropped middle": head + chunks[0] + chunks[2] + b"\0" * (CHUNK_BYTES + 16 - len(chunks[2])),
        "extended": sealed + b"\0" * 16,
    }
    for name, data in cases.items():
        with pytest.raises(TamperedError):
            open_file(x25519_key, PURPOSE, data, LIMIT)
            pytest.fail(name)


def test_chunks_of_another_file_do_not_fit(x25519_key):
    first = seal_file(x25519_key.public_key(), PURPOSE, b"a" * 100, LIMIT)
    second = seal_file(x25519_key.public_key(), PURPOSE, b"b" * 100, LIMIT)
    head, _ = _chunks(first)
    _, chunks = _chunks(second)
    with pytest.raises(TamperedError):
        open_file(x25519_key, PURPOSE, head + chunks[0], LIMIT)


def test_wrong_key_purpose_magic_and_size(x25519_key, hpke_key):
    sealed = seal_file(x25519_key.public_key(), PURPOSE, b"data", LIMIT)
    with pytest.raises(WrongKeyError):
        open_file(hpke_key, PURPOSE, sealed, LIMIT)
    with pytest.raises(WrongPurposeError):
        open_file(x25519_key, "sync-bundle-to-central", sealed, LIMIT)
    with pytest.raises(MalformedError):
        open_file(x25519_key, PURPOSE, b"NOTSEAL!" + sealed[8:], LIMIT)
    with pytest.raises(TooLargeError):
        open_file(x25519_key, PURPOSE, sealed, 3)          # the length in the header is checked first
    with pytest.raises(TooLargeError):
        seal_file(x25519_key.public_key(), PURPOSE, b"data", 3)


def test_read_refuses_a_file_too_large_before_reading(tmp_path):
    path = tmp_path / "big.bundle"
    with open(path, "wb") as fh:
        fh.truncate(sealed_file.sealed_size(1000) + 1)
    with pytest.raises(TooLargeError):
        read_sealed_file(path, 1000)
    path.write_bytes(b"small")
    assert read_sealed_file(path, 1000) == b"small"
