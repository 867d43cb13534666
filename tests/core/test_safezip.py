"""exam_core.safezip: the end record, the central-directory policy and reading under limits.

The archives are built with zipfile itself (tests/support/zips.py) and then damaged byte by byte, as
an attacker or a failing USB stick would.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from exam_core import limits
from exam_core.errors import MalformedError, TooLargeError
from exam_core.safezip import ZipPolicy, open_zip, read_members
from tests.support.zips import zip_bomb, zip_of

POLICY = ZipPolicy(max_members=10, max_member_bytes=8 * limits.MIB, max_total_bytes=16 * limits.MIB)


def _central_entry(data: bytes | bytearray) -> int:
    return bytes(data).rfind(b"PK\x01\x02")


def test_the_compression_ratio_limit_is_the_declared_one() -> None:
    """``limits.ZIP_MAX_COMPRESSION_RATIO`` is what a policy enforces unless it says otherwise."""
    assert POLICY.max_ratio == limits.ZIP_MAX_COMPRESSION_RATIO
    bomb = zip_bomb("zeros.bin", 4 * limits.MIB)
    (info,) = zipfile.ZipFile(io.BytesIO(bomb)).infolist()
    assert info.file_size > info.compress_size * limits.ZIP_MAX_COMPRESSION_RATIO
    with pytest.raises(TooLargeError, match="compression ratio"):
        read_members(bomb, POLICY)
    lenient = ZipPolicy(max_members=10, max_member_bytes=8 * limits.MIB, max_total_bytes=16 * limits.MIB,
                        max_ratio=info.file_size // info.compress_size + 1)
    assert read_members(bomb, lenient) == {"zeros.bin": b"\0" * (4 * limits.MIB)}


def test_a_ratio_just_under_the_limit_is_read() -> None:
    body = bytes(range(256)) * 64  # compresses, but far less than the limit
    data = zip_of([("table.bin", body)], zipfile.ZIP_DEFLATED)
    assert read_members(data, POLICY) == {"table.bin": body}


def test_encrypted_members_are_refused_before_reading() -> None:
    data = bytearray(zip_of([("secret.txt", b"plain")]))
    data[6] |= 0x01                                  # local header: general-purpose flag bit 0
    data[_central_entry(data) + 8] |= 0x01           # central directory: the same flag
    with pytest.raises(MalformedError, match="flags"):
        read_members(bytes(data), POLICY)


def test_unsupported_compression_methods_are_refused() -> None:
    data = zip_of([("a.txt", b"x" * 1000)], zipfile.ZIP_BZIP2)
    with pytest.raises(MalformedError, match="compression method 12"):
        read_members(data, POLICY)


def test_a_bad_crc_is_a_malformed_member_not_a_zipfile_error() -> None:
    data = bytearray(zip_of([("a.txt", b"hello world")]))
    data[data.index(b"hello")] ^= 0x20
    with open_zip(bytes(data), POLICY) as reader, pytest.raises(MalformedError, match="corrupt"):
        reader.read("a.txt")


@pytest.mark.parametrize("damage", ["comment", "trailing", "multi-disk"])
def test_the_end_record_is_checked(damage: str) -> None:
    data = bytearray(zip_of([("a.txt", b"a")]))
    if damage == "comment":
        data[-2:] = (3).to_bytes(2, "little")
        data += b"hey"
    elif damage == "trailing":
        data += b"\0" * 22
    else:
        data[-18:-16] = (1).to_bytes(2, "little")   # number of this disk
    with pytest.raises(MalformedError):
        read_members(bytes(data), POLICY)


def test_directories_are_refused_or_skipped_as_the_policy_says() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.mkdir("items")
        archive.writestr("items/a.txt", b"a")
    data = buffer.getvalue()
    with pytest.raises(MalformedError, match="directory"):
        read_members(data, POLICY)
    skipping = ZipPolicy(max_members=10, max_member_bytes=100, max_total_bytes=100, skip_directories=True)
    assert read_members(data, skipping) == {"items/a.txt": b"a"}


@pytest.mark.parametrize("name", ["../evil.txt", "a/../../evil.txt", "/etc/evil"])
def test_names_that_escape_the_archive_are_refused(name: str) -> None:
    data = zip_of([(name, b"x")])
    anything = ZipPolicy(max_members=10, max_member_bytes=100, max_total_bytes=100,
                         name_pattern=re.compile(r".+"))
    with pytest.raises(MalformedError, match="escapes"):
        read_members(data, anything)


def test_open_zip_reads_a_file_one_member_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "two.zip"
    path.write_bytes(zip_of([("a.txt", b"A"), ("b.txt", b"B" * 100)], zipfile.ZIP_DEFLATED))
    with path.open("rb") as handle, open_zip(handle, POLICY) as reader:
        assert reader.names == ("a.txt", "b.txt")
        assert reader.read("b.txt") == b"B" * 100
        with pytest.raises(KeyError):
            reader.read("c.txt")
