"""What the sync API and intake read from the central body's data directory.

One :class:`SyncStore` per server process: the central keys are loaded once, and so are the
data layer's engines (one connection pool per process, shared by the server's threads; each
request checks a connection out per transaction). Centre certificates are re-read from the bank
on each request, so a revocation by the item-bank administrator takes effect at the next request
without a restart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from exam_core import certs
from exam_core.certs import VerifiedCertificate
from item_bank_sync.bank.schema import packages
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import fetch_all, fetch_one
from item_bank_sync.results.intake import Intake
from item_bank_sync.sittings.publish import rosters_for
from item_bank_sync.trust.centres import REVOCATIONS_FILE, enrolled_centre_certificate
from item_bank_sync.trust.identity import CentralKeys


class SyncStore:
    """The data directory as the API and bundle import read it (see the module doc)."""

    def __init__(self, data_dir: Path, keys: CentralKeys | None = None, db_url: str | None = None) -> None:
        """``db_url`` as ``--db`` (None: ``INVIGIL_CENTRAL_DB``, else the data directory's SQLite files)."""
        self.context = CentralContext(data_dir=Path(data_dir), db_url=db_url)
        self.keys = keys or CentralKeys.load(self.context)

    def bank_db(self) -> Engine:
        return self.context.open_bank_db()

    def results_db(self) -> Engine:
        return self.context.open_results_db()

    def close(self) -> None:
        """Close the pooled connections (the server stopped)."""
        self.context.close()

    def intake(self) -> Intake:
        return Intake(self.bank_db(), self.results_db(), self.keys, self.revocations_bytes_list())

    # --- centres --------------------------------------------------------------------------------
    def centre_certificate(self, centre_id: str) -> VerifiedCertificate:
        """The enrolled centre's certificate, verified against the central key; refused if revoked."""
        return enrolled_centre_certificate(self.bank_db(), self.keys.root_public, centre_id)

    # --- packages -------------------------------------------------------------------------------
    def packages_for(self, centre_id: str) -> list[dict[str, Any]]:
        p = packages.c
        rows = fetch_all(self.bank_db(), select(p.package_id, p.form_id, p.form_version, p.opens, p.closes, p.sha256,
                                                p.path).where(p.centre_id == centre_id).order_by(p.package_id))
        out = []
        for row in (r._mapping for r in rows):
            path = self._package_file(row["path"])
            if path is None:
                continue
            out.append({k: row[k] for k in ("package_id", "form_id", "form_version", "opens", "closes", "sha256")}
                       | {"size": path.stat().st_size})
        return out

    def package_path(self, centre_id: str, package_id: str) -> Path | None:
        row = fetch_one(self.bank_db(), select(packages.c.path).where(packages.c.centre_id == centre_id,
                                                                     packages.c.package_id == package_id))
        return None if row is None else self._package_file(row[0])

    def _package_file(self, stored: str) -> Path | None:
        """The package file, only if it lies inside the packages directory (no path tricks)."""
        base = self.context.packages_dir.resolve()
        path = (self.context.data_dir / stored).resolve() if not Path(stored).is_absolute() else Path(stored).resolve()
        if base not in path.parents or not path.is_file():
            return None
        return path

    # --- session rosters --------------------------------------------------------------------------
    def rosters_for(self, centre_id: str) -> list[bytes]:
        """The signed rosters of the centre's sessions still to come (``sessions publish``)."""
        return rosters_for(self.context, centre_id)

    # --- revocations ----------------------------------------------------------------------------
    def revocation_list(self) -> bytes:
        """The signed revocation list the item bank published (an empty signed list if none yet)."""
        path = self.context.centres_dir / REVOCATIONS_FILE
        if path.is_file():
            return path.read_bytes()
        return certs.issue_revocation_list(self.keys.signing, self.context.body()["body_id"], [], sequence=0)

    def revocations_bytes_list(self) -> list[bytes]:
        path = self.context.centres_dir / REVOCATIONS_FILE
        return [path.read_bytes()] if path.is_file() else []
