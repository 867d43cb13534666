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

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, func, insert, select, update

from exam_core import certs, keys, sync_wire
from exam_core.certs import VerifiedCertificate
from exam_core.errors import InvigilError, RevokedError, UntrustedError
from exam_core.jsonio import canonical_dumps
from exam_core.timestamps import utc_now, utc_text
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import fetch_all, fetch_one, lock, write
from item_bank_sync.trust.schema import centres, revocation_lists

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
    signing_public = keys.signing_public_from_dict(request.signing_key, "signing_key")
    hpke_public = keys.public_key_from_dict(request.hpke_key, "hpke_key")
    if not isinstance(hpke_public, keys.HpkePublicKey):
        raise CentreError(f"{source}: hpke_key is not an HPKE key")
    db = ctx.open_bank_db()
    existing = fetch_one(db, select(centres.c.signing_key_id, centres.c.revoked_at)
                         .where(centres.c.centre_id == request.centre_id))
    if existing:
        state = "revoked" if existing[1] else "enrolled"
        raise CentreError(f"centre {request.centre_id} is already {state} (signing key {existing[0]}); "
                          "a centre id is enrolled once")
    body = ctx.body()
    signing_key = ctx.load_signing_key()
    certificate = certs.issue_certificate(signing_key, body["body_id"], request.centre_id, certs.ROLE_CENTRE,
                                          signing_public, hpke_public)
    cert = certs.read_certificate(certificate, signing_key.public_key()).cert
    with write(db) as conn:  # the primary key refuses a second enrolment that raced this one
        conn.execute(insert(centres).values(
            centre_id=request.centre_id, name=request.name, signing_key_id=keys.key_id(signing_public),
            hpke_key_id=keys.key_id(hpke_public), request_json=canonical_dumps(request.to_dict()).decode(),
            cert_serial=cert.serial, certificate=certificate, not_after=cert.not_after, enrolled_at=utc_text()))
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


def list_centres(db: Engine) -> list[dict[str, Any]]:
    c = centres.c
    rows = fetch_all(db, select(c.centre_id, c.name, c.cert_serial, c.not_after, c.enrolled_at, c.revoked_at,
                                c.revoked_reason).order_by(c.centre_id))
    cols = ("centre_id", "name", "serial", "not_after", "enrolled_at", "revoked_at", "revoked_reason")
    return [dict(zip(cols, r)) for r in rows]


def revoke(ctx: CentralContext, centre_id: str, reason: str, by: str) -> dict[str, Any]:
    """Revoke a centre and publish the next signed revocation list (all revoked serials)."""
    db = ctx.open_bank_db()
    signing_key = ctx.load_signing_key()
    body_id = ctx.body()["body_id"]
    with write(db) as conn:
        lock(conn, "revocation-list")  # one list per sequence number, each holding every revocation before it
        row = conn.execute(select(centres.c.cert_serial, centres.c.revoked_at)
                           .where(centres.c.centre_id == centre_id)).first()
        if row is None:
            raise CentreError(f"no centre {centre_id}")
        if row[1] is not None:
            raise CentreError(f"centre {centre_id} was already revoked at {row[1]}")
        now = utc_text()
        conn.execute(update(centres).where(centres.c.centre_id == centre_id)
                     .values(revoked_at=now, revoked_reason=reason[:1000]))
        serials = sorted(r[0] for r in conn.execute(select(centres.c.cert_serial)
                                                    .where(centres.c.revoked_at.is_not(None))))
        last = conn.execute(select(func.max(revocation_lists.c.sequence))).scalar() or 0
        signed = certs.issue_revocation_list(signing_key, body_id, serials, sequence=last + 1)
        conn.execute(insert(revocation_lists).values(sequence=last + 1, issued_at=now,
                                                     serials_json=json.dumps(serials), signed=signed))
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
    row = fetch_one(ctx.open_bank_db(), select(centres.c.certificate, centres.c.revoked_at)
                    .where(centres.c.centre_id == centre_id))
    if row is None:
        raise CentreError(f"no centre {centre_id}; enrol it with `centres add --request FILE`")
    if row[1] is not None:
        raise CentreError(f"centre {centre_id} was revoked at {row[1]}; nothing can be published to it")
    verified = certs.read_certificate(bytes(row[0]), ctx.load_signing_key().public_key())
    verified.check_valid_at(utc_now())
    if verified.hpke_public is None:
        raise CentreError(f"certificate of centre {centre_id} carries no HPKE key")
    return verified.hpke_public, verified.cert.serial


def enrolled_centre_certificate(bank: Engine, root_public: Ed25519PublicKey,
                                centre_id: str) -> VerifiedCertificate:
    """An enrolled centre's certificate from the bank store, verified against the root; refused if revoked."""
    row = fetch_one(bank, select(centres.c.certificate, centres.c.revoked_at).where(centres.c.centre_id == centre_id))
    if row is None:
        raise UntrustedError(f"centre {centre_id} is not enrolled")
    if row[1] is not None:
        raise RevokedError(f"centre {centre_id} was revoked at {row[1]}")
    cert = certs.read_certificate(bytes(row[0]), root_public)
    if cert.cert.role != certs.ROLE_CENTRE or cert.cert.subject != centre_id:
        raise UntrustedError(f"certificate on file for {centre_id} is not a centre certificate for it")
    return cert
