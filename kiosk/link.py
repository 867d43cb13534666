"""The kiosk's link to the proctor console (``exam_core.protocol``, Socket.IO namespace ``/kiosk``).

Why a loop around a fresh client instead of Socket.IO's own reconnection: every connection must
answer a fresh, single-use challenge, and the exam must never wait for the console. The link runs
in its own thread: it connects (challenge login with the device key, TLS pinned to the certificate
seen at pairing), signs its release attestation over that same login challenge (so a recorded
attestation is worthless on any later connection), says ``hello``, then repeatedly fetches the
admitted package, drains the outbox (each entry deleted only when the console acks it) and sends a
heartbeat. When the console is
gone, it backs off and tries again; the candidate notices nothing but the connection indicator.

Commands arrive on ``command`` and are answered through the Socket.IO ack with the runtime's
``CommandAck``. A ``start`` that arrives before the package is cached is refused with ``retry``;
once the package is in, the link says ``hello`` again, which makes the console re-send it.
"""

from __future__ import annotations

import logging
import secrets
import ssl
import threading
import time
from typing import Any, Callable
from urllib.parse import urlparse

import requests
import socketio

from exam_core import keys, protocol
from exam_core.errors import InvigilError, TamperedError, UntrustedError
from exam_core.jsonio import b64d, b64e, loads_strict

from kiosk import __version__
from kiosk.device import Device
from kiosk.outbox import KIND_ENVELOPE
from kiosk.runtime import KioskRuntime, PackageUnavailable

log = logging.getLogger("kiosk.link")
HEARTBEAT_SECONDS = 5.0
CALL_TIMEOUT = 10.0
BACKOFF = (0.2, 0.5, 1.0, 2.0, 3.0)


def http_verify(device: Device, url: str) -> str | bool:
    """What TLS verification means for this console: the pinned certificate, or nothing on HTTP."""
    if not url.startswith("https"):
        return False
    pem = device.file("console-tls.pem")
    if not pem.exists():
        raise UntrustedError("no pinned console certificate: pair the kiosk first")
    return str(pem)


class ConsoleLink:
    """Runs the connection in a background thread; see the module docstring."""

    def __init__(self, runtime: KioskRuntime, device: Device, url: str, *,
                 heartbeat_seconds: float = HEARTBEAT_SECONDS,
                 camera_fps: Callable[[], float | None] = lambda: None) -> None:
        self.runtime = runtime
        self.device = device
        self.url = url.rstrip("/")
        self.heartbeat_seconds = heartbeat_seconds
        self.camera_fps = camera_fps
        self.verify = http_verify(device, self.url)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sio: socketio.Client | None = None
        self._say_hello = threading.Event()
        self._challenge: bytes | None = None  # login challenge of the current connection
        self.quarantined: set[tuple[str, int]] = set()
        self.last_error: str | None = None

    # --- lifecycle ---------------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="kiosk-console-link", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        sio = self._sio
        if sio is not None:
            try:
                sio.disconnect()
            except Exception:  # noqa: BLE001 - already gone
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._session_once()
                failures = 0
            except Exception as exc:  # noqa: BLE001 - any failure means: offline, try again later
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.info("console link down: %s", self.last_error)
            finally:
                self.runtime.console_connected = False
                self._sio = None
            self._stop.wait(BACKOFF[min(failures, len(BACKOFF) - 1)])
            failures += 1

    # --- one connection ----------------------------------------------------------------------------

    def _http(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE would silently replace the pinned certificate
        session.verify = self.verify
        return session

    def _auth(self) -> dict[str, Any]:
        reply = self._http().get(self.url + protocol.CHALLENGE_PATH, timeout=CALL_TIMEOUT)
        reply.raise_for_status()
        challenge = protocol.Challenge.from_dict(loads_strict(reply.content, max_bytes=4096))
        self._challenge = b64d(challenge.challenge, "challenge", 32)
        return protocol.make_kiosk_auth(self.device.signing_key, challenge, self.device.kiosk_id).to_dict()

    def _session_once(self) -> None:
        self._challenge = None
        sio = socketio.Client(reconnection=False, http_session=self._http(),
                              ssl_verify=bool(self.verify) or not self.url.startswith("https"))
        sio.on(protocol.COMMAND, self._on_command, namespace=protocol.KIOSK_NAMESPACE)
        sio.connect(self.url, namespaces=[protocol.KIOSK_NAMESPACE], auth=self._auth,
                    transports=["websocket"], wait_timeout=CALL_TIMEOUT)
        self._sio = sio
        try:
            if self._challenge is not None:  # the attestation answers this connection's challenge
                self.runtime.attest(self._challenge)
            self._hello(sio)
            self.runtime.console_connected = True
            next_beat = 0.0
            while sio.connected and not self._stop.is_set():
                if self._say_hello.is_set():
                    self._say_hello.clear()
                    self._hello(sio)
                self._fetch_package(sio)
                self._drain(sio)
                if time.monotonic() >= next_beat:
                    self._call(sio, protocol.HEARTBEAT, self.runtime.heartbeat(self.camera_fps()).to_dict())
                    next_beat = time.monotonic() + self.heartbeat_seconds
                self._wake.wait(0.5)
                self._wake.clear()
        finally:
            self.runtime.console_connected = False
            sio.disconnect()

    def _call(self, sio: socketio.Client, event: str, data: Any) -> dict[str, Any]:
        ack = sio.call(event, data, namespace=protocol.KIOSK_NAMESPACE, timeout=CALL_TIMEOUT)
        if not isinstance(ack, dict):
            raise ConnectionError(f"{event}: unexpected ack {type(ack).__name__}")
        return ack

    def _hello(self, sio: socketio.Client) -> None:
        ack = self._call(sio, protocol.HELLO, self.runtime.hello().to_dict())
        if not ack.get("ok"):
            raise ConnectionError(f"hello refused: {ack.get('reason')}")

    # --- outbox --------------------------------------------------------------------------------------

    def _drain(self, sio: socketio.Client) -> None:
        for entry in self.runtime.outbox.pending(limit=50):
            if (entry.kind, entry.seq) in self.quarantined:
                continue
            body = loads_strict(entry.body, max_bytes=protocol.MAX_MESSAGE_BYTES)
            event = protocol.ENVELOPE if entry.kind == KIND_ENVELOPE else protocol.EVENT
            ack = self._call(sio, event, body)
            if ack.get("ok"):
                self.runtime.outbox.ack(entry.kind, entry.seq)
            elif ack.get("error") == "invalid":
                # Never deleted (nothing is, before an ack): kept aside and reported in status.
                self.quarantined.add((entry.kind, entry.seq))
                log.warning("console refused %s %s as invalid: %s", entry.kind, entry.seq, ack.get("reason"))
            else:
                return  # retry later, in order

    # --- package -------------------------------------------------------------------------------------

    def _fetch_package(self, sio: socketio.Client) -> None:
        wanted = self.runtime.package_wanted()
        if wanted is None:
            return
        package_id, sha256, size = wanted
        parts: list[bytes] = []
        offset = 0
        while offset < size:
            ack = self._call(sio, protocol.PACKAGE_CHUNK, protocol.PackageChunkRequest(
                package_id=package_id, offset=offset).to_dict())
            if not ack.get("ok"):
                raise PackageUnavailable(f"package {package_id}: {ack.get('reason')}")
            chunk = b64d(ack["data"], "data", protocol.PACKAGE_CHUNK_BYTES)
            if not chunk:
                raise PackageUnavailable(f"package {package_id}: empty chunk at {offset}")
            parts.append(chunk)
            offset += len(chunk)
        self.runtime.store_package(package_id, b"".join(parts))
        self._say_hello.set()  # a start refused with "retry" is re-sent after hello

    # --- commands --------------------------------------------------------------------------------------

    def _on_command(self, data: Any = None) -> dict[str, Any]:
        try:
            command = protocol.Command.from_dict(data)
        except InvigilError as exc:
            return protocol.ack_error("invalid", str(exc))
        ack = self.runtime.handle_command(command)
        self._wake.set()
        return ack.to_dict()


def pair(device: Device, url: str, code: str, timeout: float = 10.0) -> protocol.PairResponse:
    """Enrol this kiosk with the console once, with the one-time code the console shows.

    Trust on first use, protected by the code: the TLS certificate is not verified on this one
    connection, but its fingerprint must equal the one the console states inside the code-MACed
    response (a man in the middle cannot forge the MAC without the code). The certificate is then
    pinned for every later connection.
    """
    url = url.rstrip("/")
    seen = None
    if url.startswith("https"):
        parts = urlparse(url)
        pem = ssl.get_server_certificate((parts.hostname, parts.port or 443), timeout=timeout)
        seen = protocol.tls_fingerprint(ssl.PEM_cert_to_DER_cert(pem))
    nonce = b64e(secrets.token_bytes(16))
    request = protocol.PairRequest(
        kiosk_id=device.kiosk_id, signing_key=keys.public_key_to_dict(device.signing_key.public_key()),
        hpke_key=keys.public_key_to_dict(device.hpke_key.public_key()), nonce=nonce,
        software_version=__version__)
    sealed = protocol.seal_pairing(code, protocol.PAIRING_REQUEST, request.to_dict())
    reply = requests.post(url + protocol.PAIR_PATH, json=sealed, verify=False, timeout=timeout)
    if reply.status_code != 200:
        raise UntrustedError(f"pairing refused by the console: HTTP {reply.status_code} {reply.text[:200]}")
    response = protocol.PairResponse.from_dict(
        protocol.open_pairing(code, protocol.PAIRING_RESPONSE, loads_strict(reply.content, max_bytes=256 * 1024)))
    if response.nonce != nonce or response.kiosk_id != device.kiosk_id:
        raise TamperedError("pairing response does not answer this request")
    if seen is not None and response.tls_fingerprint_sha256 != seen:
        raise UntrustedError("the console's TLS certificate differs from the one it states (man in the middle?)")
    documents = {"kiosk.cert": response.kiosk_certificate.encode(), "console-tls.pem": response.tls_certificate_pem.encode()}
    if response.centre_certificate:
        documents["centre.cert"] = response.centre_certificate.encode()
        device.check_pairing_chain(documents["centre.cert"], documents["kiosk.cert"])
    device.save_pairing({"console_url": url, "console_id": response.console_id, "centre_id": response.centre_id,
                         "tls_fingerprint_sha256": response.tls_fingerprint_sha256,
                         "paired_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, documents)
    return response

