"""The issuer's Ed25519 signing keys for credentials, and the JWKS the public site serves.

Why keys of their own rather than the central signing key: the central key signs packages,
centre certificates and revocation lists that test centres pin; a credential key is published to
the whole world and is rotated on its own schedule (a leaked credential key must not let anyone
sign a form package). Each key's id (the ``kid`` of every credential it signed) is a URI that
dereferences to it: the JWKS address of the public site when it was made, ``#``, its RFC 7638
thumbprint. Rotation makes a new key the active one and keeps the old ones in the
JWKS (retired only in ``issuer_keys``), so every credential ever issued still verifies.

Private halves live in ``DATA/keys/issuer/<thumbprint>.key`` (0600, ``exam_core.keys`` format); the
public halves are rows of ``issuer_keys`` so every server of the body serves the same JWKS.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import insert, select, update

from exam_core import keys
from exam_core.errors import InvigilError
from exam_core.timestamps import format_time, utc_now
from item_bank_sync.certificates.schema import issuer_keys
from item_bank_sync.certificates.settings import load_settings
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import lock, write

ISSUER_KEYS_DIR = "issuer"
JWKS_PATH = "/.well-known/jwks.json"


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def thumbprint(public: Ed25519PublicKey) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256) of an Ed25519 public key."""
    x = b64url(keys.public_bytes(public))
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode()).digest())


def public_jwk(public: Ed25519PublicKey, jwks_url: str) -> dict[str, str]:
    """The OKP/Ed25519 JWK (RFC 8037) of a public key. Its ``kid`` is a URI that dereferences to
    it, as Open Badges 3.0 asks of a VC-JWT's ``kid``: the JWKS address, then ``#`` and the
    key's thumbprint."""
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(keys.public_bytes(public)),
            "kid": f"{jwks_url}#{thumbprint(public)}", "alg": "EdDSA", "use": "sig"}


@dataclass(frozen=True)
class SigningKey:
    """The active issuer key: its id (the JWS ``kid``) and private half."""

    kid: str
    private: Ed25519PrivateKey


class IssuerKeys:
    """The issuer's keys of one central body (files under keys/issuer, public halves in the table)."""

    def __init__(self, ctx: CentralContext) -> None:
        self.ctx = ctx
        self.dir = ctx.keys_dir / ISSUER_KEYS_DIR

    def _path(self, kid: str) -> Path:
        """The private key file, named by the thumbprint that ends the ``kid``."""
        name = kid.rsplit("#", 1)[-1]
        if not name or not all(ch.isalnum() or ch in "-_" for ch in name):
            raise InvigilError(f"issuer key id {kid!r} does not end in a thumbprint")
        return self.dir / f"{name}.key"

    def active(self) -> SigningKey:
        """The newest key not retired; the first one is made on first use (audited as the body's)."""
        c = issuer_keys.c
        with self.ctx.open_bank_db().connect() as conn:
            row = conn.execute(select(c.kid).where(c.retired_at.is_(None)).order_by(c.created_at.desc())).first()
        if row is None:
            return self._new_key(str(self.ctx.body().get("body_id", "central")), first=True)
        return SigningKey(row[0], self._load(row[0]))

    def _load(self, kid: str) -> Ed25519PrivateKey:
        path = self._path(kid)
        if not path.exists():
            raise InvigilError(f"{path}: the private half of issuer key {kid} is missing")
        return keys.load_signing_key(path)

    def rotate(self, by: str) -> SigningKey:
        """Make a new active key; the previous ones are retired but stay in the JWKS. Audited."""
        return self._new_key(by, first=False)

    def _new_key(self, by: str, *, first: bool) -> SigningKey:
        """A new active key; with ``first``, only if there is none yet (two servers asked at once)."""
        private = keys.generate_signing_key()
        jwk = public_jwk(private.public_key(), f"{load_settings(self.ctx).public_url}{JWKS_PATH}")
        now = format_time(utc_now())
        c = issuer_keys.c
        with write(self.ctx.open_bank_db()) as conn:
            lock(conn, "issuer-keys")
            current = conn.execute(select(c.kid).where(c.retired_at.is_(None))).scalar() if first else None
            if current is not None:
                return SigningKey(current, self._load(current))
            self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            keys.save_private_key(self._path(jwk["kid"]), private)
            conn.execute(update(issuer_keys).where(c.retired_at.is_(None)).values(retired_at=now))
            conn.execute(insert(issuer_keys).values(kid=jwk["kid"], public_jwk_json=json.dumps(jwk), created_at=now))
        self.ctx.audit_log().append(by, "certificates.key", {"kid": jwk["kid"]})
        return SigningKey(jwk["kid"], private)

    def jwks(self) -> dict[str, Any]:
        """``{"keys": [...]}``: every key ever used, newest first (RFC 7517 JWK Set)."""
        c = issuer_keys.c
        with self.ctx.open_bank_db().connect() as conn:
            rows = conn.execute(select(c.public_jwk_json).order_by(c.created_at.desc())).all()
        return {"keys": [json.loads(r[0]) for r in rows]}

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        """The public key with this id, or None (for the body's own checks of a credential)."""
        for jwk in self.jwks()["keys"]:
            if jwk["kid"] == kid:
                return keys.ed25519_public_from_raw(base64.urlsafe_b64decode(jwk["x"] + "=="))
        return None
