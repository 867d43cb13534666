"""The body's evidence key (``DIR/keys/evidence.key``, 0600): made by ``init`` with the other keys,
never on first use; read by :mod:`item_bank_sync.registry.sealing`, which says what it seals.

Why here, with the body's keys, rather than in the registry: ``init``
(:func:`item_bank_sync.trust.identity.initialise`) makes every key of the body in one place, so a
body initialised any way (the CLI, a test world, the demonstration) has it from the start, and it is
in the first backup of ``keys/``. Why never made on first use: a key found missing later (a restore
that left it out, a wrong directory) would silently be replaced by a new one that opens none of the
documents already sealed, and every new document would be sealed under a key the backups do not
hold; :func:`load_key` refuses instead, saying what to restore.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from exam_core.errors import KeyFileError

KEY_FILE = "evidence.key"
KEY_BYTES = 32


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
