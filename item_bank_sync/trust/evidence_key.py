"""The body's evidence key (``DIR/keys/evidence.key``, 0600): made by ``init`` with the other keys,
never on first use; read by :mod:`item_bank_sync.registry.sealing`, which says what it seals.

Why here, with the body's keys, rather than in the registry: ``init``
(:func:`item_bank_sync.trust.identity.initialise`) makes every key of the body in one place, so a
body initialised any way (the CLI, a test world, the demonstration) has it from the start, and it is
in the first backup of ``keys/``. Why never made on first use: a key found missing later (a restore
that left it out, a wrong directory) would silently be replaced by a new one that opens none of the
documents already sealed, and every new document would be sealed under a key the backups do not
hold; :func:`load_key` refuses instead, saying what to restore.

A body initialised before ``init`` made this key has none and is refused. :func:`create_missing`
(``body create-evidence-key --by NAME``) is the one safe way to make it afterwards: only when no
sealed document exists anywhere (a new key would open none of them), otherwise it refuses and the
key must be restored from the backup. No document can be sealed while the key is missing (sealing
needs it), so the check cannot race with a new document.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Column, func, select

from exam_core.errors import InvigilError, KeyFileError
from item_bank_sync.context import CentralContext
from item_bank_sync.db.metadata import BANK, store_of

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


class EvidenceKeyRefused(InvigilError):
    """The evidence key cannot be made now: it exists, or documents sealed under the lost one exist."""


def sealed_documents(ctx: CentralContext, columns: list[Column[bytes]]) -> dict[str, int]:
    """How many rows hold a sealed document in each of ``columns`` ("table.column": count)."""
    counts = {}
    for column in columns:
        table = column.table
        engine = ctx.open_bank_db() if store_of(table) == BANK else ctx.open_results_db()
        with engine.connect() as conn:
            found = conn.execute(select(func.count()).select_from(table).where(column.is_not(None))).scalar_one()
        counts[f"{table.name}.{column.name}"] = int(found)
    return counts


def create_missing(ctx: CentralContext, by: str, columns: list[Column[bytes]]) -> dict[str, int]:
    """Make the missing evidence key of a body initialised before ``init`` made it, only when none of
    ``columns`` (every column that holds documents sealed with the key) holds a document; audited
    as ``body.evidence-key``. Returns the counts checked (all zero)."""
    if not columns:
        raise EvidenceKeyRefused("no sealed-document columns were given to check; refusing to make a key blind")
    path = key_path(ctx.keys_dir)
    if path.exists():
        raise EvidenceKeyRefused(f"{path} exists already; it is never replaced")
    counts = sealed_documents(ctx, columns)
    found = {name: n for name, n in counts.items() if n}
    if found:
        listed = ", ".join(f"{n} in {name}" for name, n in sorted(found.items()))
        raise EvidenceKeyRefused(f"documents sealed with the body's evidence key exist ({listed}); a new key would "
                                 f"open none of them: restore {KEY_FILE} from the backup of the body's keys")
    create_key(ctx.keys_dir)
    ctx.audit_log().append(by, "body.evidence-key", {"created": True, "checked": counts})
    return counts


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
    """The key, read once: :func:`_create` links only a complete file into place, so a short one is
    damaged, not half-written (no point waiting for it to grow)."""
    if path.stat().st_mode & 0o077:
        raise KeyFileError(f"{path}: readable by others; chmod 600")
    data = path.read_bytes()
    if len(data) != KEY_BYTES:
        raise KeyFileError(f"{path}: not a {KEY_BYTES}-byte evidence key")
    return data
