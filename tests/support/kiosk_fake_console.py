"""A minimal console speaking exam_core.protocol over real python-socketio, for kiosk tests.

Why not the real proctor console: these tests stop and restart the console mid-exam, kill the
kiosk, and need to send exact commands at exact moments; driving the real console would mean a
proctor login and its dashboard actions for each. This server implements the kiosk side of the
protocol exactly as ``docs/PROTOCOL.md`` states it (fresh single-use challenge, signature check
with the kiosk's key, acks only after storing, duplicate events acked again, unacked commands
re-sent after every hello, package chunks) and nothing else. The real console is exercised
against the kiosk by the console's own tests with its SimKiosk and by the end-to-end demo.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from datetime import datetime, timedelta, UTC
from pathlib import Path
from typing import Any

import socketio
from flask import Flask, jsonify
from werkzeug.serving import make_server

from exam_core import protocol
from exam_core.jsonio import b64d, b64e
import contextlib


def _now(delta: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


class ConsoleStore:
    """What a console keeps durably: survives a FakeConsole restart (the test holds it)."""

    def __init__(self) -> None:
        self.events: dict[int, dict[str, Any]] = {}
        self.duplicates = 0
        self.envelopes: dict[str, dict[str, Any]] = {}
        self.pending: dict[str, dict[str, Any]] = {}
        self.acks: dict[str, dict[str, Any]] = {}
        self.hellos: list[dict[str, Any]] = []
        self.hello_challenges: list[bytes] = []  # the login challenge of each hello's connection
        self.heartbeats: list[dict[str, Any]] = []
        self.packages: dict[str, bytes] = {}


class FakeConsole:
    def __init__(self, kiosk_public: Any, store: ConsoleStore | None = None, port: int = 0,
                 tls: tuple[Path, Path] | None = None, host: str = "127.0.0.1") -> None:
        """``tls``: (certificate, key) files to serve HTTPS with, as the real console does."""
        self.kiosk_public = kiosk_public
        self.tls = tls
        self.store = store or ConsoleStore()
        self.challenges: dict[str, str] = {}
        self.sid: str | None = None
        self.sid_challenges: dict[str, bytes] = {}
        self.connected = threading.Event()
        self.answering = threading.Event()  # cleared: kiosk messages get no ack (a hung console)
        self.answering.set()
        self.held = 0  # kiosk messages that arrived while not answering
        self.sio = socketio.Server(async_mode="threading", max_http_buffer_size=protocol.MAX_MESSAGE_BYTES)
        flask = Flask("fake-console")

        @flask.get(protocol.CHALLENGE_PATH)
        def challenge():
            c = protocol.Challenge(console_id="console1", challenge=b64e(secrets.token_bytes(32)),
                                   issued=_now(), expires=_now(60))
            self.challenges[c.challenge] = c.issued
            return jsonify(c.to_dict())

        ns = protocol.KIOSK_NAMESPACE
        self.sio.on("connect", self._connect, namespace=ns)
        self.sio.on("disconnect", self._disconnect, namespace=ns)
        for name in (protocol.HELLO, protocol.HEARTBEAT, protocol.EVENT, protocol.ENVELOPE, protocol.PACKAGE_CHUNK):
            self.sio.on(name, getattr(self, f"_on_{name}"), namespace=ns)
        self.server = make_server(host, port, socketio.WSGIApp(self.sio, flask), threaded=True,
                                  ssl_context=(str(tls[0]), str(tls[1])) if tls else None)
        self.port = self.server.server_port
        self.url = f"{'https' if tls else 'http'}://{host}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.sid:
            with contextlib.suppress(Exception):
                self.sio.disconnect(self.sid, namespace=protocol.KIOSK_NAMESPACE)
        self.server.shutdown()
        self.server.server_close()

    # --- protocol handlers ----------------------------------------------------------------------

    def _hold(self) -> None:
        if not self.answering.is_set():
            self.held += 1
            self.answering.wait(60)

    def _connect(self, sid: str, environ: dict, auth: Any = None) -> None:
        kiosk_auth = protocol.KioskAuth.from_dict(auth)
        payload = protocol.open_kiosk_auth(kiosk_auth, self.kiosk_public)
        if self.challenges.pop(payload.challenge, None) != payload.issued:
            raise ConnectionRefusedError("unknown or used challenge")
        self.sid_challenges[sid] = b64d(payload.challenge)
        self.sid = sid
        self.connected.set()

    def _disconnect(self, sid: str, *args: Any) -> None:
        if sid == self.sid:
            self.sid = None
            self.connected.clear()

    def _on_hello(self, sid: str, data: Any) -> dict:
        self._hold()
        hello = protocol.parse_message(protocol.Hello, data, protocol.MAX_ATTESTATION_BYTES * 2)
        self.store.hellos.append(hello.to_dict())
        self.store.hello_challenges.append(self.sid_challenges[sid])
        self.sio.start_background_task(self._resend)
        last = max(self.store.events) if self.store.events else None
        return protocol.ack_ok(console_id="console1", console_time=_now(), last_seq=last)

    def _on_heartbeat(self, sid: str, data: Any) -> dict:
        self._hold()
        self.store.heartbeats.append(protocol.parse_message(protocol.Heartbeat, data).to_dict())
        return protocol.ack_ok()

    def _on_event(self, sid: str, data: Any) -> dict:
        self._hold()
        event = protocol.parse_event(data)
        duplicate = event.seq in self.store.events
        if duplicate:
            self.store.duplicates += 1
        else:
            self.store.events[event.seq] = event.to_dict()
        return protocol.ack_ok(seq=event.seq, duplicate=duplicate)

    def _on_envelope(self, sid: str, data: Any) -> dict:
        self._hold()
        message = protocol.parse_message(protocol.EnvelopeMessage, data, protocol.MAX_MESSAGE_BYTES)
        duplicate = message.attempt_id in self.store.envelopes
        self.store.envelopes.setdefault(message.attempt_id, message.to_dict())
        return protocol.ack_ok(sha256=message.sha256, duplicate=duplicate)

    def _on_package_chunk(self, sid: str, data: Any) -> dict:
        self._hold()
        req = protocol.PackageChunkRequest.from_dict(data)
        blob = self.store.packages.get(req.package_id)
        if blob is None:
            return protocol.ack_error("unauthorised", "no such package")
        chunk = blob[req.offset:req.offset + req.length]
        return protocol.ack_ok(data=b64e(chunk), total=len(blob), sha256=hashlib.sha256(blob).hexdigest())

    # --- commands -------------------------------------------------------------------------------

    def _resend(self) -> None:
        for command in list(self.store.pending.values()):
            self._deliver(command)

    def _deliver(self, command: dict[str, Any]) -> dict[str, Any] | None:
        if self.sid is None:
            return None
        try:
            ack = self.sio.call(protocol.COMMAND, command, to=self.sid, namespace=protocol.KIOSK_NAMESPACE, timeout=15)
        except Exception:  # timeout or disconnect: stays pending
            return None
        self.store.acks[command["command_id"]] = ack
        if ack.get("ok"):
            self.store.pending.pop(command["command_id"], None)
        return ack

    def send(self, command: protocol.Command, wait: float = 15) -> dict[str, Any] | None:
        """Store the command, deliver it now if connected; returns the ack (None if not acked)."""
        data = command.to_dict()
        self.store.pending[command.command_id] = data
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            ack = self._deliver(data)
            if ack is not None and (ack.get("ok") or ack.get("error") != "retry"):
                return ack
            time.sleep(0.2)
        return self.store.acks.get(command.command_id)


def wait_for(predicate, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


__all__ = ["ConsoleStore", "FakeConsole", "wait_for"]
