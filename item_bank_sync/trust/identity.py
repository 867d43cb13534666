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
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from exam_core import certs, keys
from exam_core.errors import InvigilError, ValidationError
from exam_core.keys import HpkePrivateKey
from exam_core.model import IDENTIFIER_RE
from item_bank_sync.context import RESULTS_PUB_FILE, SIGNING_PUB_FILE, CentralContext
from item_bank_sync.trust.evidence_key import create_key


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


#: Longest time zone name taken (the IANA database's longest is 32 characters).
MAX_ZONE_NAME = 64


def check_time_zone(name: str) -> str:
    """An IANA time zone name the system's zone database knows (``Europe/Paris``), else a refusal.

    Why validated here: the staff pages show every time in this zone, and an unknown name there
    would fall back to UTC silently; a typo is refused when it is given instead."""
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_ZONE_NAME:
        raise ValidationError("time_zone", f"must name an IANA time zone (1-{MAX_ZONE_NAME} characters)")
    try:
        ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("time_zone", f"{name.strip()!r} is not a time zone this system knows "
                                           "(an IANA name such as Europe/Paris or UTC)") from None
    return name.strip()


def set_time_zone(ctx: CentralContext, zone: str, by: str) -> dict[str, Any]:
    """Set the body's time zone in ``keys/body.json`` (``body time-zone``), audited as
    ``body.time-zone`` with the previous zone; returns the body description."""
    zone = check_time_zone(zone)
    body = ctx.body()
    previous = body.get("time_zone")
    body["time_zone"] = zone
    _write_body(ctx, body)
    ctx.audit_log().append(by, "body.time-zone", {"time_zone": zone, "previous": previous})
    return body


#: The version of the body's rules for candidates until ``body rules-version`` names another.
DEFAULT_RULES_VERSION = "1"
#: Longest rules version taken (an application stores it with the agreement, up to 50 characters).
MAX_RULES_VERSION = 50


def rules_version(body: dict[str, Any]) -> str:
    """The version of the body's rules a candidate accepts now (``keys/body.json``'s ``rules_version``)."""
    return str(body.get("rules_version") or DEFAULT_RULES_VERSION)


def set_rules_version(ctx: CentralContext, version: str, by: str) -> dict[str, Any]:
    """Name the version of the body's rules candidates accept from now on (``body rules-version``),
    audited as ``body.rules-version`` with the previous one. Why a setting, not a constant: when the
    body changes its rules, every candidate applying afterwards must accept the new version, and
    their application records which one they accepted."""
    version = version.strip() if isinstance(version, str) else ""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,49}", version):
        raise ValidationError("rules_version", f"must be 1-{MAX_RULES_VERSION} letters, digits, _ . - (e.g. 2026-1)")
    body = ctx.body()
    previous = rules_version(body)
    body["rules_version"] = version
    _write_body(ctx, body)
    ctx.audit_log().append(by, "body.rules-version", {"rules_version": version, "previous": previous})
    return body


def _write_body(ctx: CentralContext, body: dict[str, Any]) -> None:
    """Replace ``keys/body.json`` whole (a reader never sees half a file)."""
    partial = ctx.body_path.with_name(ctx.body_path.name + ".new")
    partial.write_text(json.dumps(body, indent=2) + "\n", "utf-8")
    os.replace(partial, ctx.body_path)


def initialise(ctx: CentralContext, body_id: str, name: str, suite: str = keys.DEFAULT_SUITE,
               time_zone: str | None = None) -> dict:
    """Create keys, root certificate and bank.db; returns a summary (key ids, paths). ``time_zone``:
    the IANA zone staff pages show times in (UTC when not given)."""
    zone = None if time_zone is None else check_time_zone(time_zone)
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
    evidence_key = create_key(ctx.keys_dir)
    _write_body(ctx, {"body_id": body_id, "name": name, **({"time_zone": zone} if zone else {})})
    ctx.open_bank_db()
    ctx.audit_log().append(body_id, "central.init", {"body_id": body_id, "signing_key_id": keys.key_id(signing_key),
                                                     "results_key_id": keys.key_id(results_key), "suite": suite})
    return {"body_id": body_id, "name": name, "data_dir": str(ctx.data_dir),
            "signing_key_id": keys.key_id(signing_key), "results_key_id": keys.key_id(results_key),
            "results_suite": suite, "certificate": str(ctx.central_cert_path), "time_zone": zone or "UTC",
            "evidence_key": str(evidence_key)}
