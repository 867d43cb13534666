"""The kiosk's link to the proctor console (``exam_core.protocol``, Socket.IO namespace ``/kiosk``).

Why a loop around a fresh client instead of Socket.IO's own reconnection: every connection must
answer a fresh, single-use challenge, and the exam must never wait for the console. The link runs
in its own thread: it connects (challenge login with the device key, TLS pinned to the certificate
seen at pairing), signs its release attestation over that same login challenge (so a recorded
attestation is worthless on any later connection), says ``hello``, then repeatedly fetches the
admitted package, drains the outbox (each entry deleted only when the console acks it) and sends a
heartbeat. When the console is gone, it backs off and tries again; the candidate notices nothing
but the connection indicator.

Why the asyncio client: the session logic above stays synchronous in the link's thread, but every
network step runs on python-socketio's ``AsyncClient`` (aiohttp) in an ``exam_core.aioloop``
loop thread. The threaded client read and wrote one TLS socket from two threads, lost about one
frame in 500 (a resend then waited out its 10 s timeout) and its ``disconnect()`` could block for
a ping interval, which kept a kiosk alive after SIGTERM. Every step here has a timeout and
``stop()`` cancels the step in flight, so stopping is bounded.

Commands arrive on ``command`` and are answered through the Socket.IO ack with the runtime's
``CommandAck``; they are applied one at a time on a worker thread (the journal fsyncs, the event
loop does not wait for them). A ``start`` that arrives before the package is cached is refused
with ``retry``; once the package is in, the link says ``hello`` again, which makes the console
re-send it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import random
import secrets
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable, Coroutine
from urllib.parse import urlparse

import aiohttp
import requests
import socketio

from exam_core import keys, pairing, protocol
from exam_core.aioloop import LoopThread
from exam_core.errors import InvigilError, TamperedError, UntrustedError
from exam_core.jsonio import b64d, b64e, loads_strict
from exam_core.timestamps import utc_text
from exam_core.tls import tls_fingerprint

from kiosk import __version__
from kiosk.device import Device
from kiosk.outbox import KIND_ENVELOPE
from kiosk.runtime import KioskRuntime, PackageUnavailable

log = logging.getLogger("kiosk.link")
HEARTBEAT_SECONDS = 5.0
CALL_TIMEOUT = 10.0
CONNECT_TIMEOUT = 2 * CALL_TIMEOUT + 2  # the challenge request, then the Socket.IO handshake
DISCONNECT_SECONDS = 2.0
STOP_SECONDS = 4.0  # stop(): the link thread closes its connection (DISCONNECT_SECONDS) and ends
BACKOFF = (0.2, 0.5, 1.0, 2.0, 3.0)
#: Each wait (reconnect back-off, heartbeat interval) is stretched or shrunk by up to this share at
#: random. Why: after a console restart every kiosk reconnects at once; without jitter their
#: heartbeats would stay in lockstep and reach the console as one burst every interval (measured:
#: 500 kiosks in step raised the console's event p99 from ~45 ms to 80-430 ms).
JITTER = 0.2


def jittered(seconds: float) -> float:
    """``seconds`` give or take ``JITTER`` of it (not a secret: ``random`` is fine here)."""
    return seconds * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311 - jitter, not a secret
MAX_CHALLENGE_BYTES = 4096


def console_ssl_context(device: Device, url: str) -> ssl.SSLContext | None:
    """TLS trust for this console: only the certificate pinned at pairing; ``None`` on plain HTTP.
    No system CA store and no environment variable can widen it.

    The host name is not checked, on purpose: the pinned certificate is the console's own
    self-signed one, so only the holder of its private key can complete the handshake, whatever
    address the kiosk uses. A console's certificate names localhost and its host name, while
    kiosks reach it by its LAN address (``https://192.168.1.10:8443``), which a name check would refuse.
    """
    if not url.startswith("https"):
        return None
    pem = device.file("console-tls.pem")
    if not pem.exists():
        raise UntrustedError("no pinned console certificate: pair the kiosk first")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False  # see above; CERT_REQUIRED stays
    context.verify_mode = ssl.CERT_REQUIRED
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_verify_locations(cafile=str(pem))
    return context


@dataclass
class _Connection:
    """One Socket.IO connection and the aiohttp session (pinned TLS) it runs on."""

    sio: socketio.AsyncClient
    http: aiohttp.ClientSession


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
        self.ssl_context = console_ssl_context(device, self.url)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: LoopThread | None = None
        self._in_flight: concurrent.futures.Future | None = None
        self._commands = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="kiosk-command")
        self._say_hello = threading.Event()
        self._challenge: bytes | None = None  # login challenge of the current connection
        self.quarantined: set[tuple[str, int]] = set()
        self.last_error: str | None = None

    # --- lifecycle ---------------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._loop = LoopThread("kiosk-console-io")
        self._thread = threading.Thread(target=self._run, name="kiosk-console-link", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the link within about STOP_SECONDS, whatever the console or the network does."""
        self._stop.set()
        self._wake.set()
        in_flight = self._in_flight
        if in_flight is not None:
            in_flight.cancel()  # a call waiting for its ack ends now, not at its timeout
        if self._thread is not None:
            self._thread.join(STOP_SECONDS)
            if self._thread.is_alive():
                log.warning("console link did not end within %.0f s; abandoned", STOP_SECONDS)
        if self._loop is not None:
            self._loop.stop(1.0)
        self._commands.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._session_once()
                failures = 0
            except Exception as exc:  # noqa: BLE001 - any failure means: offline, try again later
                self.last_error = f"{type(exc).__name__}: {exc}"
                if not self._stop.is_set():
                    log.info("console link down: %s", self.last_error)
            finally:
                self.runtime.console_connected = False
            self._stop.wait(jittered(BACKOFF[min(failures, len(BACKOFF) - 1)]))
            failures += 1

    def _await(self, coro: Coroutine[Any, Any, Any], timeout: float) -> Any:
        """Run one network step on the loop thread; ``stop()`` cancels it (the link never waits
        out a timeout while the kiosk is shutting down)."""
        if self._loop is None:
            raise RuntimeError("the link's event loop is not running")
        future = self._loop.submit(asyncio.wait_for(coro, timeout))
        self._in_flight = future
        try:
            if self._stop.is_set():
                future.cancel()
            return future.result(timeout + 1)  # wait_for ends it first unless the loop is stuck
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise
        finally:
            self._in_flight = None

    # --- one connection ----------------------------------------------------------------------------

    async def _connect(self) -> _Connection:
        """Fetch a fresh challenge and log in with it, both over the pinned TLS session."""
        # trust_env=False: proxy variables must not reroute the link; the connector's context is
        # the only trust (engineio passes no ssl option of its own while ssl_verify is True).
        http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=self.ssl_context or True),
                                     trust_env=False)
        sio = socketio.AsyncClient(reconnection=False, http_session=http, ssl_verify=True, handle_sigint=False,
                                   request_timeout=CALL_TIMEOUT)
        sio.on(protocol.COMMAND, self._on_command, namespace=protocol.KIOSK_NAMESPACE)
        connection = _Connection(sio, http)
        try:
            auth = await self._auth(http)
            await sio.connect(self.url, namespaces=[protocol.KIOSK_NAMESPACE], auth=auth,
                              transports=["websocket"], wait_timeout=CALL_TIMEOUT)
        except BaseException:
            await self._close(connection)
            raise
        return connection

    async def _auth(self, http: aiohttp.ClientSession) -> dict[str, Any]:
        timeout = aiohttp.ClientTimeout(total=CALL_TIMEOUT)
        async with http.get(self.url + protocol.CHALLENGE_PATH, timeout=timeout, allow_redirects=False) as reply:
            reply.raise_for_status()
            body = bytearray()
            async for chunk in reply.content.iter_chunked(1024):  # read(n) may stop short
                body += chunk
                if len(body) > MAX_CHALLENGE_BYTES:
                    break  # refused below, by size
        challenge = protocol.Challenge.from_dict(loads_strict(bytes(body), max_bytes=MAX_CHALLENGE_BYTES))
        self._challenge = b64d(challenge.challenge, "challenge", 32)
        return protocol.make_kiosk_auth(self.device.signing_key, challenge, self.device.kiosk_id).to_dict()

    @staticmethod
    async def _close(connection: _Connection) -> None:
        """Disconnect politely for at most DISCONNECT_SECONDS, then drop the socket regardless."""
        try:
            await asyncio.wait_for(connection.sio.disconnect(), DISCONNECT_SECONDS)
        except Exception as exc:  # noqa: BLE001 - the connection is going away either way
            log.debug("console disconnect: %s", exc)
        finally:
            await connection.http.close()

    def _session_once(self) -> None:
        self._challenge = None
        connection = self._await(self._connect(), CONNECT_TIMEOUT)
        sio = connection.sio
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
                    next_beat = time.monotonic() + jittered(self.heartbeat_seconds)
                self._wake.wait(0.5)
                self._wake.clear()
        finally:
            self.runtime.console_connected = False
            if self._loop is None:
                raise RuntimeError("the link's event loop is not running")
            self._loop.run(self._close(connection), DISCONNECT_SECONDS + 1)  # not cancelled by stop()

    def _call(self, sio: socketio.AsyncClient, event: str, data: Any) -> dict[str, Any]:
        ack = self._await(sio.call(event, data, namespace=protocol.KIOSK_NAMESPACE, timeout=CALL_TIMEOUT),
                          CALL_TIMEOUT + 1)
        if not isinstance(ack, dict):
            raise ConnectionError(f"{event}: unexpected ack {type(ack).__name__}")
        return ack

    def _hello(self, sio: socketio.AsyncClient) -> None:
        ack = self._call(sio, protocol.HELLO, self.runtime.hello().to_dict())
        if not ack.get("ok"):
            raise ConnectionError(f"hello refused: {ack.get('reason')}")
        try:
            head = protocol.hello_ack_journal_head(ack)
        except InvigilError as exc:
            raise ConnectionError(f"hello ack: {exc}") from None
        self.runtime.check_console_head(head)

    # --- outbox --------------------------------------------------------------------------------------

    def _drain(self, sio: socketio.AsyncClient) -> None:
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

    def _fetch_package(self, sio: socketio.AsyncClient) -> None:
        wanted = self.runtime.package_wanted()
        if wanted is None:
            return
        package_id, _sha256, size = wanted
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

    async def _on_command(self, data: Any = None) -> dict[str, Any]:
        try:
            command = protocol.Command.from_dict(data)
        except InvigilError as exc:
            return protocol.ack_error("invalid", str(exc))
        # The runtime journals the command (fsync) before it answers: off the event loop, in order.
        ack = await asyncio.get_running_loop().run_in_executor(self._commands, self.runtime.handle_command, command)
        self._wake.set()
        return ack.to_dict()


def pair(device: Device, url: str, code: str, timeout: float = 10.0) -> pairing.PairResponse:
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
        if not parts.hostname:
            raise UntrustedError(f"{url}: no console host to pair with")
        pem = ssl.get_server_certificate((parts.hostname, parts.port or 443), timeout=timeout)
        seen = tls_fingerprint(ssl.PEM_cert_to_DER_cert(pem))
    nonce = b64e(secrets.token_bytes(16))
    request = pairing.PairRequest(
        kiosk_id=device.kiosk_id, signing_key=keys.public_key_to_dict(device.signing_key.public_key()),
        hpke_key=keys.public_key_to_dict(device.hpke_key.public_key()), nonce=nonce,
        software_version=__version__)
    sealed = pairing.seal_pairing(code, pairing.PAIRING_REQUEST, request.to_dict())
    # The console's certificate is not known before pairing: the request and reply are sealed with the
    # pairing code instead, and the reply pins the certificate for every later connection.
    reply = requests.post(url + pairing.PAIR_PATH, json=sealed, verify=False, timeout=timeout)  # noqa: S501
    if reply.status_code != 200:
        raise UntrustedError(f"pairing refused by the console: HTTP {reply.status_code} {reply.text[:200]}")
    response = pairing.PairResponse.from_dict(
        pairing.open_pairing(code, pairing.PAIRING_RESPONSE, loads_strict(reply.content, max_bytes=256 * 1024)))
    if response.nonce != nonce or response.kiosk_id != device.kiosk_id:
        raise TamperedError("pairing response does not answer this request")
    if seen is not None and response.tls_fingerprint_sha256 != seen:
        raise UntrustedError("the console's TLS certificate differs from the one it states (man in the middle?)")
    documents = {"kiosk.cert": response.kiosk_certificate.encode(),
                 "console-tls.pem": response.tls_certificate_pem.encode()}
    if response.centre_certificate:
        documents["centre.cert"] = response.centre_certificate.encode()
        device.check_pairing_chain(documents["centre.cert"], documents["kiosk.cert"])
    device.save_pairing({"console_url": url, "console_id": response.console_id, "centre_id": response.centre_id,
                         "tls_fingerprint_sha256": response.tls_fingerprint_sha256,
                         "paired_at": utc_text()}, documents)
    return response

