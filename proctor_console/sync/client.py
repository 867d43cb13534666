"""The centre's HTTP client of the central sync API: signed requests, pinned TLS, resumable downloads.

Every request is signed with the centre's certified Ed25519 key over its method, path, query,
body hash, time and a fresh nonce (the format is ``exam_core.signed_request``, shared with the
server's check); paths, the package list, the upload and its answer are ``exam_core.sync_wire``,
which the hub uses too. Everything the hub answers is verified before use: the package list is
signed by the central key and bound to the request's nonce, packages are checked against the
listed SHA-256 and then by their manifest signature on import, the upload answer is read strictly
(one result per envelope), receipts by ``exam_core.receipt.verify_receipt``.

TLS: the hub's certificate is self-signed, so it is pinned by its SHA-256 fingerprint, given
with ``--tls-fingerprint`` or trusted on first use and remembered; a different certificate later is
refused (fail closed).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from exam_core import roster_wire, sync_wire
from exam_core.errors import InvigilError, TamperedError, UntrustedError
from exam_core.signed_request import sign_request

CHUNK = 256 * 1024


class HubError(InvigilError):
    """The hub refused a request or answered something that does not verify."""


@dataclass(frozen=True)
class HubResponse:
    status: int
    headers: dict[str, str]
    body: bytes


class HubClient:
    def __init__(self, url: str, centre_id: str, signing_key: Ed25519PrivateKey, central_public: Ed25519PublicKey,
                 *, tls_fingerprint: str | None = None, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise HubError(f"hub URL must be https://HOST[:PORT] (or http:// with --insecure-dev), got {url!r}")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.prefix = parts.path.rstrip("/")
        self.centre_id = centre_id
        self.signing_key = signing_key
        self.central_public = central_public
        self.pinned = tls_fingerprint.lower().replace(":", "") if tls_fingerprint else None
        self.seen_fingerprint: str | None = None
        self.timeout = timeout

    # --- transport ---------------------------------------------------------------------------------
    def _connection(self) -> http.client.HTTPConnection:
        if self.scheme == "http":
            return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        context = ssl.create_default_context()
        context.check_hostname = False          # self-signed: trust comes from the pinned fingerprint
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout, context=context)
        conn.connect()
        der = conn.sock.getpeercert(binary_form=True)
        if der is None:
            conn.close()
            raise UntrustedError("hub sent no TLS certificate")
        fingerprint = hashlib.sha256(der).hexdigest()
        self.seen_fingerprint = fingerprint
        if self.pinned is not None and fingerprint != self.pinned:
            conn.close()
            raise UntrustedError(f"hub TLS certificate {fingerprint} is not the pinned {self.pinned}")
        return conn

    def _signed_headers(self, method: str, path: str, query: str, body: bytes) -> dict[str, str]:
        return sign_request(self.signing_key, self.centre_id, method, path, query, body)

    def open(self, method: str, path: str, body: bytes = b"", extra: dict[str, str] | None = None
             ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse, str]:
        """Send a signed request; return the open connection, response and the nonce used."""
        full = self.prefix + path
        headers = self._signed_headers(method, full, "", body)
        headers.update(extra or {})
        if body:
            headers["Content-Type"] = "application/json"
        try:
            conn = self._connection()
        except (OSError, http.client.HTTPException) as exc:
            raise HubError(f"{method} {full}: cannot reach the hub ({exc})") from None
        try:
            conn.request(method, full, body=body or None, headers=headers)
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise HubError(f"{method} {full}: {exc}") from None
        return conn, response, headers["X-Invigil-Nonce"]

    def call(self, method: str, path: str, body: bytes = b"", max_bytes: int = sync_wire.ANSWER_MAX_BYTES
             ) -> tuple[HubResponse, str]:
        conn, response, nonce = self.open(method, path, body)
        try:
            data = response.read(max_bytes + 1)
        finally:
            conn.close()
        if len(data) > max_bytes:
            raise HubError(f"{method} {path}: answer larger than {max_bytes} bytes")
        if response.status != 200:
            raise HubError(f"{method} {path}: HTTP {response.status}: {_error_text(data)}")
        return HubResponse(response.status, dict(response.getheaders()), data), nonce

    # --- API ---------------------------------------------------------------------------------------
    def list_packages(self) -> tuple[sync_wire.PackageListEntry, ...]:
        """The signed package list, checked: central signature, this centre, this request's nonce,
        and every entry strictly."""
        response, nonce = self.call("GET", sync_wire.PACKAGES_PATH, max_bytes=sync_wire.PACKAGE_LIST_MAX_BYTES)
        return sync_wire.open_package_list(response.body, self.central_public, self.centre_id, nonce).packages

    def revocations(self) -> bytes:
        response, _ = self.call("GET", sync_wire.REVOCATIONS_PATH, max_bytes=sync_wire.PACKAGE_LIST_MAX_BYTES)
        return response.body

    def rosters(self) -> tuple[bytes, ...]:
        """The signed rosters of this centre's sessions, unverified (each is verified on import)."""
        response, _ = self.call("GET", roster_wire.ROSTERS_PATH, max_bytes=roster_wire.ROSTER_LIST_MAX_BYTES)
        return roster_wire.parse_roster_list(response.body)

    def upload(self, upload: sync_wire.Upload) -> sync_wire.UploadAnswer:
        """Upload envelopes (and kiosk revocations, which may come without any); one result per
        envelope. An HTTP error (e.g. a revocation the hub refused) raises."""
        response, _ = self.call("POST", sync_wire.ENVELOPES_PATH, upload.to_bytes())
        return sync_wire.parse_upload_answer(response.body, upload)

    def download(self, package_id: str, part: Path, size: int, sha256: str,
                 on_bytes: Callable[[int], None] = lambda n: None) -> bytes:
        """Download into ``part`` (resuming from its length with ``Range``), verify, return the bytes.

        A partial file that turns out not to match (the hub republished under the same id) is
        discarded and the download starts over once.
        """
        for attempt in range(2):
            have = part.stat().st_size if part.exists() else 0
            if have > size:
                part.unlink()
                have = 0
            if have < size:
                self._fetch_range(package_id, part, have, on_bytes)
            data = part.read_bytes()
            if len(data) == size and hashlib.sha256(data).hexdigest() == sha256:
                return data
            part.unlink()
            if attempt == 1:
                raise TamperedError(f"package {package_id}: downloaded bytes do not match the signed list")
        raise AssertionError("unreachable")

    def _fetch_range(self, package_id: str, part: Path, start: int, on_bytes: Callable[[int], None]) -> None:
        extra = {"Range": f"bytes={start}-"} if start else {}
        conn, response, _ = self.open("GET", sync_wire.package_path(package_id), extra=extra)
        try:
            if response.status == 200 and start:
                start = 0                       # the hub ignored the range: take the whole file
            elif response.status not in (200, 206):
                raise HubError(f"package {package_id}: HTTP {response.status}: {_error_text(response.read(4096))}")
            on_bytes(start)
            with open(part, "r+b" if start else "wb") as fh:
                fh.seek(start)
                fh.truncate()
                while True:
                    try:
                        chunk = response.read(CHUNK)
                    except (TimeoutError, OSError, http.client.HTTPException) as exc:
                        raise HubError(f"package {package_id}: connection lost ({exc}); "
                                       "run sync again to resume") from None
                    if not chunk:
                        break
                    fh.write(chunk)
                    fh.flush()
                    on_bytes(len(chunk))
                os.fsync(fh.fileno())
        finally:
            conn.close()


def _error_text(data: bytes) -> str:
    try:
        return str(json.loads(data).get("error", ""))[:300]
    except (ValueError, AttributeError):
        return data[:200].decode("utf-8", "replace")
