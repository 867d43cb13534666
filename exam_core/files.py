"""Durable file writes: a file that a crash leaves either old or new, never half written.

Every tier writes files that must survive power loss (key files, packages, bundles on removable
media, pairing data, the hardening restore journal). The recipe is always the same: write a
temporary file beside the target, fsync it, rename it over the target, fsync the directory so the
rename itself is durable. It lives here once because the tiers cannot import each other.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

_DEFAULT_MODE = 0o666  # narrowed by the process umask, like ``open(path, "wb")``


def fsync_dir(path: Path) -> None:
    """Make a rename or creation inside ``path`` durable (POSIX keeps directory entries separately)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` durably and atomically.

    ``mode`` is applied exactly (e.g. ``0o600`` for private keys) before the file gets its name, so
    a secret is never visible under the target name with wider permissions; ``None`` leaves the
    umask default. The temporary file is removed if anything fails.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _DEFAULT_MODE if mode is None else mode)
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
