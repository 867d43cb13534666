"""Where a console keeps its state, and the objects read from it (keys, database, audit chain).

One ``ConsoleContext`` per data directory. The server's composition root (``proctor_console.app``),
the CLI and the sync runs build it, so a command run beside a live server (``pair``, ``users add``)
writes to the same database; SQLite's locking and WAL make that safe.

Only those faces import it. The services they build receive the pieces they use (the database,
the audit chain, the ``Centre``, a path), never the context itself: a service that could reach
the whole data directory would again be a locator.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import sqlite_utils
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from exam_core import certs, keys, sync_wire
from exam_core.audit import AuditLog
from exam_core.errors import KeyFileError
from exam_core.jsonio import b64d, loads_strict
from exam_core.keys import HpkePrivateKey
from exam_core.store import open_db
from exam_core.tls import certificate_fingerprint, make_self_signed
from exam_core.timestamps import utc_text_us
from proctor_console.centre import Centre
from proctor_console.errors import Conflict, InvalidRequest, NotFound
from proctor_console.schema import MIGRATIONS
from proctor_console.wording import local_zone_name, valid_zone


@dataclass
class ConsoleContext:
    data: Path
    _db: sqlite_utils.Database | None = field(default=None, repr=False)

    # --- paths ------------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.data / "console.json"

    @property
    def db_path(self) -> Path:
        return self.data / "console.db"

    @property
    def keys_dir(self) -> Path:
        return self.data / "keys"

    @property
    def tls_cert_path(self) -> Path:
        return self.data / "tls" / "console-cert.pem"

    @property
    def tls_key_path(self) -> Path:
        return self.data / "tls" / "console-key.pem"

    @property
    def enrolment_request_path(self) -> Path:
        return self.data / "enrolment-request.json"

    @property
    def centre_certificate_path(self) -> Path:
        return self.data / "centre-certificate.json"

    @property
    def root_certificate_path(self) -> Path:
        return self.data / "root-certificate.json"

    @property
    def packages_dir(self) -> Path:
        return self.data / "packages"

    @property
    def media_dir(self) -> Path:
        return self.data / "media"

    # --- configuration --------------------------------------------------------------------------
    def exists(self) -> bool:
        return self.config_path.exists()

    @cached_property
    def config(self) -> dict[str, Any]:
        if not self.exists():
            raise NotFound(f"{self.data}: not a console data directory (run init first)")
        return json.loads(self.config_path.read_text())

    @property
    def centre_id(self) -> str:
        return self.config["centre_id"]

    @property
    def console_id(self) -> str:
        return self.config["console_id"]

    @property
    def centre_name(self) -> str:
        return self.config["name"]

    @property
    def time_zone(self) -> str:
        """The centre's time zone (IANA name), in which pages and reports show times: console.json's
        ``timezone`` when set, else this machine's own zone (the console runs at the centre)."""
        zone = self.config.get("timezone")
        return zone if isinstance(zone, str) and valid_zone(zone) else local_zone_name()

    @cached_property
    def signing_key(self) -> Ed25519PrivateKey:
        path = self.keys_dir / "centre-signing.key"
        key = keys.load_private_key(path)
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFileError(f"{path}: not an Ed25519 signing key")
        return key

    @cached_property
    def hpke_key(self) -> HpkePrivateKey:
        path = self.keys_dir / "centre-hpke.key"
        key = keys.load_private_key(path)
        if not isinstance(key, HpkePrivateKey):
            raise KeyFileError(f"{path}: not an HPKE key")
        return key

    @cached_property
    def tls_fingerprint(self) -> str:
        return certificate_fingerprint(self.tls_cert_path)

    @cached_property
    def secret_key(self) -> bytes:
        path = self.data / "session-secret"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(32))
        return path.read_bytes()

    @cached_property
    def centre(self) -> Centre:
        """This console's identity and keys, for the services that sign, unwrap or name the centre."""
        return Centre(centre_id=self.centre_id, console_id=self.console_id, name=self.centre_name,
                      signing_key=self.signing_key, hpke_key=self.hpke_key,
                      tls_certificate_pem=self.tls_cert_path.read_text(), tls_fingerprint=self.tls_fingerprint)

    def centre_certificate(self) -> bytes | None:
        path = self.centre_certificate_path
        return path.read_bytes() if path.exists() else None

    def root_public(self) -> Ed25519PublicKey | None:
        """The central body's key, from the installed root certificate (None before install)."""
        if not self.root_certificate_path.exists():
            return None
        data = self.root_certificate_path.read_bytes()
        return certs.verify_root_certificate(data, _claimed_root_key(data)).signing_public

    # --- storage --------------------------------------------------------------------------------
    @property
    def db(self) -> sqlite_utils.Database:
        if self._db is None:
            self._db = open_db(self.db_path, synchronous="FULL", migrations=MIGRATIONS)
        return self._db

    @cached_property
    def audit(self) -> AuditLog:
        """The console's audit chain; once the centre has its signing key, a signed checkpoint is
        written automatically every 50 entries or 60 s (see exam_core.audit), so at most that tail
        is unprotected against truncation. During ``init``, before the key exists, none."""
        has_key = (self.keys_dir / "centre-signing.key").exists()
        return AuditLog(self.db, "audit_log", checkpoint_key=self.signing_key if has_key else None)

    # --- init -----------------------------------------------------------------------------------
    def initialise(self, centre_id: str, name: str) -> dict[str, Any]:
        """Create keys, TLS certificate, database and the enrolment request; refuse to overwrite."""
        if self.exists():
            raise Conflict(f"{self.data} already holds a console (console.json exists)")
        for sub in ("keys", "tls", "packages", "media/thumbnails", "media/snapshots"):
            (self.data / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.keys_dir, 0o700)
        signing_key, hpke_key = keys.generate_signing_key(), keys.generate_hpke_key()
        keys.save_private_key(self.keys_dir / "centre-signing.key", signing_key)
        keys.save_private_key(self.keys_dir / "centre-hpke.key", hpke_key)
        keys.save_public_key(self.keys_dir / "centre-signing.pub", signing_key.public_key(), centre_id)
        keys.save_public_key(self.keys_dir / "centre-hpke.pub", hpke_key.public_key(), centre_id)
        fingerprint = make_self_signed(self.tls_cert_path, self.tls_key_path, f"invigil-console-{centre_id}")
        request = sync_wire.CentreEnrolmentRequest.from_dict({
            "v": sync_wire.SYNC_VERSION, "centre_id": centre_id, "name": name,
            "signing_key": keys.public_key_to_dict(signing_key.public_key()),
            "hpke_key": keys.public_key_to_dict(hpke_key.public_key()),
            "created": utc_text_us(), "tls_fingerprint_sha256": fingerprint,
        })
        self.enrolment_request_path.write_bytes(sync_wire.make_enrolment_request(signing_key, request))
        config = {"centre_id": centre_id, "console_id": centre_id, "name": name, "created": request.created}
        self.config_path.write_text(json.dumps(config, indent=2) + "\n")
        self.__dict__.pop("config", None)
        self.audit.append("console", "console.init", {"centre_id": centre_id, "tls_fingerprint": fingerprint})
        return {**config, "tls_fingerprint_sha256": fingerprint,
                "enrolment_request": str(self.enrolment_request_path),
                "signing_key_id": keys.key_id(signing_key), "hpke_key_id": keys.key_id(hpke_key)}

    def install_certificate(self, data: bytes, root: bytes | None) -> dict[str, Any]:
        """Install the centre certificate (and the central root certificate) after checking both."""
        bundle = _certificate_bundle(data, root)
        root_doc = bundle["root"]
        root_pub = _claimed_root_key(root_doc)
        certs.verify_root_certificate(root_doc, root_pub)
        verified = certs.verify_chain([bundle["centre"]], root_pub, leaf_role=certs.ROLE_CENTRE)[0]
        if verified.cert.subject != self.centre_id:
            raise InvalidRequest(f"certificate is for centre {verified.cert.subject!r}, "
                                 f"this console is {self.centre_id!r}")
        if verified.key_id != keys.key_id(self.signing_key):
            raise InvalidRequest("certificate certifies another signing key than this console's centre key")
        if verified.hpke_public is None or keys.key_id(verified.hpke_public) != keys.key_id(self.hpke_key):
            raise InvalidRequest("certificate certifies another HPKE key than this console's centre key")
        self.root_certificate_path.write_bytes(root_doc)
        self.centre_certificate_path.write_bytes(bundle["centre"])
        self.audit.append("console", "certificate.install", {"serial": verified.cert.serial,
                                                              "not_after": verified.cert.not_after})
        return {"serial": verified.cert.serial, "subject": verified.cert.subject,
                "not_after": verified.cert.not_after, "issuer": verified.cert.issuer_subject}


def _claimed_root_key(document: bytes) -> Ed25519PublicKey:
    """The key a self-signed root certificate names (the caller then verifies the certificate with it)."""
    cert = certs.read_unverified_certificate(document)
    key = keys.public_from_raw(keys.KIND_ED25519, b64d(cert.signing_key, "signing_key", 32))
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidRequest("root certificate: signing_key is not an Ed25519 key")
    return key


def _certificate_bundle(data: bytes, root: bytes | None) -> dict[str, bytes]:
    """Accept a bundle ``{"centre_certificate", "root_certificate"}`` or a bare certificate + root."""
    doc = loads_strict(data)
    if isinstance(doc, dict) and "centre_certificate" in doc:
        def text(name: str) -> bytes:
            value = doc.get(name)
            if isinstance(value, dict):
                return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
            if not isinstance(value, str):
                raise InvalidRequest(f"certificate file: {name} is missing")
            return value.encode()
        return {"centre": text("centre_certificate"),
                "root": root if root is not None else text("root_certificate")}
    if root is None:
        raise InvalidRequest("a bare centre certificate needs --root ROOT_CERTIFICATE_FILE")
    return {"centre": data, "root": root}
