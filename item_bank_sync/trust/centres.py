"""Test centres: enrolment from the console's signed request, certificates, revocation.

Enrolment (``centres add --request FILE``) reads the document ``python -m proctor_console init``
writes (``exam_core.sync_wire.CentreEnrolmentRequest``, signed by the centre's own
Ed25519 key as proof of possession, carrying its HPKE key). The request proves only that the
sender holds those keys; the administrator running ``centres add`` is the one who decides that
this centre id belongs to them. The answer is a bundle the console installs with
``certificate install``: ``{"centre_certificate": ..., "root_certificate": ...}``.

Revocation marks the centre revoked (the sync API then refuses it) and issues a new signed
revocation list with the next sequence number, written to ``DIR/centres/revocations.signed``.
:func:`enrolled_centre_certificate` is how everything that trusts a centre (sync requests, kiosk
revocations it delivers) finds its verified, unrevoked certificate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlite_utils
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exam_core import certs, keys, sync_wire
from exam_core.certs import VerifiedCertificate
from exam_core.errors import InvigilError, RevokedError, UntrustedError
from exam_core.jsonio import canonical_dumps
from exam_core.store import immediate_transaction
from exam_core.timestamps import utc_now, utc_text
from item_bank_sync.context import CentralContext

REVOCATIONS_FILE = "revocations.signed"
REQUEST_MAX_BYTES = 64 * 1024


class CentreError(InvigilError):
    """A centre operation was refused; the message says why."""


def enrol(ctx: CentralContext, request_bytes: bytes, source: str, by: str) -> dict[str, Any]:
    """Verify an enrolment request, issue the centre certificate, write the bundle; returns a summary."""
    if len(request_bytes) > REQUEST_MAX_BYTES:
        raise CentreError(f"{source}: larger than {REQUEST_MAX_BYTES} bytes")
    try:
        request = sync_wire.open_enrolment_request(request_bytes)
    except InvigilError as exc:
        raise CentreError(f"{source}: not a valid enrolment request: {exc}") from None
    signing_public = keys.public_key_from_dict(request.signing_key, "signing_key")
    hpke_public = keys.public_key_from_dict(request.hpke_key, "hpke_key")
    if not isinstance(hpke_public, keys.HpkePublicKey):
        raise CentreError(f"{source}: hpke_key is not an HPKE key")
    db = ctx.open_bank_db()
    existing = db.execute("SELECT signing_key_id, revoked_at FROM centres WHERE centre_id = ?",
                          (request.centre_id,)).fetchone()
    if existing:
        state = "revoked" if existing[1] else "enrolled"
        raise CentreError(f"centre {request.centre_id} is already {state} (signing key {existing[0]}); "
                          "a centre id is enrolled once")
    body = ctx.body()
    signing_key = ctx.load_signing_key()
    certificate = certs.issue_certificate(signing_key, body["body_id"], request.centre_id, certs.ROLE_CENTRE,
                                          signing_public, hpke_public)
    cert = certs.read_certificate(certificate, signing_key.public_key()).cert
    with immediate_transaction(db) as conn:
        conn.execute("INSERT INTO centres (centre_id, name, signing_key_id, hpke_key_id, request_json, cert_serial,"
                     " certificate, not_after, enrolled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (request.centre_id, request.name, keys.key_id(signing_public), keys.key_id(hpke_public),
                      canonical_dumps(request.to_dict()).decode(), cert.serial, certificate, cert.not_after, utc_text()))
    bundle_path = ctx.centres_dir / f"{request.centre_id}.certificate.json"
    ctx.centres_dir.mkdir(parents=True, exist_ok=True)
    bundle_path.write_bytes(certificate_bundle(certificate, ctx.central_certificate()))
    ctx.audit_log().append(by, "centre.enrol", {"centre_id": request.centre_id, "serial": cert.serial,
                                                "signing_key_id": keys.key_id(signing_public)})
    return {"centre_id": request.centre_id, "name": request.name, "serial": cert.serial,
            "not_after": cert.not_after, "signing_key_id": keys.key_id(signing_public),
            "hpke_key_id": keys.key_id(hpke_public), "tls_fingerprint_sha256": request.tls_fingerprint_sha256,
            "certificate_bundle": str(bundle_path)}


def certificate_bundle(centre_certificate: bytes, root_certificate: bytes) -> bytes:
    """The file handed back to the centre (``proctor_console certificate install FILE``)."""
    return (json.dumps({"centre_certificate": centre_certificate.decode("ascii"),
                        "root_certificate": root_certificate.decode("ascii")}, indent=2) + "\n").encode("ascii")


def list_centres(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    rows = db.execute("SELECT centre_id, name, cert_serial, not_after, enrolled_at, revoked_at, revoked_reason "
                      "FROM centres ORDER BY centre_id").fetchall()
    cols = ("centre_id", "name", "serial", "not_after", "enrolled_at", "revoked_at", "revoked_reason")
    return [dict(zip(cols, r)) for r in rows]


def revoke(ctx: CentralContext, centre_id: str, reason: str, by: str) -> dict[str, Any]:
    """Revoke a centre and publish the next signed revocation list (all revoked serials)."""
    db = ctx.open_bank_db()
    signing_key = ctx.load_signing_key()
    body_id = ctx.body()["body_id"]
    with immediate_transaction(db) as conn:
        row = conn.execute("SELECT cert_serial, revoked_at FROM centres WHERE centre_id = ?", (centre_id,)).fetchone()
        if row is None:
            raise CentreError(f"no centre {centre_id}")
        if row[1] is not None:
            raise CentreError(f"centre {centre_id} was already revoked at {row[1]}")
        now = utc_text()
        conn.execute("UPDATE centres SET revoked_at = ?, revoked_reason = ? WHERE centre_id = ?",
                     (now, reason[:1000], centre_id))
        serials = [r[0] for r in conn.execute("SELECT cert_serial FROM centres WHERE revoked_at IS NOT NULL "
                                              "ORDER BY cert_serial").fetchall()]
        last = conn.execute("SELECT MAX(sequence) FROM revocation_lists").fetchone()[0] or 0
        signed = certs.issue_revocation_list(signing_key, body_id, serials, sequence=last + 1)
        conn.execute("INSERT INTO revocation_lists (sequence, issued_at, serials_json, signed) VALUES (?, ?, ?, ?)",
                     (last + 1, now, json.dumps(serials), signed))
    path = write_revocations(ctx, signed)
    ctx.audit_log().append(by, "centre.revoke", {"centre_id": centre_id, "serial": row[0], "reason": reason[:1000],
                                                 "revocation_sequence": last + 1})
    return {"centre_id": centre_id, "serial": row[0], "revoked_at": now, "revocation_sequence": last + 1,
            "revoked_serials": len(serials), "revocation_list": str(path)}


def write_revocations(ctx: CentralContext, signed: bytes) -> Path:
    ctx.centres_dir.mkdir(parents=True, exist_ok=True)
    path = ctx.centres_dir / REVOCATIONS_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(signed)
    tmp.replace(path)
    return path


def centre_hpke_key(ctx: CentralContext, centre_id: str) -> tuple[keys.HpkePublicKey, str]:
    """The HPKE key of an enrolled, unrevoked, currently valid centre (from its verified certificate)."""
    row = ctx.open_bank_db().execute("SELECT certificate, revoked_at FROM centres WHERE centre_id = ?",
                                     (centre_id,)).fetchone()
    if row is None:
        raise CentreError(f"no centre {centre_id}; enrol it with `centres add --request FILE`")
    if row[1] is not None:
        raise CentreError(f"centre {centre_id} was revoked at {row[1]}; nothing can be published to it")
    verified = certs.read_certificate(bytes(row[0]), ctx.load_signing_key().public_key())
    verified.check_valid_at(utc_now())
    if verified.hpke_public is None:
        raise CentreError(f"certificate of centre {centre_id} carries no HPKE key")
    return verified.hpke_public, verified.cert.serial


def enrolled_centre_certificate(bank: sqlite_utils.Database, root_public: Ed25519PublicKey,
                                centre_id: str) -> VerifiedCertificate:
    """An enrolled centre's certificate from ``bank.db``, verified against the root; refused if revoked."""
    row = bank.conn.execute("SELECT certificate, revoked_at FROM centres WHERE centre_id = ?", (centre_id,)).fetchone()
    if row is None:
        raise UntrustedError(f"centre {centre_id} is not enrolled")
    if row[1] is not None:
        raise RevokedError(f"centre {centre_id} was revoked at {row[1]}")
    cert = certs.read_certificate(bytes(row[0]), root_public)
    if cert.cert.role != certs.ROLE_CENTRE or cert.cert.subject != centre_id:
        raise UntrustedError(f"certificate on file for {centre_id} is not a centre certificate for it")
    return cert
