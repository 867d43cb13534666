"""Content-addressed media: images that items show, stored once by the SHA-256 of their bytes.

The bytes live in ``DIR/media/AB/ABCDEF...`` and a row in the bank store's ``media`` table records
the type and size. What may be stored was decided at import (:mod:`item_bank_sync.items.media`);
here the bytes are checked against their hash on the way in and on the way out, so a file changed
on disk is never delivered as the reviewed one.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import Engine

from exam_core.files import write_atomic
from exam_core.model import MediaRef
from exam_core.timestamps import utc_text
from item_bank_sync.bank.schema import media
from item_bank_sync.db.sql import insert_ignore, write


class MediaStore:
    """The media directory plus its table; ``put`` is idempotent (same bytes, same file)."""

    def __init__(self, root: Path, db: Engine) -> None:
        self.root = Path(root)
        self.db = db

    def path_of(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, ref: MediaRef, data: bytes) -> None:
        """Store the bytes (atomically, fsynced) and record the row, unless already present."""
        if hashlib.sha256(data).hexdigest() != ref.sha256:
            raise ValueError("media bytes do not match their reference")
        target = self.path_of(ref.sha256)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(target, data, 0o600)
        with write(self.db) as conn:
            insert_ignore(conn, media, {"sha256": ref.sha256, "mime": ref.mime, "name": ref.name, "size": len(data),
                                        "width": ref.width, "height": ref.height, "created_at": utc_text()})

    def get(self, sha256: str) -> bytes:
        """The bytes of one media file, checked against their hash (a changed file is refused)."""
        data = self.path_of(sha256).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ValueError(f"media {sha256} on disk does not match its hash")
        return data
