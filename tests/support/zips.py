"""Hostile zip archives for tests, built with zipfile itself so they are what an attacker could send."""

from __future__ import annotations

import io
import zipfile


def zip_of(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, body in members:
            archive.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), body, compress_type=method)
    return buffer.getvalue()


def zip_bomb(name: str, size: int) -> bytes:
    """One deflated member of ``size`` zero bytes: a few kB on the wire, ``size`` when inflated."""
    return zip_of([(name, b"\0" * size)], zipfile.ZIP_DEFLATED)


def lying_zip_bomb(name: str, real_size: int, declared_size: int) -> bytes:
    """A deflated member whose headers declare ``declared_size`` but that inflates to ``real_size``."""
    data = bytearray(zip_bomb(name, real_size))
    real = real_size.to_bytes(4, "little")
    fake = declared_size.to_bytes(4, "little")
    # Uncompressed size is in the local header at offset 22 and in the central directory entry.
    data[22:26] = fake
    central = data.rfind(b"PK\x01\x02")
    assert data[central + 24:central + 28] == real
    data[central + 24:central + 28] = fake
    return bytes(data)
