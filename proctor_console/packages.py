"""Form packages from the central body (the ``packages`` table and the files under ``packages/``).

A package is accepted only when its manifest signature verifies against the central body's key
(from the installed root certificate), its ``content.bin`` has the SHA-256 that manifest states
(format v2: a corrupted copy is refused here, not at the kiosk when the exam starts), and it is
addressed to this centre; it is then copied under ``packages/`` and listed. The same import serves
the CLI, the admin page, network sync and air-gap bundles, and records who imported it.

A stored copy that no longer verifies (changed on disk, or imported before the digest was signed)
never blocks the genuine one: a package whose signed digest checks out replaces it (audited as
``package.replace``), and sync does not count a damaged copy as held, so it fetches the package
again. Only two *valid* packages under one id conflict.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from collections.abc import Callable

import sqlite_utils
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exam_core import package as form_package
from exam_core.audit import AuditLog
from exam_core.errors import InvigilError
from exam_core.files import write_atomic
from exam_core.model import AccommodationPolicy
from exam_core.store import immediate_transaction
from exam_core.timestamps import utc_text_us
from proctor_console.errors import Conflict, InvalidRequest, NotFound


class Packages:
    def __init__(self, db: sqlite_utils.Database, audit: AuditLog, data_dir: Path, centre_id: str,
                 root_public: Callable[[], Ed25519PublicKey | None]) -> None:
        self.db = db
        self.audit = audit
        self.data_dir = data_dir
        self.centre_id = centre_id
        #: The central body's key, read at each use: the root certificate may be installed later.
        self.root_public = root_public

    def import_package(self, data: bytes, source: str, by: str) -> dict[str, Any]:
        package = self._read(data, source)
        manifest = package.manifest
        if manifest.centre_id != self.centre_id:
            raise InvalidRequest(f"{source}: package is for centre {manifest.centre_id!r}, not {self.centre_id!r}")
        digest = hashlib.sha256(data).hexdigest()
        existing = self.db.execute("SELECT sha256 FROM packages WHERE package_id = ?",
                                   [manifest.package_id]).fetchone()
        replaced = None
        if existing and existing[0] != digest:
            replaced = self._damage(manifest.package_id)
            if replaced is None:
                raise Conflict(f"{source}: a different package with id {manifest.package_id} is already imported")
        rel = f"packages/{manifest.package_id}.zip"
        write_atomic(self.data_dir / rel, data)
        row = [json.dumps(manifest.to_dict()), rel, digest, len(data), utc_text_us(), by, manifest.package_id]
        with immediate_transaction(self.db) as conn:
            conn.execute("INSERT OR IGNORE INTO packages (manifest, path, sha256, size, imported_at, imported_by,"
                         " package_id) VALUES (?,?,?,?,?,?,?)", row)
            if replaced is not None:
                conn.execute("UPDATE packages SET manifest = ?, path = ?, sha256 = ?, size = ?, imported_at = ?,"
                             " imported_by = ? WHERE package_id = ?", row)
        if replaced is not None:
            self.audit.append(by, "package.replace", {"package_id": manifest.package_id, "sha256": digest,
                                                      "replaced_sha256": existing[0], "because": replaced})
        else:
            self.audit.append(by, "package.import", {"package_id": manifest.package_id, "sha256": digest})
        return {**manifest.to_dict(), "sha256": digest, "duplicate": existing is not None and replaced is None,
                **({"replaced": replaced} if replaced is not None else {})}

    def _damage(self, package_id: str) -> str | None:
        """Why the stored copy of ``package_id`` cannot be used (None: it is a valid package).

        Judged from the file itself: its hash against the one recorded at import, then a full
        read (manifest signature, signed content digest), so a copy corrupted on disk, or one
        imported before packages signed their content, gives way to a genuine one."""
        stored = self.stored_file(package_id)
        if stored is None:
            return "not stored"
        path, sha256, _ = stored
        try:
            data = path.read_bytes()
        except OSError as exc:
            return f"stored file unreadable ({type(exc).__name__})"
        if hashlib.sha256(data).hexdigest() != sha256:
            return "stored file changed since import"
        try:
            form_package.read_form_package(data, self._root("no centre certificate installed"))
        except InvigilError as exc:
            return f"stored copy does not verify: {exc}"[:300]
        return None

    def listing(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT manifest, sha256, size, imported_at FROM packages"
                               " ORDER BY package_id").fetchall()
        return [{**json.loads(m), "sha256": s, "size": n, "imported_at": t} for m, s, n, t in rows]

    def accommodation_policies(self) -> dict[str, list[tuple[str, AccommodationPolicy]]]:
        """``{scheme_id: [(package_id, policy), ...]}``: the scheme accommodation policy each package
        held carries (signed by the central body; packages made before it travelled carry none)."""
        out: dict[str, list[tuple[str, AccommodationPolicy]]] = {}
        for package_id, manifest in self.db.execute("SELECT package_id, manifest FROM packages ORDER BY package_id"):
            fields = json.loads(manifest)
            if fields.get("accommodation_policy") is not None:
                policy = AccommodationPolicy.from_dict(fields["accommodation_policy"], "accommodation_policy")
                out.setdefault(fields["scheme_id"], []).append((package_id, policy))
        return out

    def held_hashes(self) -> set[str]:
        """SHA-256 of every package held intact (sync skips those). A stored file that no longer
        has the hash recorded at import is not held: sync fetches the genuine copy again."""
        rows = self.db.execute("SELECT path, sha256 FROM packages").fetchall()
        return {sha256 for path, sha256 in rows if _file_sha256(self.data_dir / path) == sha256}

    def manifest(self, package_id: str) -> tuple[dict[str, Any], str] | None:
        """The stored manifest and file hash of a package, or None (a session is a package id)."""
        row = self.db.execute("SELECT manifest, sha256 FROM packages WHERE package_id = ?", [package_id]).fetchone()
        return (json.loads(row[0]), row[1]) if row else None

    def stored_file(self, package_id: str) -> tuple[Path, str, int] | None:
        """``(path, sha256, size)`` of a package's file (read in chunks by kiosks), or None."""
        row = self.db.execute("SELECT path, sha256, size FROM packages WHERE package_id = ?", [package_id]).fetchone()
        return (self.data_dir / row[0], row[1], row[2]) if row else None

    def load(self, package_id: str) -> tuple[form_package.FormPackage, dict[str, Any]]:
        """The package, re-verified from its file (a file changed since import is refused)."""
        stored = self.stored_file(package_id)
        if stored is None:
            raise NotFound(f"package {package_id} is not imported")
        path, sha256, size = stored
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise Conflict(f"package {package_id}: stored file changed since import")
        package = form_package.read_form_package(data, self._root("no centre certificate installed"))
        return package, {"sha256": sha256, "size": size}

    def _read(self, data: bytes, source: str) -> form_package.FormPackage:
        root = self._root("install the centre certificate first (certificate install FILE): "
                          "packages are verified against the central body's key")
        try:
            return form_package.read_form_package(data, root)
        except InvigilError as exc:
            raise InvalidRequest(f"{source}: {exc}") from None

    def _root(self, missing: str) -> Ed25519PublicKey:
        root = self.root_public()
        if root is None:
            raise Conflict(missing)
        return root


def _file_sha256(path: Path) -> str | None:
    """The file's SHA-256 read in chunks (packages reach 512 MiB), or None if it cannot be read."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()
