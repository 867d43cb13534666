"""The central body's identity: its Ed25519 signing key, HPKE results key and root certificate.

``init`` creates them once. The signing key signs form manifests, centre certificates,
revocation lists and receipts; the results key opens sealed response envelopes and never leaves
this directory; the self-signed root certificate (role ``central``) carries the results public
key, so every centre and kiosk seals responses to the key the root vouches for.
:class:`CentralKeys` is that identity loaded once, as intake and the sync API use it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from exam_core import certs, keys
from exam_core.errors import InvigilError
from exam_core.keys import HpkePrivateKey
from exam_core.model import IDENTIFIER_RE
from item_bank_sync.context import RESULTS_PUB_FILE, SIGNING_PUB_FILE, CentralContext


class AlreadyInitialisedError(InvigilError):
    """``init`` refuses to replace existing keys: every issued certificate depends on them."""


@dataclass(frozen=True)
class CentralKeys:
    """The central body's keys as intake and the API need them."""

    signing: Ed25519PrivateKey
    results: HpkePrivateKey
    issuer: str

    @property
    def root_public(self) -> Ed25519PublicKey:
        return self.signing.public_key()

    @classmethod
    def load(cls, context: CentralContext) -> CentralKeys:
        return cls(context.load_signing_key(), context.load_results_private_key(), context.body()["body_id"])


def initialise(ctx: CentralContext, body_id: str, name: str, suite: str = keys.DEFAULT_SUITE) -> dict:
    """Create keys, root certificate and bank.db; returns a summary (key ids, paths)."""
    if not IDENTIFIER_RE.match(body_id):
        raise InvigilError(f"--body-id {body_id!r}: must be an identifier (letters, digits, _ . -)")
    if not name.strip() or len(name) > 300:
        raise InvigilError("--name must be 1-300 characters")
    if ctx.signing_key_path.exists() or ctx.results_key_path.exists():
        raise AlreadyInitialisedError(f"{ctx.keys_dir}: keys exist already; refusing to replace them")
    ctx.ensure_dirs()
    os.chmod(ctx.keys_dir, 0o700)
    signing_key = keys.generate_signing_key()
    results_key = keys.generate_hpke_key(suite)
    keys.save_private_key(ctx.signing_key_path, signing_key)
    keys.save_private_key(ctx.results_key_path, results_key)
    keys.save_public_key(ctx.keys_dir / SIGNING_PUB_FILE, signing_key, label=f"{body_id} signing")
    keys.save_public_key(ctx.keys_dir / RESULTS_PUB_FILE, results_key, label=f"{body_id} results")
    root_cert = certs.make_root_certificate(signing_key, body_id, results_key.public_key())
    ctx.central_cert_path.write_bytes(root_cert)
    ctx.body_path.write_text(json.dumps({"body_id": body_id, "name": name}, indent=2) + "\n", "utf-8")
    ctx.open_bank_db()
    ctx.audit_log().append(body_id, "central.init", {"body_id": body_id, "signing_key_id": keys.key_id(signing_key),
                                                     "results_key_id": keys.key_id(results_key), "suite": suite})
    return {"body_id": body_id, "name": name, "data_dir": str(ctx.data_dir),
            "signing_key_id": keys.key_id(signing_key), "results_key_id": keys.key_id(results_key),
            "results_suite": suite, "certificate": str(ctx.central_cert_path)}
