"""Zip archives read under limits, and the canonical zip layout of form packages.

Every reader first checks the end record (no comment, no trailing bytes, no multi-disk archive,
the central directory where it says) and then one policy over the central directory (member
count, exact names, no duplicates, no directories, no path tricks, declared sizes, compression
method, encryption and other flags, compression ratio ``limits.ZIP_MAX_COMPRESSION_RATIO``):

* ``read_canonical`` accepts only the one byte layout ``write_canonical`` produces (stored members,
  fixed timestamps and attributes, no extra fields or comments). Every byte outside the members'
  data is compared with the layout rebuilt from the central directory, so no metadata byte can be
  changed unnoticed, and member data is returned as zero-copy ``memoryview`` slices. The CRC of
  members is not recomputed: callers authenticate member data cryptographically (signature,
  AES-GCM), which is what makes opening a 20 MB package cost little more than decrypting it.
* ``open_zip`` opens an ordinary zip (stored or deflated), from bytes or a seekable file, and reads
  one member at a time, enforcing the size limits from the headers first and again while
  inflating (so a zip bomb is refused after a bounded amount of work) and the CRC at the end of
  each member; ``read_members`` reads them all. What a reader cannot take (a corrupt, encrypted or
  unsupported member) is a ``MalformedError``, never a ``zipfile`` or ``zlib`` exception.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from types import TracebackType
from typing import BinaryIO
from collections.abc import Iterable

from exam_core import limits
from exam_core.errors import MalformedError, TooLargeError

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_EOCD = struct.Struct("<IHHHHIIH")
_LOCAL_SIG, _CENTRAL_SIG, _EOCD_SIG = 0x04034B50, 0x02014B50, 0x06054B50
_VERSION = 20
_MADE_BY = (3 << 8) | _VERSION           # Unix, zip 2.0
_DOS_DATE, _DOS_TIME = (0 << 9) | (1 << 5) | 1, 0   # 1980-01-01 00:00:00
_EXTERNAL_ATTR = 0o100644 << 16          # regular file, rw-r--r--

#: General-purpose flags a member may carry: deflate options (bits 1-2), data descriptor (bit 3),
#: UTF-8 names (bit 11). Encryption (0, 6, 13) and patched data (5) are refused.
_ALLOWED_FLAGS = 0x0002 | 0x0004 | 0x0008 | 0x0800

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}(/[A-Za-z0-9][A-Za-z0-9._-]{0,127}){0,3}")


@dataclass(frozen=True)
class ZipPolicy:
    """What a reader accepts; ``names`` (exact set) or ``name_pattern`` restricts member names.

    ``skip_directories``: directory entries (which zip tools add and which carry no data) are
    passed over instead of refused; their names are still checked for path tricks.
    """

    max_members: int
    max_member_bytes: int
    max_total_bytes: int
    names: frozenset[str] | None = None
    required: frozenset[str] = frozenset()
    name_pattern: re.Pattern[str] = _NAME_RE
    methods: frozenset[int] = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
    max_ratio: int = limits.ZIP_MAX_COMPRESSION_RATIO
    skip_directories: bool = False


def _check_eocd(stream: BinaryIO, policy: ZipPolicy) -> int:
    """Read the end record (no archive comment allowed) before zipfile parses anything; returns
    the number of members it declares."""
    size = stream.seek(0, io.SEEK_END)
    if size < _EOCD.size:
        raise MalformedError("not a zip archive (too short)")
    stream.seek(size - _EOCD.size)
    sig, disk, cd_disk, here, total, cd_size, cd_offset, comment = _EOCD.unpack(stream.read(_EOCD.size))
    if sig != _EOCD_SIG or comment != 0:
        raise MalformedError("zip must end with an end-of-central-directory record and no comment")
    if disk or cd_disk or here != total:
        raise MalformedError("multi-disk zip archives are not accepted")
    if total > policy.max_members:
        raise TooLargeError(f"zip declares {total} members; at most {policy.max_members} accepted")
    if cd_offset + cd_size != size - _EOCD.size:
        raise MalformedError("zip central directory is not where the end record says")
    return int(total)


def _check_name(name: str, is_dir: bool, policy: ZipPolicy) -> None:
    path = name.rstrip("/") if is_dir else name
    if path.startswith("/") or ".." in path.split("/"):
        raise MalformedError(f"zip member {name!r} escapes the archive (absolute path or ..)")
    if not policy.name_pattern.fullmatch(path):
        raise MalformedError(f"zip member name {name!r} is not allowed")


def _check_infos(infos: list[zipfile.ZipInfo], policy: ZipPolicy) -> None:
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if name in seen:
            raise MalformedError(f"duplicate zip member {name!r}")
        seen.add(name)
        is_dir = name.endswith("/") or info.is_dir()
        if is_dir and not policy.skip_directories:
            raise MalformedError(f"zip member {name!r} is a directory")
        _check_name(name, is_dir, policy)
        if is_dir:
            if info.file_size:
                raise MalformedError(f"zip directory entry {name!r} declares data")
            continue
        if policy.names is not None and name not in policy.names:
            raise MalformedError(f"unexpected zip member {name!r}")
        if info.compress_type not in policy.methods:
            raise MalformedError(f"zip member {name!r} uses compression method {info.compress_type}")
        if info.flag_bits & ~_ALLOWED_FLAGS:
            raise MalformedError(f"zip member {name!r} uses flags {info.flag_bits:#06x} "
                                 f"(encryption, patching or other unsupported features)")
        if info.file_size > policy.max_member_bytes:
            raise TooLargeError(f"zip member {name!r} declares {info.file_size} bytes; "
                                f"at most {policy.max_member_bytes}")
        if info.file_size > max(info.compress_size, 1) * policy.max_ratio:
            raise TooLargeError(f"zip member {name!r} expands more than {policy.max_ratio}x its compressed size "
                                "(compression ratio of a zip bomb)")
        total += info.file_size
        if total > policy.max_total_bytes:
            raise TooLargeError(f"zip members declare more than {policy.max_total_bytes} bytes in all")
    missing = policy.required - seen
    if missing:
        raise MalformedError(f"zip lacks member(s) {', '.join(sorted(missing))}")


def _open(source: bytes | memoryview | BinaryIO, policy: ZipPolicy) -> zipfile.ZipFile:
    stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else source
    declared = _check_eocd(stream, policy)
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, struct.error, NotImplementedError) as exc:
        raise MalformedError(f"not a valid zip archive: {exc}") from None
    try:
        if len(archive.infolist()) != declared:  # e.g. a length field that swallows the next entry
            raise MalformedError(f"zip end record declares {declared} members; the directory holds "
                                 f"{len(archive.infolist())}")
        _check_infos(archive.infolist(), policy)
    except BaseException:
        archive.close()
        raise
    return archive


class ZipReader:
    """An ordinary zip whose end record and central directory passed a :class:`ZipPolicy`.

    Members are read one at a time (an importer needs only the ones a manifest names), each under
    the declared size while inflating and with its CRC checked; directory entries are not members.
    Close it (or use it as a context manager) to release the archive.
    """

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self._archive = archive
        self._infos = {i.filename: i for i in archive.infolist() if not i.is_dir()}

    @property
    def names(self) -> tuple[str, ...]:
        """File members in central-directory order."""
        return tuple(self._infos)

    def read(self, name: str) -> bytes:
        """One member's bytes; ``KeyError`` for a name the archive does not hold."""
        return _read_one(self._archive, self._infos[name])

    def close(self) -> None:
        self._archive.close()

    def __enter__(self) -> ZipReader:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


def open_zip(source: bytes | BinaryIO, policy: ZipPolicy) -> ZipReader:
    """Check an ordinary zip (bytes, or a seekable binary file) under ``policy`` and open it."""
    return ZipReader(_open(source, policy))


def read_members(data: bytes, policy: ZipPolicy) -> dict[str, bytes]:
    """Read every member of an ordinary zip under ``policy``; limits are enforced while inflating."""
    with open_zip(data, policy) as reader:
        return {name: reader.read(name) for name in reader.names}


def _read_one(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    chunks, size = [], 0
    try:
        with archive.open(info) as handle:
            while chunk := handle.read(1 << 20):
                size += len(chunk)
                if size > info.file_size:
                    raise TooLargeError(f"zip member {info.filename!r} inflates beyond its declared size")
                chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, struct.error, NotImplementedError,
            RuntimeError) as exc:  # RuntimeError: zipfile's "password required" for an encrypted member
        raise MalformedError(f"zip member {info.filename!r} is corrupt or unsupported: {exc}") from None
    if size != info.file_size:
        raise MalformedError(f"zip member {info.filename!r} is shorter than declared")
    return b"".join(chunks)


# ----- canonical layout --------------------------------------------------------------------------

def _layout(members: Iterable[tuple[str, int, int]]) -> list[bytes | tuple[str, int]]:
    """Segments of the canonical zip: metadata bytes, and (name, length) placeholders for data."""
    segments: list[bytes | tuple[str, int]] = []
    central, offset = [], 0
    for name, size, crc in members:
        encoded = name.encode("ascii")
        local = _LOCAL.pack(_LOCAL_SIG, _VERSION, 0, zipfile.ZIP_STORED, _DOS_TIME, _DOS_DATE,
                            crc, size, size, len(encoded), 0) + encoded
        segments += [local, (name, size)]
        central.append(_CENTRAL.pack(_CENTRAL_SIG, _MADE_BY, _VERSION, 0, zipfile.ZIP_STORED, _DOS_TIME,
                                     _DOS_DATE, crc, size, size, len(encoded), 0, 0, 0, 0,
                                     _EXTERNAL_ATTR, offset) + encoded)
        offset += len(local) + size
    directory = b"".join(central)
    segments.append(directory + _EOCD.pack(_EOCD_SIG, 0, 0, len(central), len(central), len(directory), offset, 0))
    return segments


def write_canonical(members: list[tuple[str, bytes]]) -> bytes:
    """A stored zip with fixed metadata: the same members always give the same bytes."""
    data = dict(members)
    segments = _layout((name, len(body), zlib.crc32(body)) for name, body in members)
    return b"".join(s if isinstance(s, bytes) else data[s[0]] for s in segments)


def read_canonical(data: bytes, policy: ZipPolicy) -> dict[str, memoryview]:
    """Members of a zip that must be byte-for-byte in ``write_canonical``'s layout."""
    archive = _open(data, policy)
    infos = archive.infolist()
    if any(i.compress_type != zipfile.ZIP_STORED for i in infos):
        raise MalformedError("form package members must be stored, not compressed")
    view = memoryview(data)
    members: dict[str, memoryview] = {}
    offset = 0
    for segment in _layout((i.filename, i.file_size, i.CRC) for i in infos):
        if isinstance(segment, bytes):
            if view[offset:offset + len(segment)] != segment:
                raise MalformedError(f"zip metadata at byte {offset} is not in the canonical layout")
            offset += len(segment)
        else:
            name, size = segment
            members[name] = view[offset:offset + size]
            offset += size
    if offset != len(data):
        raise MalformedError("zip has bytes outside the canonical layout")
    return members
