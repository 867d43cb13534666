"""The central body's data directory and everything commands share through ``ctx.obj``.

One :class:`CentralContext` is built by the top-level click group from ``--data DIR`` (and
``--db URL``) and handed to every command (``ctx.obj``). Commands ask it for the database engines,
the keys and the central certificate instead of building paths themselves, so the layout of the
data directory is defined here once::

    DIR/
      bank.db                 item bank, schemes, forms, centres, audit chain (SQLite default)
      results.db              envelopes, scores, decisions (SQLite default)
      keys/
        central-signing.key   Ed25519 private key (0600)
        central-signing.pub
        central-results.key   HPKE private key; never leaves the central body (0600)
        central-results.pub
        central.cert          self-signed central root certificate (signed document)
        body.json             body id and name
      media/AB/ABCDEF...      content-addressed media (SHA-256 of the bytes)
      centres/                issued certificate bundles, revocations.signed (latest signed list)
      packages/               published form packages

With ``--db URL`` or ``INVIGIL_CENTRAL_DB`` the tables live in that database instead (PostgreSQL in
production, see :mod:`item_bank_sync.db`); keys, media and packages stay in the data directory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exam_core import keys
from sqlalchemy import Engine

from exam_core.errors import InvigilError
from item_bank_sync.bank.media import MediaStore
from item_bank_sync.bank.store import ItemBank
from item_bank_sync.db import CentralDb, configured_url, open_central
from item_bank_sync.db.audit import CentralAudit

SIGNING_KEY_FILE = "central-signing.key"
SIGNING_PUB_FILE = "central-signing.pub"
RESULTS_KEY_FILE = "central-results.key"
RESULTS_PUB_FILE = "central-results.pub"
CENTRAL_CERT_FILE = "central.cert"
BODY_FILE = "body.json"


class NotInitialisedError(InvigilError):
    """The data directory has no central body yet (run ``init``), or lacks one of its files."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        data_dir = path.parents[1] if path.parent.name == "keys" else path.parent
        super().__init__(f"{path}: {what} missing; run `python -m item_bank_sync --data {data_dir} init` first")


class UninitialisedDataError(NotInitialisedError):
    """A command would open the stores of a directory no ``init`` made (for example ``--data``
    forgotten): refused before anything is created there, instead of answering from empty stores."""

    def __init__(self, data_dir: Path) -> None:
        InvigilError.__init__(self, f"{data_dir}: not the data directory of a central body (no "
                                    f"keys/{SIGNING_KEY_FILE}, {BODY_FILE}); give --data DIR of an initialised one, "
                                    f"or run `python -m item_bank_sync --data {data_dir} init` first")
        self.path = data_dir


@dataclass
class CentralContext:
    """Paths of one central body's data directory, and lazily opened shared resources."""

    data_dir: Path
    json_output: bool = False
    #: ``--db URL``; None means ``INVIGIL_CENTRAL_DB`` if set, else the data directory's SQLite files.
    db_url: str | None = field(default=None, repr=False)
    #: Refuse to open the stores of a directory ``init`` did not make (the CLI sets it; library
    #: users such as benchmarks build a bank in a bare directory on purpose).
    require_initialised: bool = field(default=False, repr=False)
    _db: CentralDb | None = field(default=None, repr=False)
    # Paths inside data_dir, set in __post_init__ (see the module docstring for the layout).
    bank_db_path: Path = field(init=False)
    keys_dir: Path = field(init=False)
    media_dir: Path = field(init=False)
    centres_dir: Path = field(init=False)
    packages_dir: Path = field(init=False)
    signing_key_path: Path = field(init=False)
    results_key_path: Path = field(init=False)
    central_cert_path: Path = field(init=False)
    body_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)
        self.db_url = configured_url(self.db_url)
        self.bank_db_path = self.data_dir / "bank.db"
        self.keys_dir = self.data_dir / "keys"
        self.media_dir = self.data_dir / "media"
        self.centres_dir = self.data_dir / "centres"
        self.packages_dir = self.data_dir / "packages"
        self.signing_key_path = self.keys_dir / SIGNING_KEY_FILE
        self.results_key_path = self.keys_dir / RESULTS_KEY_FILE
        self.central_cert_path = self.keys_dir / CENTRAL_CERT_FILE
        self.body_path = self.keys_dir / BODY_FILE

    def is_initialised(self) -> bool:
        return self.signing_key_path.exists() and self.body_path.exists()

    def ensure_dirs(self) -> None:
        """Create the data directory tree (keys dir 0700: it holds private keys)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.keys_dir.mkdir(mode=0o700, exist_ok=True)
        for sub in (self.media_dir, self.centres_dir, self.packages_dir):
            sub.mkdir(exist_ok=True)

    # --- resources -----------------------------------------------------------------------------
    def _missing(self, path: Path, what: str) -> NotInitialisedError:
        """The error for a missing file: the whole directory uninitialised, or one file of it."""
        if self.require_initialised and not self.is_initialised():
            return UninitialisedDataError(self.data_dir)
        return NotInitialisedError(path, what)

    def db(self) -> CentralDb:
        """The central body's engines (migrated to the current schema), opened once per context."""
        if self._db is None:
            if self.require_initialised and not self.is_initialised():
                raise UninitialisedDataError(self.data_dir)
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._db = open_central(self.data_dir, self.db_url)
        return self._db

    def open_bank_db(self) -> Engine:
        """The engine of the bank store (item bank, forms, centres, audit chain)."""
        return self.db().bank

    def open_results_db(self) -> Engine:
        """The engine of the results store (envelopes, scores, marking, decisions)."""
        return self.db().results

    def audit_log(self) -> CentralAudit:
        """The central body's audit chain in the bank store; each entry is signed by a checkpoint.

        Why checkpoint every time: the hash chain alone detects a changed entry, but someone who
        can write bank.db could rewrite the whole chain; a checkpoint signed with the central key
        pins the head, and ``verify(public_key)`` checks every one. Before ``init`` there is no
        key, and entries are chained but not yet signed.
        The checkpoint is written in the entry's own transaction (``checkpoint_every=1``).
        """
        signing_key = self.load_signing_key() if self.signing_key_path.exists() else None
        return CentralAudit(self.open_bank_db(), checkpoint_key=signing_key, checkpoint_every=1)

    def item_bank(self) -> ItemBank:
        """The item bank (versions, document control, media) over bank.db."""
        db = self.open_bank_db()
        return ItemBank(db, MediaStore(self.media_dir, db), self.audit_log())

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
            self._db = None

    def body(self) -> dict[str, Any]:
        """``{"body_id", "name"}`` of this central body, as written by ``init``."""
        if not self.body_path.exists():
            raise self._missing(self.body_path, "central body description")
        return json.loads(self.body_path.read_text("utf-8"))

    def load_signing_key(self) -> Ed25519PrivateKey:
        """The central Ed25519 private key (signs manifests, certificates, revocations, receipts)."""
        if not self.signing_key_path.exists():
            raise self._missing(self.signing_key_path, "central signing key")
        key = keys.load_private_key(self.signing_key_path)
        if not isinstance(key, Ed25519PrivateKey):
            raise InvigilError(f"{self.signing_key_path}: not an Ed25519 signing key")
        return key

    def load_results_private_key(self) -> keys.HpkePrivateKey:
        """The central HPKE results private key, which opens sealed response envelopes."""
        if not self.results_key_path.exists():
            raise self._missing(self.results_key_path, "central results key")
        key = keys.load_private_key(self.results_key_path)
        if not isinstance(key, keys.HpkePrivateKey):
            raise InvigilError(f"{self.results_key_path}: not an HPKE results key")
        return key

    def central_certificate(self) -> bytes:
        """The self-signed central root certificate, as the exact signed bytes."""
        if not self.central_cert_path.exists():
            raise self._missing(self.central_cert_path, "central certificate")
        return self.central_cert_path.read_bytes()
