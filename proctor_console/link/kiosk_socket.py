"""The ``/kiosk`` Socket.IO namespace: challenge login, hello, heartbeats, events, envelopes.

Every handler answers through the ack callback (see docs/PROTOCOL.md). Only a socket that passed
the challenge login has a kiosk id; every handler looks it up first and refuses otherwise, and
nothing here can reach proctor functions: the namespaces share no handler.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from functools import wraps
from typing import TYPE_CHECKING, Any, Callable

import socketio
from socketio.exceptions import ConnectionRefusedError

from exam_core import protocol
from exam_core.errors import InvigilError, ValidationError
from exam_core.jsonio import b64d, b64e, format_time
from exam_core.store import immediate_transaction
from proctor_console import frame_limits
from proctor_console.context import now_text
from proctor_console.eventlog import record_journal_head

if TYPE_CHECKING:
    from proctor_console.attestation_policy import AttestationGate
    from proctor_console.server import ConsoleServer

MAX_PENDING_CHALLENGES = 10_000


class ChallengeBook:
    """Challenges issued and not yet used. Single use: ``consume`` removes before it returns."""

    def __init__(self, console_id: str) -> None:
        self.console_id = console_id
        self._pending: OrderedDict[str, tuple[float, str]] = OrderedDict()

    def issue(self) -> protocol.Challenge:
        now = time.monotonic()
        while self._pending and (len(self._pending) >= MAX_PENDING_CHALLENGES
                                 or next(iter(self._pending.values()))[0] < now):
            self._pending.popitem(last=False)
        wall = datetime.now(timezone.utc)
        challenge = protocol.Challenge(
            console_id=self.console_id, challenge=b64e(secrets.token_bytes(32)), issued=format_time(wall),
            expires=format_time(wall + timedelta(seconds=protocol.CHALLENGE_TTL_SECONDS)))
        self._pending[challenge.challenge] = (now + protocol.CHALLENGE_TTL_SECONDS, challenge.issued)
        return challenge

    def consume(self, payload: protocol.AuthPayload) -> None:
        entry = self._pending.pop(payload.challenge, None)
        if entry is None:
            raise ValidationError("challenge", "unknown or already used")
        deadline, issued = entry
        if time.monotonic() > deadline:
            raise ValidationError("challenge", "expired")
        if issued != payload.issued or payload.console_id != self.console_id:
            raise ValidationError("challenge", "was issued by another console or at another time")


def _logged_in(handler: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Run a message handler only for a socket that passed the challenge login, with its kiosk id."""
    @wraps(handler)
    def wrapper(self: KioskNamespace, sid: str, data: Any = None) -> dict[str, Any]:
        kiosk_id = self.console.room.sid_kiosks.get(sid)
        if kiosk_id is None:
            return protocol.ack_error("unauthorised", "not logged in")
        if self.console.registry.is_revoked(kiosk_id):  # revoked while connected (CLI or admin page)
            self.console.socketio.start_background_task(  # after the refusal has been sent
                lambda: self.console.socketio.server.disconnect(sid, namespace=protocol.KIOSK_NAMESPACE))
            return protocol.ack_error("unauthorised", "kiosk revoked")
        return handler(self, sid, kiosk_id, data)
    return wrapper


class KioskNamespace(socketio.Namespace):
    """Registered on the python-socketio server itself, not through Flask-SocketIO.

    Why: Flask-SocketIO builds a Flask request context (session, URL matching) around every
    message, which was a fifth of the console's CPU at 500 kiosks sending 1,000 events a second,
    and kiosk messages need none of it (no cookie, no Flask session; the kiosk is known by its
    socket id). Handlers therefore receive ``sid`` explicitly.
    """

    def __init__(self, server: ConsoleServer, attestation: AttestationGate) -> None:
        super().__init__(protocol.KIOSK_NAMESPACE)
        self.console = server
        self.attestation = attestation  # owned by the server; actions and commands consult the same gate
        #: The last journal head each kiosk reported: an unchanged head (an idle candidate) needs no
        #: trip to the head writer's thread.
        self._last_heads: dict[str, tuple[str, int, str]] = {}

    # --- login ------------------------------------------------------------------------------
    def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        try:
            kiosk_auth = protocol.KioskAuth.from_dict(auth)
            kiosk = self.console.registry.active(kiosk_auth.kiosk_id)
            payload = protocol.open_kiosk_auth(kiosk_auth, kiosk.signing_public)
            self.console.challenges.consume(payload)
        except InvigilError as exc:
            self.console.log_refusal("kiosk.connect", auth.get("kiosk_id") if isinstance(auth, dict) else None, exc)
            raise ConnectionRefusedError(f"authentication refused: {exc}")
        self.attestation.bind(sid, payload.challenge)
        frame_limits.grant(environ, protocol.MAX_MESSAGE_BYTES)  # envelopes from now on
        previous = self.console.room.attach(kiosk_auth.kiosk_id, sid)
        if previous is not None:
            self.console.socketio.server.disconnect(previous, namespace=protocol.KIOSK_NAMESPACE)
        self.attestation.show(self.console.room.tile(kiosk_auth.kiosk_id))  # not checked until its hello
        self.console.push_tile(kiosk_auth.kiosk_id)

    def on_disconnect(self, sid: str, *_: Any) -> None:
        environ = self.server.get_environ(sid, namespace=self.namespace) or {}
        kiosk_id = self.console.room.detach(sid)
        self.attestation.forget(sid)
        frame_limits.restrict(environ)
        if kiosk_id is not None:
            self.attestation.show(self.console.room.tile(kiosk_id))
            self.console.push_tile(kiosk_id)

    # --- messages -----------------------------------------------------------------------------
    @_logged_in
    def on_hello(self, sid: str, kiosk_id: str, data: Any) -> dict[str, Any]:
        try:
            hello = protocol.parse_message(protocol.Hello, data, protocol.MAX_ATTESTATION_BYTES * 2)
            if hello.kiosk_id != kiosk_id:
                raise ValidationError("kiosk_id", "is not the authenticated kiosk")
        except InvigilError as exc:
            return protocol.ack_error("invalid", str(exc))
        self._record_identity(kiosk_id, hello)
        self.attestation.check_hello(kiosk_id, sid, hello.attestation, hello.attempt_id)
        tile = self.console.room.tile(kiosk_id)
        self.attestation.show(tile)
        tile.state, tile.attempt_id = hello.state, hello.attempt_id
        tile.needs_resume_approval = hello.needs_resume_approval
        tile.last_seen, tile.last_seen_text = time.time(), now_text()
        self.console.fill_candidate(tile)
        self.console.push_tile(kiosk_id)
        if hello.needs_resume_approval:
            self.console.ctx.audit.append(f"kiosk:{kiosk_id}", "kiosk.resume_requested",
                                         {"attempt_id": hello.attempt_id})
        last = self.console.ctx.db.execute("SELECT MAX(seq) FROM events WHERE kiosk_id = ?", [kiosk_id]).fetchone()[0]
        # The highest head stored for this kiosk's attempt (the first one seen at that row if it
        # forked): the kiosk refuses to resume on a journal that does not contain it.
        head = None if hello.attempt_id is None else self.console.ctx.db.execute(
            "SELECT seq, hash FROM journal_heads WHERE attempt_id = ? AND kiosk_id = ?"
            " ORDER BY seq DESC, first_seen, rowid LIMIT 1", [hello.attempt_id, kiosk_id]).fetchone()
        self.console.socketio.start_background_task(self.console.commands.resend_pending, kiosk_id)
        return protocol.ack_ok(console_id=self.console.ctx.console_id, console_time=now_text(), last_seq=last,
                               journal_head=None if head is None else protocol.ConsoleJournalHead(
                                   seq=head[0], hash=head[1], attempt_id=hello.attempt_id).to_dict())

    def _record_identity(self, kiosk_id: str, hello: protocol.Hello) -> None:
        """Store software version and attestation when they change (most hellos change nothing, and
        a synchronous commit on the event loop would stall every socket while it lasts)."""
        attestation = b64d(hello.attestation) if hello.attestation else None
        row = self.console.ctx.db.execute("SELECT software_version, attestation FROM kiosks WHERE kiosk_id = ?",
                                          [kiosk_id]).fetchone()
        if row is not None and row[0] == hello.software_version and (bytes(row[1]) if row[1] else None) == attestation:
            return
        with immediate_transaction(self.console.ctx.db) as conn:
            conn.execute("UPDATE kiosks SET software_version = ?, attestation = ?, last_seen = ? WHERE kiosk_id = ?",
                         [hello.software_version, attestation, now_text(), kiosk_id])
        self.console.ctx.audit.append(f"kiosk:{kiosk_id}", "kiosk.identity",
                                      {"software_version": hello.software_version,
                                       "attestation_sha256": hashlib.sha256(attestation).hexdigest() if attestation else None})

    @_logged_in
    def on_heartbeat(self, sid: str, kiosk_id: str, data: Any) -> dict[str, Any]:
        try:
            beat = protocol.parse_message(protocol.Heartbeat, data, protocol.MAX_IMAGE_BYTES * 2)
        except InvigilError as exc:
            return protocol.ack_error("invalid", str(exc))
        tile = self.console.room.tile(kiosk_id)
        attempt_changed = tile.attempt_id != beat.attempt_id
        tile.state, tile.attempt_id = beat.state, beat.attempt_id
        tile.answered, tile.total = beat.progress.answered, beat.progress.total
        tile.remaining_seconds, tile.camera_fps = beat.remaining_seconds, beat.camera_fps
        tile.last_seen, tile.last_seen_text = time.time(), now_text()
        if beat.thumbnail_jpeg:
            self.console.save_thumbnail(kiosk_id, b64d(beat.thumbnail_jpeg))
            tile.thumbnail_version += 1
        if attempt_changed:
            self.console.fill_candidate(tile)
        if beat.journal_head is not None:
            head = (beat.attempt_id, beat.journal_head.seq, beat.journal_head.hash)
            if self._last_heads.get(kiosk_id) != head:
                self._journal_head(kiosk_id, beat.attempt_id, beat.journal_head)
                self._last_heads[kiosk_id] = head
        self.console.push_tile(kiosk_id)
        return protocol.ack_ok()

    def _journal_head(self, kiosk_id: str, attempt_id: str, head: protocol.JournalHeadInfo) -> None:
        """Store the head durably; a head that went back or forked is a high alert and an audit entry."""
        verdict = self.console.head_writer.run(record_journal_head, self.console.heads_db, kiosk_id, attempt_id,
                                               head.seq, head.hash)  # off the event loop (FULL commit)
        if verdict.problem is None:
            return
        self.console.ctx.audit.append(f"kiosk:{kiosk_id}", "kiosk.journal_head",
                                      {"attempt_id": attempt_id, "seq": head.seq, "problem": verdict.problem})
        if verdict.alert_id is not None:
            self.console.push_alert(verdict.alert_id)

    @_logged_in
    def on_event(self, sid: str, kiosk_id: str, data: Any) -> dict[str, Any]:
        try:
            event = protocol.parse_event(data)
            if event.kiosk_id != kiosk_id:
                raise ValidationError("kiosk_id", "is not the authenticated kiosk")
        except InvigilError as exc:
            return protocol.ack_error("invalid", str(exc))
        try:
            stored = self.console.committer.submit(event)
        except Exception:  # disk full, timeout: the kiosk keeps the event and resends
            return protocol.ack_error("retry", "could not store the event")
        if not stored.duplicate:
            self.console.relay_event(stored)
        return protocol.ack_ok(seq=event.seq, duplicate=stored.duplicate)

    @_logged_in
    def on_envelope(self, sid: str, kiosk_id: str, data: Any) -> dict[str, Any]:
        try:
            message = protocol.parse_message(protocol.EnvelopeMessage, data, protocol.MAX_MESSAGE_BYTES)
            duplicate = self.console.records.store_envelope(kiosk_id, message)
        except InvigilError as exc:
            return protocol.ack_error("invalid", str(exc))
        return protocol.ack_ok(sha256=message.sha256, duplicate=duplicate)

    @_logged_in
    def on_package_chunk(self, sid: str, kiosk_id: str, data: Any) -> dict[str, Any]:
        try:
            req = protocol.PackageChunkRequest.from_dict(data)
        except InvigilError as exc:
            return protocol.ack_error("invalid", str(exc))
        allowed = self.console.ctx.db.execute(
            "SELECT p.path, p.sha256, p.size FROM attempts a JOIN packages p ON p.package_id = a.package_id"
            " WHERE a.kiosk_id = ? AND a.package_id = ? AND a.state NOT IN ('ended', 'submitted')",
            [kiosk_id, req.package_id]).fetchone()
        if allowed is None:
            return protocol.ack_error("unauthorised", "no admitted attempt on this kiosk uses that package")
        path, digest, size = allowed
        with open(self.console.ctx.data / path, "rb") as fh:
            fh.seek(req.offset)
            chunk = fh.read(req.length)
        return protocol.ack_ok(data=b64e(chunk), total=size, sha256=digest,
                               chunk_sha256=hashlib.sha256(chunk).hexdigest())
