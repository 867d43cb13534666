"""Import through the staff pages: an uploaded file is planned first (the report ``import --dry-run``
prints), then imported once the person confirms.

Why two steps on a stored file: the report is what a person approves, so the import that follows
must read the very bytes the report was made from. The upload is kept under ``DATA/uploads/ID``
with its SHA-256, owner and options; the confirm step re-checks all three, imports through the
same :func:`~item_bank_sync.bank.import_run.run_import` as the CLI (so the audit entry and actor are
the CLI's ``import --by NAME``), and removes the upload. The file keeps its own (cleaned) name,
because an item's source key is its file name: re-importing it later from the CLI is then a no-op.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from exam_core.errors import ValidationError
from exam_core.files import write_atomic
from exam_core.limits import MIB
from exam_core.timestamps import utc_text
from item_bank_sync.bank.import_run import ImportReport, run_import
from item_bank_sync.bank.store import CLASH_POLICIES, ItemBank
from item_bank_sync.items.importer import NAMESPACE_RE, ImportOptions

#: Largest upload: one item file, or a content package of many.
MAX_UPLOAD_BYTES = 50 * MIB
SUFFIXES = (".xml", ".yaml", ".yml", ".zip")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
_CHUNK = 1024 * 1024
#: An upload not confirmed or discarded within this time is removed by the next upload.
MAX_AGE_SECONDS = 24 * 3600
#: The folder an upload's file is kept in: a single file's source key is ``uploaded/NAME``.
FILES = "uploaded"


@dataclass(frozen=True)
class Upload:
    """One stored upload waiting for its confirm step."""

    upload_id: str
    folder: Path
    path: Path
    owner: str
    sha256: str
    options: ImportOptions
    on_clash: str


def clean_name(filename: str) -> str:
    """The uploaded file's own name, reduced to letters, digits, ``.``, ``_`` and ``-``; refused
    when nothing sensible is left or it is not an item file or a package."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", (filename or "").replace("\\", "/").rsplit("/", 1)[-1]).lstrip("._-")
    if not _NAME.match(base) or not base.lower().endswith(SUFFIXES):
        raise ValidationError("file", f"must be a QTI or YAML item file or a .zip package ({', '.join(SUFFIXES)})")
    return base


def read_options(area: str, namespace: str, on_clash: str, assume_match_correct: bool) -> tuple[ImportOptions, str]:
    """The import options as the form sends them, checked as the CLI checks them."""
    namespace, area = namespace.strip(), area.strip()
    if namespace and not NAMESPACE_RE.match(namespace):
        raise ValidationError("namespace", "letters, digits, _ or - (at most 32, starting with a letter or _)")
    if on_clash not in CLASH_POLICIES:
        raise ValidationError("on_clash", f"use one of {', '.join(CLASH_POLICIES)}")
    if len(area) > 200:
        raise ValidationError("area", "at most 200 characters")
    return ImportOptions(area=area or None, assume_match_correct=assume_match_correct, namespace=namespace), on_clash


def save(root: Path, filename: str, stream: IO[bytes], owner: str, options: ImportOptions,
         on_clash: str) -> Upload:
    """Store an upload (at most :data:`MAX_UPLOAD_BYTES`) with its hash, owner and options."""
    name = clean_name(filename)
    sweep(root)
    upload_id = secrets.token_urlsafe(16)
    folder = root / upload_id
    folder.mkdir(parents=True, mode=0o700)
    (folder / FILES).mkdir(mode=0o700)
    digest, size = hashlib.sha256(), 0
    try:
        with open(folder / FILES / name, "xb") as out:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise ValidationError("file", f"larger than {MAX_UPLOAD_BYTES // MIB} MiB")
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise ValidationError("file", "is empty")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    meta: dict[str, Any] = {
        "file": name, "owner": owner, "sha256": digest.hexdigest(), "at": utc_text(), "on_clash": on_clash,
        "area": options.area, "namespace": options.namespace, "assume_match_correct": options.assume_match_correct}
    write_atomic(folder / "upload.json", json.dumps(meta).encode(), 0o600)
    return Upload(upload_id, folder, folder / FILES / name, owner, meta["sha256"], options, on_clash)


def sweep(root: Path, max_age: float = MAX_AGE_SECONDS) -> int:
    """Remove uploads left for longer than ``max_age`` (a report read and never confirmed); returns how many."""
    removed, now = 0, time.time()
    for folder in root.iterdir() if root.is_dir() else ():
        if _UPLOAD_ID.match(folder.name) and now - folder.stat().st_mtime > max_age:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def load(root: Path, upload_id: str, owner: str) -> Upload:
    """An upload for its confirm step: only its owner's, and only with its bytes unchanged."""
    folder = root / upload_id
    if not _UPLOAD_ID.match(upload_id) or not (folder / "upload.json").is_file():
        raise ValidationError("upload", "no such upload (it may have been imported or discarded already)")
    meta = json.loads((folder / "upload.json").read_text())
    if meta["owner"] != owner:
        raise ValidationError("upload", "was made by another person; upload the file yourself")
    path = folder / FILES / meta["file"]
    if hashlib.sha256(path.read_bytes()).hexdigest() != meta["sha256"]:
        raise ValidationError("upload", "changed since its report was made; upload it again")
    options = ImportOptions(area=meta["area"], assume_match_correct=meta["assume_match_correct"],
                            namespace=meta["namespace"])
    return Upload(upload_id, folder, path, owner, meta["sha256"], options, meta["on_clash"])


def plan(bank: ItemBank, upload: Upload) -> ImportReport:
    """The report of ``import --dry-run`` for this upload: nothing changes."""
    return run_import(bank, [upload.path], upload.options, upload.owner, dry_run=True, on_clash=upload.on_clash)


def confirm(bank: ItemBank, upload: Upload, actor: str) -> ImportReport:
    """Import the upload as the CLI would (same audit entry, same actor), then remove it."""
    report = run_import(bank, [upload.path], upload.options, actor, on_clash=upload.on_clash)
    discard(upload)
    return report


def discard(upload: Upload) -> None:
    shutil.rmtree(upload.folder, ignore_errors=True)
