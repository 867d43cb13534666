"""Authentication of sync API requests: every request signed by a certified test-centre key.

The wire format (four headers, the signed message) is ``exam_core.signed_request``; the centre's
client signs with the same module. The server looks the centre up in the bank (its certificate,
issued by this central body, not revoked, valid now), checks the time is within the replay window,
verifies the signature over the exact method, path, query string and body hash it received, and only
then records the nonce: a nonce seen before inside the window is a replay and refused. Nonces older than twice the
window are purged; a request older than the window is refused by its time, so purging cannot
reopen a replay. Why not TLS client certificates: the sync path must also work for bundles
carried on removable media, and the same signed-request check then covers both.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime, UTC
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import Engine, delete

from exam_core import signing
from exam_core.certs import VerifiedCertificate
from exam_core.errors import ArtefactError, ExpiredError, InvigilError, MalformedError, RevokedError
from exam_core.jsonio import b64d
from exam_core.timestamps import parse_time
from exam_core.signed_request import HEADER_CENTRE, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIME, request_message
from exam_core.signed_request import PURPOSE as SYNC_REQUEST_PURPOSE
from item_bank_sync.db.sql import insert_ignore, write
from item_bank_sync.results.schema import sync_nonces

REPLAY_WINDOW_SECONDS = 300
NONCE_RE = re.compile(r"^[0-9a-f]{32}$")
CENTRE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,127}$")


class HeaderLookup(Protocol):
    """Request headers as the web framework gives them (werkzeug's case-insensitive ``Headers``, or a
    plain mapping in tests)."""

    def get(self, key: str, default: str) -> str: ...


class AuthError(InvigilError):
    """The request is not authenticated; ``reason`` is safe to return to the caller."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class AuthenticatedCentre:
    centre_id: str
    certificate: VerifiedCertificate
    nonce: str


@dataclass(frozen=True)
class _Claim:
    centre: str
    at: str
    nonce: str
    signature: bytes
    cert: VerifiedCertificate
    now: float


class RequestVerifier:
    """Checks signed requests against the centres' certificates and a durable nonce store.

    ``certificate_of(centre_id)`` returns the verified, unrevoked certificate of an enrolled
    centre or raises ``AuthError``/``ArtefactError``.
    """

    def __init__(self, nonces: Engine, certificate_of: Callable[[str], VerifiedCertificate],
                 window: float = REPLAY_WINDOW_SECONDS, clock: Callable[[], float] = time.time) -> None:
        self.nonces = nonces
        self.certificate_of = certificate_of
        self.window = window
        self.clock = clock

    def precheck(self, headers: HeaderLookup) -> _Claim:
        """Everything that needs no body: headers present and well-formed, time in the window,
        centre enrolled, unrevoked and valid. Run before reading a (large) body."""
        centre, at, nonce, signature = (headers.get(h, "") for h in
                                        (HEADER_CENTRE, HEADER_TIME, HEADER_NONCE, HEADER_SIGNATURE))
        if not (centre and at and nonce and signature):
            raise AuthError("missing authentication headers")
        if not CENTRE_RE.match(centre) or not NONCE_RE.match(nonce) or len(at) > 40 or len(signature) > 100:
            raise AuthError("malformed authentication headers")
        now = self.clock()
        try:
            signed_at = parse_time(at, HEADER_TIME).timestamp()
            sig = b64d(signature, HEADER_SIGNATURE, 64)
        except MalformedError:
            raise AuthError("malformed authentication headers") from None
        if abs(now - signed_at) > self.window:
            raise AuthError(f"request time is outside the {int(self.window)} s window (check the clock)")
        try:
            cert = self.certificate_of(centre)
            cert.check_valid_at(datetime.fromtimestamp(now, UTC))
        except (ExpiredError, RevokedError) as exc:
            raise AuthError(f"centre certificate not usable: {exc.reason}") from None
        except ArtefactError:
            raise AuthError("centre certificate not usable") from None
        return _Claim(centre, at, nonce, sig, cert, now)

    def verify(self, headers: HeaderLookup, method: str, path: str, query: str, body: bytes,
               claim: _Claim | None = None) -> AuthenticatedCentre:
        """The full check: ``precheck`` (unless its result is given), the signature, the nonce."""
        claim = claim or self.precheck(headers)
        try:
            signing.verify(claim.cert.signing_public, SYNC_REQUEST_PURPOSE,
                           request_message(claim.centre, method, path, query, body, claim.at, claim.nonce),
                           claim.signature)
        except ArtefactError:
            raise AuthError("request signature does not verify") from None
        self._remember(claim.centre, claim.nonce, claim.now)
        return AuthenticatedCentre(claim.centre, claim.cert, claim.nonce)

    def _remember(self, centre: str, nonce: str, now: float) -> None:
        """Record the nonce durably; a second sighting is a replay."""
        with write(self.nonces) as conn:
            conn.execute(delete(sync_nonces).where(sync_nonces.c.seen_at < now - 2 * self.window))
            inserted = insert_ignore(conn, sync_nonces, {"centre_id": centre, "nonce": nonce, "seen_at": now})
        if not inserted:
            raise AuthError("replayed request (nonce already used)")
