"""A simulated kiosk speaking ``exam_core.protocol``: for tests, the bench, demos.

It is a real python-socketio client doing what a kiosk does on the wire (pairing with a one-time
code and TLS pinning, challenge login on every connect, hello, heartbeats, events with per-kiosk
sequence numbers resent until acked, command acks applied once), without the candidate UI or
monitors. It imports nothing of the console, only ``exam_core``.

Why the asyncio client on a private loop thread: the threaded python-socketio client reads and
writes the same TLS socket from two threads (websocket-client), and over HTTPS it loses or
corrupts an occasional frame (measured: about 1 ack in 500 never arrived, against the bare relay
too); the asyncio client has one thread per connection and lost none in 3,000.
"""

from __future__ import annotations

import hashlib
import secrets
import ssl
import tempfile
import threading
import time
from typing import Any
from urllib.parse import urlparse

import requests
import socketio

from exam_core import keys, package, pairing, protocol
from exam_core.aioloop import LoopThread
from exam_core.attestation import make_attestation_document
from exam_core.jsonio import b64d, b64e
from exam_core.timestamps import format_time, utc_now
from exam_core.tls import tls_fingerprint


class SimKiosk:
    def __init__(self, base_url: str, kiosk_id: str, *, verify: str | bool | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.kiosk_id = kiosk_id
        self.signing_key = keys.generate_signing_key()
        self.hpke_key = keys.generate_hpke_key(keys.SUITE_X25519)
        self.verify: str | bool = verify if verify is not None else not base_url.startswith("https")
        self.state = "idle"
        self.attempt_id: str | None = None
        self.next_seq = 0
        self.applied: dict[str, dict[str, Any]] = {}
        self.commands: list[dict[str, Any]] = []
        self.messages: list[str] = []
        self.content_key: bytes | None = None
        self.auth_override: Any = None
        #: Release measurement to attest in every hello (signed over that connection's login
        #: challenge, as a real kiosk does); ``attestation_override`` sends fixed bytes instead.
        self.measurement: str | None = None
        self.attestation_override: bytes | None = None
        self.last_attestation: bytes | None = None
        self._challenge: bytes | None = None
        self.needs_resume_approval = False
        self.lock = threading.Lock()
        self._loop: LoopThread | None = None
        self._sio: socketio.AsyncClient | None = None

    @property
    def loop(self) -> LoopThread:
        if self._loop is None:
            self._loop = LoopThread()
        return self._loop

    @property
    def sio(self) -> socketio.AsyncClient:
        """The socket client, made on first use (pairing alone needs none)."""
        if self._sio is None:
            self._sio = self.loop.run(self._make_client())
        return self._sio

    async def _make_client(self) -> socketio.AsyncClient:
        sio = socketio.AsyncClient(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1,
                                   ssl_verify=self.verify is not False,
                                   websocket_extra_options=self._ssl_options())
        sio.on(protocol.COMMAND, self._on_command, namespace=protocol.KIOSK_NAMESPACE)
        return sio

    def _ssl_options(self) -> dict[str, Any]:
        """TLS pinned to the console certificate learnt at pairing (no host name check)."""
        if not isinstance(self.verify, str):
            return {}
        context = ssl.create_default_context(cafile=self.verify)
        context.check_hostname = False
        return {"ssl": context}

    # --- pairing --------------------------------------------------------------------------------
    def pair(self, code: str) -> pairing.PairResponse:
        """Pair with a one-time code; pins the console certificate seen on this connection."""
        seen_fingerprint = None
        if self.base_url.startswith("https"):
            parts = urlparse(self.base_url)
            pem = ssl.get_server_certificate((parts.hostname or "", parts.port or 443))
            seen_fingerprint = tls_fingerprint(ssl.PEM_cert_to_DER_cert(pem))
        nonce = b64e(secrets.token_bytes(16))
        request = pairing.PairRequest(kiosk_id=self.kiosk_id,
                                      signing_key=keys.public_key_to_dict(self.signing_key.public_key()),
                                      hpke_key=keys.public_key_to_dict(self.hpke_key.public_key()),
                                      nonce=nonce, software_version="simkiosk")
        sealed = pairing.seal_pairing(code, pairing.PAIRING_REQUEST, request.to_dict())
        reply = requests.post(self.base_url + pairing.PAIR_PATH, json=sealed, verify=False, timeout=10)
        if reply.status_code != 200:
            raise RuntimeError(f"pairing refused: HTTP {reply.status_code} {reply.text}")
        response = pairing.PairResponse.from_dict(pairing.open_pairing(code, pairing.PAIRING_RESPONSE, reply.json()))
        if response.nonce != nonce or response.kiosk_id != self.kiosk_id:
            raise RuntimeError("pairing response does not answer this request")
        if seen_fingerprint is not None:
            if response.tls_fingerprint_sha256 != seen_fingerprint:
                raise RuntimeError("console TLS certificate differs from the paired one (man in the middle?)")
            with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as pin:
                pin.write(response.tls_certificate_pem)
            self.verify = pin.name
            if self._sio is not None:
                self._sio.eio.ssl_verify = True
                self._sio.eio.websocket_extra_options = self._ssl_options()
        self.pairing = response
        return response

    # --- login ------------------------------------------------------------------------------------
    def fetch_challenge(self) -> protocol.Challenge:
        reply = requests.get(self.base_url + protocol.CHALLENGE_PATH, verify=self.verify, timeout=10)
        reply.raise_for_status()
        return protocol.Challenge.from_dict(reply.json())

    def make_auth(self) -> dict[str, Any]:
        if self.auth_override is not None:
            return self.auth_override
        challenge = self.fetch_challenge()
        self._challenge = b64d(challenge.challenge, "challenge", 32)
        return protocol.make_kiosk_auth(self.signing_key, challenge, self.kiosk_id).to_dict()

    def attestation(self) -> bytes | None:
        if self.attestation_override is not None:
            return self.attestation_override
        if self.measurement is None or self._challenge is None:
            return None
        self.last_attestation = make_attestation_document(
            self.signing_key, kiosk_id=self.kiosk_id, nonce=self._challenge, measurement=self.measurement,
            kind="source", policy_sha256=hashlib.sha256(b"simkiosk policy").hexdigest(), files=1)
        return self.last_attestation

    def connect(self, timeout: float = 30) -> None:
        self.loop.run(self.sio.connect(self.base_url, namespaces=[protocol.KIOSK_NAMESPACE],
                                       auth=lambda: self.make_auth(), transports=["websocket"], wait_timeout=timeout))
        self.hello()

    @property
    def connected(self) -> bool:
        return bool(self.sio.connected)

    def hello(self) -> dict[str, Any]:
        attestation = self.attestation()
        return self.call(protocol.HELLO, protocol.Hello(kiosk_id=self.kiosk_id, state=self.state,
                                                        software_version="simkiosk", attempt_id=self.attempt_id,
                                                        next_seq=self.next_seq,
                                                        attestation=b64e(attestation) if attestation else None,
                                                        needs_resume_approval=self.needs_resume_approval).to_dict())

    def call(self, event: str, data: Any, timeout: float = 30) -> Any:
        return self.loop.run(self.sio.call(event, data, namespace=protocol.KIOSK_NAMESPACE, timeout=timeout))

    # --- messages -------------------------------------------------------------------------------
    def heartbeat(self, **extra: Any) -> Any:
        beat = {"v": 1, "state": self.state, "wall_time": format_time(utc_now()), "attempt_id": self.attempt_id,
                **extra}
        return self.call(protocol.HEARTBEAT, beat)

    def make_event(self, type_: str = "heartbeat.info", severity: str = "info", **fields: Any) -> dict[str, Any]:
        with self.lock:
            seq = self.next_seq
            self.next_seq += 1
        return {"kiosk_id": self.kiosk_id, "seq": seq, "type": type_, "severity": severity,
                "wall_time": format_time(utc_now()), "mono_time": time.monotonic(), "attempt_id": self.attempt_id,
                **fields}

    def send_event(self, event: dict[str, Any], timeout: float = 30) -> Any:
        return self.call(protocol.EVENT, event, timeout)

    def disconnect(self) -> None:
        self.loop.run(self.sio.disconnect())

    # --- commands -------------------------------------------------------------------------------
    def _on_command(self, data: Any) -> dict[str, Any]:
        command = protocol.Command.from_dict(data)
        with self.lock:
            if command.command_id in self.applied:
                return self.applied[command.command_id]
            self.commands.append(data)
            ack = self._apply(command)
            self.applied[command.command_id] = ack
            return ack

    def _apply(self, command: protocol.Command) -> dict[str, Any]:
        kind = command.type
        if kind == "admit":
            self.attempt_id, self.state = command.attempt_id, "admitted"
        elif kind in ("start", "resume_approved"):
            self.content_key = package.unwrap_released_key(b64d(command.args.wrapped_key), self.hpke_key,
                                                           command.args.package_id, command.attempt_id or "")
            self.state, self.needs_resume_approval = "in_progress", False
        elif kind == "pause":
            self.state = "paused"
        elif kind == "resume":
            self.state = "in_progress"
        elif kind == "end":
            self.state = "ended"
        elif kind == "cancel_admission":
            self.attempt_id, self.state = None, "idle"
        elif kind == "message":
            self.messages.append(command.args.text)
        return protocol.CommandAck(ok=True, command_id=command.command_id, state=self.state).to_dict()
