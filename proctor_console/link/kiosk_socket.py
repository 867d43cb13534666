"""The ``/kiosk`` Socket.IO namespace: challenge login, hello, heartbeats, events, envelopes, package
chunks, and the commands sent back.

Every handler answers through the ack callback (see docs/PROTOCOL.md); a refusal's ack code comes
from its kind (``errors.kiosk_ack_code``). Only a socket that passed the challenge login has a kiosk
id; every handler looks it up first and refuses otherwise, and nothing here can reach proctor
functions: the namespaces share no handler.

A kiosk speaks only for its own attempts. An event naming an attempt that was not admitted on the
sending kiosk is refused (``invalid``: the kiosk sets it aside), as envelopes and journal heads are,
so a paired kiosk cannot write events or raise alerts in another candidate's record; the attempt
a hello or heartbeat names is believed (for the tile and the attestation alert) only when it is
the kiosk's own. An unexpected failure in a handler answers ``retry`` and logs one line with the
traceback, never the message (it may hold a candidate's evidence).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, replace
from functools import wraps
from typing import Any
from collections.abc import Callable

import socketio
import sqlite_utils
from socketio.exceptions import ConnectionRefusedError

from exam_core import protocol
from exam_core.audit import AuditLog
from exam_core.errors import InvigilError, ValidationError
from exam_core.jsonio import b64d, b64e
from exam_core.model import Event
from exam_core.timestamps import utc_text_us
from proctor_console.attempts import Attempts
from proctor_console.attestation import AttestationGate
from proctor_console.commands import CommandCenter
from proctor_console.dashboard import Dashboard, Room
from proctor_console.envelopes import Envelopes
from proctor_console.errors import kiosk_ack_code
from proctor_console.eventlog import EventLog, StoredEvent
from proctor_console.images import checked_jpeg
from proctor_console.journal_heads import highest_head, record_journal_head
from proctor_console.link import frame_limits
from proctor_console.link.batcher import SerialWriter
from proctor_console.link.challenges import ChallengeBook
from proctor_console.link.malformed import RateLimitedWarning
from proctor_console.packages import Packages
from proctor_console.registry import KioskRegistry

log = logging.getLogger("proctor_console.kiosk_socket")
#: Refused kiosk logins written to the audit log per minute (a flood of them is counted instead).
REFUSALS_AUDITED_PER_MINUTE = 60


class KioskSender:
    """Sends a command to a kiosk's current connection: the ``deliver`` of ``CommandCenter``."""

    def __init__(self, server: socketio.Server, room: Room) -> None:
        self.server = server
        self.room = room

    def deliver(self, kiosk_id: str, body: dict[str, Any], on_ack: Callable[..., None]) -> bool:
        """Emit to the kiosk if it is connected; False when it must wait for the next hello."""
        sid = self.room.kiosk_sids.get(kiosk_id)
        if sid is None:
            return False
        self.server.emit(protocol.COMMAND, body, to=sid, namespace=protocol.KIOSK_NAMESPACE, callback=on_ack)
        return True


@dataclass(frozen=True)
class HeadStore:
    """Journal heads from heartbeats: their own connection, written by a one-thread writer off the
    event loop (each is a FULL commit: up to 100 a second at 500 kiosks)."""

    db: sqlite_utils.Database
    writer: SerialWriter


@dataclass(frozen=True)
class KioskLinkParts:
    """What the ``/kiosk`` namespace works with, handed over by the composition root."""

    room: Room
    dashboard: Dashboard
    registry: KioskRegistry
    challenges: ChallengeBook
    gate: AttestationGate
    commands: CommandCenter
    envelopes: Envelopes
    events: EventLog
    #: Stores an event durably and returns once committed (``batcher.GroupCommitter.submit``).
    store_event: Callable[[Any], StoredEvent]
    heads: HeadStore
    attempts: Attempts
    packages: Packages
    audit: AuditLog
    console_id: str


def _logged_in(handler: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Run a message handler only for a socket that passed the challenge login, with its kiosk id."""
    @wraps(handler)
    def wrapper(self: KioskNamespace, sid: str, data: Any = None) -> dict[str, Any]:
        kiosk_id = self.parts.room.sid_kiosks.get(sid)
        if kiosk_id is None:
            return protocol.ack_error("unauthorised", "not logged in")
        if self.parts.registry.is_revoked(kiosk_id):  # revoked while connected (CLI or admin page)
            self.server.start_background_task(  # after the refusal has been sent
                lambda: self.server.disconnect(sid, namespace=protocol.KIOSK_NAMESPACE))
            return protocol.ack_error("unauthorised", "kiosk revoked")
        try:
            return handler(self, sid, kiosk_id, data)
        except Exception:  # a bug: never let the server's default report print the message's content
            log.exception("kiosk %s: %s failed", kiosk_id, handler.__name__)
            return protocol.ack_error("retry", "the console could not handle the message")
    return wrapper


class KioskNamespace(socketio.Namespace):
    """Registered on the python-socketio server itself, not through Flask-SocketIO.

    Why: Flask-SocketIO builds a Flask request context (session, URL matching) around every
    message, which was a fifth of the console's CPU at 500 kiosks sending 1,000 events a second,
    and kiosk messages need none of it (no cookie, no Flask session; the kiosk is known by its
    socket id). Handlers therefore receive ``sid`` explicitly.
    """

    def __init__(self, parts: KioskLinkParts) -> None:
        super().__init__(protocol.KIOSK_NAMESPACE)
        self.parts = parts
        #: The last journal head each kiosk reported: an unchanged head (an idle candidate) needs no
        #: trip to the head writer's thread.
        self._last_heads: dict[str, tuple[str, int, str]] = {}
        self._refusals = RateLimitedWarning(log, REFUSALS_AUDITED_PER_MINUTE, what="refused kiosk logins not audited")
        self._images_refused = RateLimitedWarning(log, what="refused kiosk images not logged")
        #: The last attempt found admitted on each kiosk (events name it a thousand times a second).
        self._own_attempts: dict[str, str] = {}

    def _own_attempt(self, kiosk_id: str, attempt_id: str | None) -> str | None:
        """``attempt_id`` when it was admitted on ``kiosk_id``, else None.

        Any of the kiosk's attempts, not only its latest: events of a finished attempt may still be
        in the kiosk's outbox when the next candidate is admitted, and they belong to that attempt."""
        if attempt_id is None or self._own_attempts.get(kiosk_id) == attempt_id:
            return attempt_id
        if self.parts.attempts.kiosk_of(attempt_id) != kiosk_id:
            return None
        self._own_attempts[kiosk_id] = attempt_id
        return attempt_id

    # --- login ------------------------------------------------------------------------------
    def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        parts = self.parts
        try:
            kiosk_auth = protocol.KioskAuth.from_dict(auth)
            kiosk = parts.registry.active(kiosk_auth.kiosk_id)
            payload = protocol.open_kiosk_auth(kiosk_auth, kiosk.signing_public)
            parts.challenges.consume(payload)
        except InvigilError as exc:
            self._log_refusal("kiosk.connect", auth.get("kiosk_id") if isinstance(auth, dict) else None, exc)
            raise ConnectionRefusedError(f"authentication refused: {exc}") from None
        parts.gate.bind(sid, payload.challenge)
        frame_limits.grant(environ, protocol.MAX_MESSAGE_BYTES)  # envelopes from now on
        previous = parts.room.attach(kiosk_auth.kiosk_id, sid)
        if previous is not None:
            self.server.disconnect(previous, namespace=protocol.KIOSK_NAMESPACE)
        parts.gate.show(parts.room.tile(kiosk_auth.kiosk_id))  # not checked until its hello
        parts.dashboard.push_tile(kiosk_auth.kiosk_id)

    def _log_refusal(self, what: str, who: Any, exc: Exception) -> None:
        """An audit entry per refused login, at most ``REFUSALS_AUDITED_PER_MINUTE`` (anyone can
        send refused logins; beyond that the log says how many were left out)."""
        if not self._refusals.allow():
            return
        subject = who if isinstance(who, str) and len(who) < 130 else "unknown"
        self.parts.audit.append("anonymous", "kiosk.refused", {"what": what, "kiosk_id": subject,
                                                               "reason": type(exc).__name__})

    def on_disconnect(self, sid: str, *_: Any) -> None:
        environ = self.server.get_environ(sid, namespace=self.namespace) or {}
        kiosk_id = self.parts.room.detach(sid)
        self.parts.gate.forget(sid)
        frame_limits.restrict(environ)
        if kiosk_id is not None:
            self.parts.gate.show(self.parts.room.tile(kiosk_id))
            self.parts.dashboard.push_tile(kiosk_id)

    # --- messages -----------------------------------------------------------------------------
    @_logged_in
    def on_hello(self, sid: str, kiosk_id: str, data: Any) -> dict[str, Any]:
        parts = self.parts
        try:
            hello = protocol.parse_message(protocol.Hello, data, protocol.MAX_ATTESTATION_BYTES * 2)
            if hello.kiosk_id != kiosk_id:
                raise ValidationError("kiosk_id", "is not the authenticated kiosk")
        except InvigilError as exc:
            return protocol.ack_error(kiosk_ack_code(exc), str(exc))
        parts.registry.record_identity(kiosk_id, hello.software_version,
                                       b64d(hello.attestation) if hello.attestation else None)
        attempt_id = self._own_attempt(kiosk_id, hello.attempt_id)
        parts.gate.check_hello(kiosk_id, sid, hello.attestation, attempt_id)
        tile = parts.room.tile(kiosk_id)
        parts.gate.show(tile)
        tile.state, tile.attempt_id = hello.state, attempt_id
        tile.needs_resume_approval = hello.needs_resume_approval
        tile.last_seen, tile.last_seen_text = time.time(), utc_text_us()
        parts.dashboard.fill_candidate(tile)
        parts.dashboard.push_tile(kiosk_id)
        if hello.needs_resume_approval:
            parts.audit.append(f"kiosk:{kiosk_id}", "kiosk.resume_requested", {"attempt_id": attempt_id})
        self.server.start_background_task(parts.commands.resend_pending, kiosk_id)
        return protocol.ack_ok(console_id=parts.console_id, console_time=utc_text_us(),
                               last_seq=parts.events.last_seq(kiosk_id),
                               journal_head=self._console_head(kiosk_id, attempt_id))

    def _console_head(self, kiosk_id: str, attempt_id: str | None) -> dict[str, Any] | None:
        """The highest journal head stored for the hello's attempt: the kiosk refuses to resume on a
        journal that does not contain it."""
        if attempt_id is None:
            return None
        head = highest_head(self.parts.events.db, attempt_id, kiosk_id)
        if head is None:
            return None
        return protocol.ConsoleJournalHead(seq=head[0], hash=head[1], attempt_id=attempt_id).to_dict()

    @_logged_in
    def on_heartbeat(self, sid: str, kiosk_id: str, data: Any) -> dict[str, Any]:
        parts = self.parts
        try:
            beat = protocol.parse_message(protocol.Heartbeat, data, protocol.MAX_IMAGE_BYTES * 2)
        except InvigilError as exc:
            return protocol.ack_error(kiosk_ack_code(exc), str(exc))
        tile = parts.room.tile(kiosk_id)
        attempt_id = self._own_attempt(kiosk_id, beat.attempt_id)
        attempt_changed = tile.attempt_id != attempt_id
        tile.state, tile.attempt_id = beat.state, attempt_id
        tile.answered, tile.total = beat.progress.answered, beat.progress.total
        tile.remaining_seconds, tile.camera_fps = beat.remaining_seconds, beat.camera_fps
        tile.last_seen, tile.last_seen_text = time.time(), utc_text_us()
        if beat.thumbnail_jpeg:
            self._save_thumbnail(kiosk_id, beat.thumbnail_jpeg)
        if attempt_changed:
            parts.dashboard.fill_candidate(tile)
        if beat.journal_head is not None and beat.attempt_id is not None:
            head = (beat.attempt_id, beat.journal_head.seq, beat.journal_head.hash)
            if self._last_heads.get(kiosk_id) != head:
                self._journal_head(kiosk_id, beat.attempt_id, beat.journal_head)
                self._last_heads[kiosk_id] = head
        parts.dashboard.push_tile(kiosk_id)
        return protocol.ack_ok()

    def _save_thumbnail(self, kiosk_id: str, encoded: str) -> None:
        """Keep the tile's thumbnail when it is a whole JPEG (``images``); else keep the old one."""
        try:
            jpeg = checked_jpeg(b64d(encoded, "thumbnail_jpeg"), "thumbnail_jpeg")
        except InvigilError as exc:
            self._images_refused.warn("kiosk %s: thumbnail not stored: %s", kiosk_id, exc)
            return
        self.parts.dashboard.save_thumbnail(kiosk_id, jpeg)

    def _checked_snapshot(self, event: Event) -> Event:
        """The event with its evidence snapshot, or without it (the reason in its evidence) when it
        is no whole JPEG (``images``): the event and its alert are kept, the image is not stored."""
        encoded = event.evidence.get("snapshot_jpeg")
        if not encoded:
            return event
        try:
            checked_jpeg(b64d(encoded, "evidence.snapshot_jpeg"), "evidence.snapshot_jpeg")
        except InvigilError as exc:
            self._images_refused.warn("kiosk %s: snapshot of event %d not stored: %s", event.kiosk_id, event.seq, exc)
            return replace(event, evidence={**event.evidence, "snapshot_jpeg": None, "snapshot_refused": str(exc)})
        return event

    def _journal_head(self, kiosk_id: str, attempt_id: str, head: protocol.JournalHeadInfo) -> None:
        """Store the head durably; a head that went back or forked is a high alert and an audit entry."""
        heads = self.parts.heads
        verdict = heads.writer.run(record_journal_head, heads.db, kiosk_id, attempt_id, head.seq,
                                   head.hash)  # off the event loop (FULL commit)
        if verdict.problem is None:
            return
        self.parts.audit.append(f"kiosk:{kiosk_id}", "kiosk.journal_head",
                                {"attempt_id": attempt_id, "seq": head.seq, "problem": verdict.problem})
        if verdict.alert_id is not None:
            self.parts.dashboard.push_alert(verdict.alert_id)

    @_logged_in
    def on_event(self, sid: str, kiosk_id: str, data: Any) -> dict[str, Any]:
        try:
            event = protocol.parse_event(data)
            if event.kiosk_id != kiosk_id:
                raise ValidationError("kiosk_id", "is not the authenticated kiosk")
            if self._own_attempt(kiosk_id, event.attempt_id) != event.attempt_id:
                raise ValidationError("attempt_id", "is not an attempt of this kiosk")
            event = self._checked_snapshot(event)
        except InvigilError as exc:
            return protocol.ack_error(kiosk_ack_code(exc), str(exc))
        try:
            stored = self.parts.store_event(event)
        except Exception:  # noqa: BLE001 - disk full, timeout: the kiosk keeps the event and resends
            return protocol.ack_error("retry", "could not store the event")
        if not stored.duplicate:
            self.parts.dashboard.relay_event(stored)
        return protocol.ack_ok(seq=event.seq, duplicate=stored.duplicate)

    @_logged_in
    def on_envelope(self, sid: str, kiosk_id: str, data: Any) -> dict[str, Any]:
        parts = self.parts
        try:
            message = protocol.parse_message(protocol.EnvelopeMessage, data, protocol.MAX_MESSAGE_BYTES)
            kiosk_public = parts.registry.active(kiosk_id).signing_public
            duplicate = parts.envelopes.store(kiosk_id, kiosk_public, message)
        except InvigilError as exc:
            return protocol.ack_error(kiosk_ack_code(exc), str(exc))
        return protocol.ack_ok(sha256=message.sha256, duplicate=duplicate)

    @_logged_in
    def on_package_chunk(self, sid: str, kiosk_id: str, data: Any) -> dict[str, Any]:
        try:
            req = protocol.PackageChunkRequest.from_dict(data)
        except InvigilError as exc:
            return protocol.ack_error(kiosk_ack_code(exc), str(exc))
        stored = (self.parts.packages.stored_file(req.package_id)
                  if self.parts.attempts.uses_package(kiosk_id, req.package_id) else None)
        if stored is None:
            return protocol.ack_error("unauthorised", "no admitted attempt on this kiosk uses that package")
        path, digest, size = stored
        with open(path, "rb") as fh:
            fh.seek(req.offset)
            chunk = fh.read(req.length)
        return protocol.ack_ok(data=b64e(chunk), total=size, sha256=digest,
                               chunk_sha256=hashlib.sha256(chunk).hexdigest())
