"""Paired kiosks (the ``kiosks`` and ``pairing_codes`` tables): one-time pairing codes, kiosk
certificates, revocation, identity records, and key lookup.

The console certifies a kiosk's Ed25519 and HPKE keys with the centre key (chain central ->
centre -> kiosk, ``exam_core.certs``). The code authenticates the pairing request and response
both ways (HMAC, see ``exam_core.pairing``); the console keeps only the derived MAC key, and only
until the code is used or expires.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from datetime import datetime, UTC
from typing import Any
from collections.abc import Callable

import sqlite_utils
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exam_core import certs, keys, pairing, sync_wire
from exam_core.audit import AuditLog
from exam_core.errors import InvigilError, RevokedError, TamperedError, UntrustedError, ValidationError
from exam_core.keys import HpkePublicKey
from exam_core.store import immediate_transaction
from exam_core.timestamps import utc_text_us
from proctor_console.centre import Centre
from proctor_console.errors import Conflict, Forbidden, InvalidRequest, NotFound, Throttled
from proctor_console.revocations import KioskRevocations
from exam_core.websec.throttle import Backoff

#: How stale the revoked-kiosk set and the pinned seats may be (``KioskRegistry.is_revoked``, ``seat_of``).
REVOKED_CACHE_SECONDS = 2.0
#: A seat label, as long as the roster's seat column allows.
MAX_SEAT = 50


@dataclass(frozen=True)
class PairedKiosk:
    kiosk_id: str
    signing_public: Ed25519PublicKey
    hpke_public: HpkePublicKey
    certificate: bytes
    serial: str


class KioskRegistry:
    def __init__(self, db: sqlite_utils.Database, audit: AuditLog, centre: Centre,
                 centre_certificate: Callable[[], bytes | None]) -> None:
        self.db = db
        self.audit = audit
        self.centre = centre
        #: Read at each pairing: the certificate may be installed while the server runs.
        self.centre_certificate = centre_certificate
        self.revocations = KioskRevocations(db)
        self._revoked: set[str] = set()
        self._seats: dict[str, str] = {}
        self._revoked_at = float("-inf")
        #: Failed pairing requests per address (in the server that answers them).
        self.pairing_backoff = Backoff()

    # --- codes ------------------------------------------------------------------------------
    def new_code(self, created_by: str) -> tuple[str, float]:
        code = pairing.new_pairing_code()
        now = time.time()
        expires = now + pairing.PAIRING_CODE_TTL_SECONDS
        with immediate_transaction(self.db) as conn:
            conn.execute("INSERT INTO pairing_codes (mac_key, created, expires, created_by) VALUES (?,?,?,?)",
                         [pairing.pairing_key(code), now, expires, created_by])
        self.audit.append(created_by, "kiosk.pairing_code", {"expires": expires})
        return code, expires

    def pair(self, message: Any, remote: str) -> dict[str, Any]:
        """Answer a sealed pairing request: ``Forbidden`` when no pending code opens it,
        ``InvalidRequest`` when one does but the request is malformed, ``Conflict`` when the kiosk
        is paired with other keys, ``Throttled`` while ``remote`` waits after repeated failures.

        A failure slows only the address that sent it (``throttle.Backoff``): counting failures on
        the codes burnt every pending code after five requests from anyone, and at 60 bits a
        code is not guessed online anyway."""
        wait = self.pairing_backoff.wait(remote)
        if wait > 0:
            raise Throttled(f"too many failed pairing requests from this address; try again in {math.ceil(wait)} s")
        now = time.time()
        rows = self.db.execute(
            "SELECT id, mac_key FROM pairing_codes WHERE used = 0 AND expires > ? AND failures < ?",
            [now, pairing.PAIRING_MAX_FAILURES]).fetchall()
        for code_id, mac_key in rows:
            try:
                payload = pairing.open_pairing_with_key(bytes(mac_key), pairing.PAIRING_REQUEST, message)
            except TamperedError:
                continue
            except InvigilError as exc:
                raise InvalidRequest(str(exc)) from None
            sealed = self._certify(code_id, bytes(mac_key), payload, remote)
            self.pairing_backoff.succeeded(remote)
            return sealed
        self.pairing_backoff.failed(remote)
        self.audit.append("anonymous", "kiosk.pairing_refused", {"remote": remote})
        raise Forbidden("no pending pairing code matches")

    def _certify(self, code_id: int, mac_key: bytes, payload: dict, remote: str) -> dict[str, Any]:
        try:
            req = pairing.PairRequest.from_dict(payload, "payload")
            signing_public = keys.public_key_from_dict(req.signing_key, "signing_key")
            hpke_public = keys.public_key_from_dict(req.hpke_key, "hpke_key")
            if not isinstance(signing_public, Ed25519PublicKey) or not isinstance(hpke_public, HpkePublicKey):
                raise ValidationError("signing_key", "must be an Ed25519 key and an HPKE key")
        except InvigilError as exc:
            raise InvalidRequest(str(exc)) from None
        existing = self.db.execute("SELECT signing_key, revoked_at FROM kiosks WHERE kiosk_id = ?",
                                       [req.kiosk_id]).fetchone()
        if existing and existing[1] is None and existing[0] != keys.key_id(signing_public):
            raise Conflict(f"kiosk {req.kiosk_id} is paired with other keys; revoke it first")
        cert = certs.issue_certificate(self.centre.signing_key, self.centre.centre_id, req.kiosk_id, certs.ROLE_KIOSK,
                                       signing_public, hpke_public)
        serial = certs.read_unverified_certificate(cert).serial
        with immediate_transaction(self.db) as conn:
            conn.execute("UPDATE pairing_codes SET used = 1, mac_key = x'' WHERE id = ?", [code_id])
            conn.execute("INSERT OR REPLACE INTO kiosks (kiosk_id, signing_key, hpke_key, certificate, cert_serial,"
                         " paired_at, software_version) VALUES (?,?,?,?,?,?,?)",
                         [req.kiosk_id, keys.key_id(signing_public), keys.key_id(hpke_public), cert, serial,
                          utc_text_us(), req.software_version])
        self._revoked_at = float("-inf")  # a kiosk paired again is neither revoked nor at its old seat
        self.audit.append("console", "kiosk.paired", {"kiosk_id": req.kiosk_id, "serial": serial,
                                                          "remote": remote})
        centre_cert = self.centre_certificate()
        response = pairing.PairResponse(
            kiosk_id=req.kiosk_id, console_id=self.centre.console_id, centre_id=self.centre.centre_id,
            nonce=req.nonce, kiosk_certificate=cert.decode(),
            centre_certificate=centre_cert.decode() if centre_cert else None,
            tls_certificate_pem=self.centre.tls_certificate_pem, tls_fingerprint_sha256=self.centre.tls_fingerprint)
        return pairing.seal_pairing_with_key(mac_key, pairing.PAIRING_RESPONSE, response.to_dict())

    # --- lookup -----------------------------------------------------------------------------
    def active(self, kiosk_id: str) -> PairedKiosk:
        """The kiosk's certified keys; refuses unknown, revoked and expired kiosks."""
        row = self.db.execute("SELECT certificate, revoked_at FROM kiosks WHERE kiosk_id = ?",
                                  [kiosk_id]).fetchone()
        if row is None:
            raise UntrustedError(f"kiosk {kiosk_id} is not paired with this console")
        if row[1] is not None:
            raise RevokedError(f"kiosk {kiosk_id} was revoked at {row[1]}")
        verified = certs.read_certificate(bytes(row[0]), self.centre.signing_key.public_key())
        verified.check_valid_at(datetime.now(UTC))
        if verified.cert.subject != kiosk_id or verified.cert.role != certs.ROLE_KIOSK or verified.hpke_public is None:
            raise UntrustedError(f"stored certificate of kiosk {kiosk_id} does not certify it")
        return PairedKiosk(kiosk_id, verified.signing_public, verified.hpke_public, bytes(row[0]),
                           verified.cert.serial)

    def is_revoked(self, kiosk_id: str) -> bool:
        """Checked on every kiosk message, so read from a set refreshed at most every
        ``REVOKED_CACHE_SECONDS`` (a revocation made by the CLI in another process takes effect
        within that time; one made through this server at once)."""
        self._read_kiosks()
        return kiosk_id in self._revoked

    def _read_kiosks(self) -> None:
        """Refresh the revoked set and the pinned seats, at most every ``REVOKED_CACHE_SECONDS``:
        both are read on the kiosk event and command-ack paths, so one query serves them all."""
        now = time.monotonic()
        if now - self._revoked_at > REVOKED_CACHE_SECONDS:
            rows = self.db.execute("SELECT kiosk_id, seat, revoked_at IS NOT NULL FROM kiosks").fetchall()
            self._revoked = {kiosk_id for kiosk_id, _seat, revoked in rows if revoked}
            self._seats = {kiosk_id: str(seat or "") for kiosk_id, seat, _revoked in rows}
            self._revoked_at = now

    def revoke(self, kiosk_id: str, by: str, reason: str) -> None:
        """Refuse the kiosk from now on, and sign a revocation for the central body (next sync).

        The revocation names the kiosk's key and the moment: the central body then distrusts
        envelopes that key seals from that moment on, and keeps those sealed before.
        """
        now = utc_text_us()
        with immediate_transaction(self.db) as conn:
            row = conn.execute("SELECT signing_key, cert_serial FROM kiosks WHERE kiosk_id = ? AND revoked_at IS NULL",
                               [kiosk_id]).fetchone()
            if row is None:
                paired = conn.execute("SELECT 1 FROM kiosks WHERE kiosk_id = ?", [kiosk_id]).fetchone()
                raise (Conflict if paired else NotFound)(f"kiosk {kiosk_id} is not paired or already revoked")
            conn.execute("UPDATE kiosks SET revoked_at = ? WHERE kiosk_id = ?", [now, kiosk_id])
            record = sync_wire.KioskRevocation(centre_id=self.centre.centre_id, kiosk_id=kiosk_id, key_id=row[0],
                                               cert_serial=row[1], revoked_at=now, revoked_by=by or "unknown",
                                               reason=reason[:1000])
            self.revocations.add(conn, kiosk_id, row[0], now,
                                 sync_wire.make_kiosk_revocation(self.centre.signing_key, record))
        self._revoked_at = float("-inf")  # re-read at the next message
        self.audit.append(by, "kiosk.revoked", {"kiosk_id": kiosk_id, "reason": reason})

    def set_seat(self, kiosk_id: str, seat: str, by: str) -> str:
        """Pin a kiosk to a seat label of the room (empty: unpin), so the room map shows it in seat
        order while no candidate sits there, and under that label while one does. A seat holds
        one kiosk: a label another kiosk not revoked has is refused. Audited (``kiosk.seat``)."""
        seat = seat.strip() if isinstance(seat, str) else ""
        if len(seat) > MAX_SEAT or any(ch < " " or ch == "\x7f" for ch in seat):
            raise ValidationError("seat", f"must be one line of at most {MAX_SEAT} characters")
        with immediate_transaction(self.db) as conn:
            paired = conn.execute("SELECT 1 FROM kiosks WHERE kiosk_id = ? AND revoked_at IS NULL", [kiosk_id])
            if paired.fetchone() is None:
                raise NotFound(f"kiosk {kiosk_id} is not paired or was revoked")
            taken = conn.execute("SELECT kiosk_id FROM kiosks WHERE seat = ? AND seat != '' AND kiosk_id != ?"
                                 " AND revoked_at IS NULL", [seat, kiosk_id]).fetchone()
            if taken is not None:
                raise Conflict(f"seat {seat} is already kiosk {taken[0]}'s; unpin that kiosk first")
            conn.execute("UPDATE kiosks SET seat = ? WHERE kiosk_id = ?", [seat, kiosk_id])
        self._revoked_at = float("-inf")  # the room map shows the new seat at once
        self.audit.append(by, "kiosk.seat", {"kiosk_id": kiosk_id, "seat": seat})
        return seat

    def seat_of(self, kiosk_id: str) -> str:
        """The seat label the kiosk is pinned to ('' when none). Read at every tile refresh (each
        command ack, hello), so from the cache ``is_revoked`` keeps (a seat the CLI sets in
        another process shows within ``REVOKED_CACHE_SECONDS``; one set through this server at once)."""
        self._read_kiosks()
        return self._seats.get(kiosk_id, "")

    def list(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT kiosk_id, seat, paired_at, revoked_at, last_seen, software_version,"
                                   " cert_serial FROM kiosks ORDER BY kiosk_id").fetchall()
        cols = ("kiosk_id", "seat", "paired_at", "revoked_at", "last_seen", "software_version", "cert_serial")
        return [dict(zip(cols, r)) for r in rows]

    def record_identity(self, kiosk_id: str, software_version: str, attestation: bytes | None) -> bool:
        """Store the software version and attestation a kiosk's hello reports, when they changed;
        True when they did. Most hellos change nothing, and a synchronous commit on the event loop
        would stall every socket while it lasts, so the unchanged case costs one read."""
        row = self.db.execute("SELECT software_version, attestation FROM kiosks WHERE kiosk_id = ?",
                              [kiosk_id]).fetchone()
        if row is not None and row[0] == software_version and (bytes(row[1]) if row[1] else None) == attestation:
            return False
        with immediate_transaction(self.db) as conn:
            conn.execute("UPDATE kiosks SET software_version = ?, attestation = ?, last_seen = ? WHERE kiosk_id = ?",
                         [software_version, attestation, utc_text_us(), kiosk_id])
        self.audit.append(f"kiosk:{kiosk_id}", "kiosk.identity", {
            "software_version": software_version,
            "attestation_sha256": hashlib.sha256(attestation).hexdigest() if attestation else None})
        return True
