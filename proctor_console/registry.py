"""Paired kiosks: one-time pairing codes, kiosk certificates, revocation, and key lookup.

The console certifies a kiosk's Ed25519 and HPKE keys with the centre key (chain central ->
centre -> kiosk, ``exam_core.certs``). The code authenticates the pairing request and response
both ways (HMAC, see ``exam_core.protocol``); the console keeps only the derived MAC key, and only
until the code is used, burnt or expired.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exam_core import certs, keys, protocol
from exam_core.errors import (ExpiredError, InvigilError, RevokedError, TamperedError, UntrustedError,
                              ValidationError)
from exam_core.keys import HpkePublicKey
from exam_core.store import immediate_transaction
from proctor_console.context import ConsoleContext, ConsoleError, now_text


#: How stale the revoked-kiosk set may be (see ``KioskRegistry.is_revoked``).
REVOKED_CACHE_SECONDS = 2.0


@dataclass(frozen=True)
class PairedKiosk:
    kiosk_id: str
    signing_public: Ed25519PublicKey
    hpke_public: HpkePublicKey
    certificate: bytes
    serial: str


class PairingRefused(ConsoleError):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class KioskRegistry:
    def __init__(self, ctx: ConsoleContext) -> None:
        self.ctx = ctx
        self._revoked: set[str] = set()
        self._revoked_at = float("-inf")

    # --- codes ------------------------------------------------------------------------------
    def new_code(self, created_by: str) -> tuple[str, float]:
        code = protocol.new_pairing_code()
        now = time.time()
        expires = now + protocol.PAIRING_CODE_TTL_SECONDS
        with immediate_transaction(self.ctx.db) as conn:
            conn.execute("INSERT INTO pairing_codes (mac_key, created, expires, created_by) VALUES (?,?,?,?)",
                         [protocol.pairing_key(code), now, expires, created_by])
        self.ctx.audit.append(created_by, "kiosk.pairing_code", {"expires": expires})
        return code, expires

    def pair(self, message: Any, remote: str) -> dict[str, Any]:
        """Answer a sealed pairing request; raises ``PairingRefused`` with an HTTP status."""
        now = time.time()
        rows = self.ctx.db.execute(
            "SELECT id, mac_key FROM pairing_codes WHERE used = 0 AND expires > ? AND failures < ?",
            [now, protocol.PAIRING_MAX_FAILURES]).fetchall()
        for code_id, mac_key in rows:
            try:
                payload = protocol.open_pairing_with_key(bytes(mac_key), protocol.PAIRING_REQUEST, message)
            except TamperedError:
                continue
            except InvigilError as exc:
                raise PairingRefused(400, str(exc)) from None
            return self._certify(code_id, bytes(mac_key), payload, remote)
        with immediate_transaction(self.ctx.db) as conn:
            conn.execute("UPDATE pairing_codes SET failures = failures + 1 WHERE used = 0 AND expires > ?", [now])
        self.ctx.audit.append("anonymous", "kiosk.pairing_refused", {"remote": remote})
        raise PairingRefused(403, "no pending pairing code matches")

    def _certify(self, code_id: int, mac_key: bytes, payload: dict, remote: str) -> dict[str, Any]:
        try:
            req = protocol.PairRequest.from_dict(payload, "payload")
            signing_public = keys.public_key_from_dict(req.signing_key, "signing_key")
            hpke_public = keys.public_key_from_dict(req.hpke_key, "hpke_key")
            if not isinstance(signing_public, Ed25519PublicKey) or not isinstance(hpke_public, HpkePublicKey):
                raise ValidationError("signing_key", "must be an Ed25519 key and an HPKE key")
        except InvigilError as exc:
            raise PairingRefused(400, str(exc)) from None
        existing = self.ctx.db.execute("SELECT signing_key, revoked_at FROM kiosks WHERE kiosk_id = ?",
                                       [req.kiosk_id]).fetchone()
        if existing and existing[1] is None and existing[0] != keys.key_id(signing_public):
            raise PairingRefused(409, f"kiosk {req.kiosk_id} is paired with other keys; revoke it first")
        cert = certs.issue_certificate(self.ctx.signing_key, self.ctx.centre_id, req.kiosk_id, certs.ROLE_KIOSK,
                                       signing_public, hpke_public)
        serial = certs.read_unverified_certificate(cert).serial
        with immediate_transaction(self.ctx.db) as conn:
            conn.execute("UPDATE pairing_codes SET used = 1, mac_key = x'' WHERE id = ?", [code_id])
            conn.execute("INSERT OR REPLACE INTO kiosks (kiosk_id, signing_key, hpke_key, certificate, cert_serial,"
                         " paired_at, software_version) VALUES (?,?,?,?,?,?,?)",
                         [req.kiosk_id, keys.key_id(signing_public), keys.key_id(hpke_public), cert, serial,
                          now_text(), req.software_version])
        self.ctx.audit.append("console", "kiosk.paired", {"kiosk_id": req.kiosk_id, "serial": serial,
                                                          "remote": remote})
        centre_cert = self.ctx.centre_certificate()
        response = protocol.PairResponse(
            kiosk_id=req.kiosk_id, console_id=self.ctx.console_id, centre_id=self.ctx.centre_id, nonce=req.nonce,
            kiosk_certificate=cert.decode(), centre_certificate=centre_cert.decode() if centre_cert else None,
            tls_certificate_pem=self.ctx.tls_cert_path.read_text(), tls_fingerprint_sha256=self.ctx.tls_fingerprint)
        return protocol.seal_pairing_with_key(mac_key, protocol.PAIRING_RESPONSE, response.to_dict())

    # --- lookup -----------------------------------------------------------------------------
    def active(self, kiosk_id: str) -> PairedKiosk:
        """The kiosk's certified keys; refuses unknown, revoked and expired kiosks."""
        row = self.ctx.db.execute("SELECT certificate, revoked_at FROM kiosks WHERE kiosk_id = ?",
                                  [kiosk_id]).fetchone()
        if row is None:
            raise UntrustedError(f"kiosk {kiosk_id} is not paired with this console")
        if row[1] is not None:
            raise RevokedError(f"kiosk {kiosk_id} was revoked at {row[1]}")
        verified = certs.read_certificate(bytes(row[0]), self.ctx.signing_key.public_key())
        verified.check_valid_at(datetime.now(timezone.utc))
        if verified.cert.subject != kiosk_id or verified.cert.role != certs.ROLE_KIOSK or verified.hpke_public is None:
            raise UntrustedError(f"stored certificate of kiosk {kiosk_id} does not certify it")
        return PairedKiosk(kiosk_id, verified.signing_public, verified.hpke_public, bytes(row[0]),
                           verified.cert.serial)

    def is_revoked(self, kiosk_id: str) -> bool:
        """Checked on every kiosk message, so read from a set refreshed at most every
        ``REVOKED_CACHE_SECONDS`` (a revocation made by the CLI in another process takes effect
        within that time; one made through this server at once)."""
        now = time.monotonic()
        if now - self._revoked_at > REVOKED_CACHE_SECONDS:
            self._revoked = {r[0] for r in self.ctx.db.execute(
                "SELECT kiosk_id FROM kiosks WHERE revoked_at IS NOT NULL").fetchall()}
            self._revoked_at = now
        return kiosk_id in self._revoked

    def revoke(self, kiosk_id: str, by: str, reason: str) -> None:
        """Refuse the kiosk from now on, and sign a revocation for the central body (next sync).

        The revocation names the kiosk's key and the moment: the central body then distrusts
        envelopes that key seals from that moment on, and keeps those sealed before.
        """
        now = now_text()
        with immediate_transaction(self.ctx.db) as conn:
            row = conn.execute("SELECT signing_key, cert_serial FROM kiosks WHERE kiosk_id = ? AND revoked_at IS NULL",
                               [kiosk_id]).fetchone()
            if row is None:
                raise ConsoleError(f"kiosk {kiosk_id} is not paired or already revoked")
            conn.execute("UPDATE kiosks SET revoked_at = ? WHERE kiosk_id = ?", [now, kiosk_id])
            record = protocol.KioskRevocation(centre_id=self.ctx.centre_id, kiosk_id=kiosk_id, key_id=row[0],
                                              cert_serial=row[1], revoked_at=now, revoked_by=by or "unknown",
                                              reason=reason[:1000])
            conn.execute("INSERT OR REPLACE INTO kiosk_revocations (kiosk_id, key_id, revoked_at, document)"
                         " VALUES (?, ?, ?, ?)",
                         [kiosk_id, row[0], now, protocol.make_kiosk_revocation(self.ctx.signing_key, record)])
        self._revoked_at = float("-inf")  # re-read at the next message
        self.ctx.audit.append(by, "kiosk.revoked", {"kiosk_id": kiosk_id, "reason": reason})

    def list(self) -> list[dict[str, Any]]:
        rows = self.ctx.db.execute("SELECT kiosk_id, seat, paired_at, revoked_at, last_seen, software_version,"
                                   " cert_serial FROM kiosks ORDER BY kiosk_id").fetchall()
        cols = ("kiosk_id", "seat", "paired_at", "revoked_at", "last_seen", "software_version", "cert_serial")
        return [dict(zip(cols, r)) for r in rows]
