"""The console server: one Flask app, one Flask-SocketIO server, the services they share.

Async mode: gevent. Measured (FIELD-NOTES, and ``python -m bench console``): the threading mode
holds one OS thread per socket and saturated near 1,600 events/s, gevent relayed 2,000/s with a
p99 of 35 ms. SQLite commits run in gevent's thread pool through the group committer, so the
event loop keeps serving sockets while an fsync is in flight.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from flask import Flask
from flask_socketio import SocketIO

from exam_core import protocol
from exam_core.store import open_db
from proctor_console.actions import Actions
from proctor_console.attestation_policy import AttestationGate
from proctor_console.auth import SECURITY_HEADERS, Authenticator
from proctor_console.batcher import SerialWriter
from proctor_console.commands import CommandCenter
from proctor_console.context import ConsoleContext
from proctor_console.eventlog import ALERT_COLUMNS, EventLog, StoredEvent, alert_dict
from proctor_console.frame_limits import FrameLimitedHandler, PollingBodyLimit
from proctor_console.kiosk_link import ChallengeBook, KioskNamespace
from proctor_console.records import Records, purge_media
from proctor_console.registry import KioskRegistry
from proctor_console.room import Room
from proctor_console.schema import MIGRATIONS

PROCTORS_ROOM = "proctors"
SWEEP_SECONDS = 5
RESEND_SECONDS = 15
RETENTION_SWEEP_SECONDS = 6 * 3600
CHECKPOINT_SECONDS = 60  # a quiet log's tail is signed within a minute (checkpoint_if_due)


class ConsoleServer:
    def __init__(self, ctx: ConsoleContext, *, secure_cookies: bool = True, async_mode: str = "gevent") -> None:
        self.ctx = ctx
        self.async_mode = async_mode
        self.app = Flask("proctor_console", template_folder=str(Path(__file__).parent / "templates"),
                         static_folder=str(Path(__file__).parent / "static"))
        self.app.config.update(
            SECRET_KEY=ctx.secret_key, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SECURE=secure_cookies,
            SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_NAME="invigil_console",
            MAX_CONTENT_LENGTH=600 * 1024 * 1024)
        # cors_allowed_origins left at its default: a browser socket must come from the console's
        # own origin (kiosks are not browsers and send no Origin header).
        # manage_session=False: sockets read the login cookie but never write a session, and
        # Flask-SocketIO then skips copying a session for every one of a thousand events a second.
        # max_http_buffer_size is the ceiling for a logged-in kiosk (an envelope); every other
        # connection is held to frame_limits.SMALL_MESSAGE_BYTES before its frames are read.
        self.socketio = SocketIO(self.app, async_mode=async_mode, max_http_buffer_size=protocol.MAX_MESSAGE_BYTES,
                                 ping_interval=10, ping_timeout=20, manage_session=False)
        self.app.wsgi_app = PollingBodyLimit(self.app.wsgi_app)
        self.room = Room()
        self.registry = KioskRegistry(ctx)
        self.challenges = ChallengeBook(ctx.console_id)
        self.commands = CommandCenter(self)
        self.actions = Actions(self)
        self.records = Records(ctx, self.registry)
        self.auth = Authenticator(ctx)
        self.event_log = EventLog(open_db(ctx.db_path, synchronous="FULL", migrations=MIGRATIONS),
                                  ctx.media_dir / "snapshots")
        # Journal heads from heartbeats: their own connection, written off the event loop.
        self.heads_db = open_db(ctx.db_path, synchronous="FULL", migrations=MIGRATIONS)
        self.head_writer = SerialWriter(gevent_mode=async_mode == "gevent")
        if async_mode == "gevent":
            from proctor_console.batcher import GroupCommitter
            self.committer: Any = GroupCommitter(self.event_log.store_batch)
        else:
            from proctor_console.batcher import DirectCommitter
            self.committer = DirectCommitter(self.event_log.store_batch)
        self.attestation = AttestationGate(self)  # one gate: the kiosk link feeds it, key releases consult it
        self.app.after_request(self._security_headers)
        self.socketio.server.register_namespace(KioskNamespace(self, self.attestation))
        from proctor_console.proctor_link import ProctorNamespace
        from proctor_console.web import register_routes
        self.proctors = ProctorNamespace(self)
        self.socketio.on_namespace(self.proctors)
        register_routes(self)
        self._load_tiles()

    @staticmethod
    def _security_headers(response: Any) -> Any:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if response.mimetype == "text/html" or response.mimetype == "application/json":
            response.headers["Cache-Control"] = "no-store"
        return response

    # --- tiles ----------------------------------------------------------------------------------
    def _load_tiles(self) -> None:
        for kiosk in self.registry.list():
            if kiosk["revoked_at"] is None:
                tile = self.room.tile(kiosk["kiosk_id"])
                tile.seat = kiosk["seat"]
                self.fill_candidate(tile)

    def fill_candidate(self, tile: Any) -> None:
        """Put the candidate of the kiosk's current attempt (and its open alert count) on the tile."""
        row = self.ctx.db.execute(
            "SELECT a.attempt_id, a.candidate_id, c.name, c.seat, a.state FROM attempts a LEFT JOIN candidates c"
            " ON c.candidate_id = a.candidate_id WHERE a.kiosk_id = ? ORDER BY a.admitted_at DESC LIMIT 1",
            [tile.kiosk_id]).fetchone()
        current = row is not None and (row[4] not in ("ended", "submitted") or tile.attempt_id == row[0])
        if current:
            tile.attempt_id = tile.attempt_id or row[0]
            tile.candidate_id, tile.candidate_name = row[1], row[2] or ""
            tile.seat = row[3] or tile.seat
            if not tile.connected:
                tile.state = row[4]
        else:
            tile.candidate_id, tile.candidate_name = None, ""
        self.count_open_alerts(tile)

    def count_open_alerts(self, tile: Any) -> None:
        tile.open_alerts = self.ctx.db.execute("SELECT COUNT(*) FROM alerts WHERE kiosk_id = ? AND status = 'open'",
                                               [tile.kiosk_id]).fetchone()[0]

    def refresh_tile(self, kiosk_id: str) -> None:
        self.fill_candidate(self.room.tile(kiosk_id))
        self.push_tile(kiosk_id)

    def push_tile(self, kiosk_id: str) -> None:
        self.socketio.emit(protocol.PROCTOR_KIOSK, self.room.tile(kiosk_id).to_dict(), to=PROCTORS_ROOM,
                           namespace=protocol.PROCTOR_NAMESPACE)

    def save_thumbnail(self, kiosk_id: str, jpeg: bytes) -> None:
        path = self.ctx.media_dir / "thumbnails" / f"{kiosk_id}.jpg"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(jpeg)
        tmp.replace(path)

    # --- events and alerts --------------------------------------------------------------------
    def relay_event(self, stored: StoredEvent) -> None:
        event = stored.event
        body = {k: v for k, v in event.to_dict().items() if k != "evidence"}
        body["snapshot_url"] = f"/media/snapshots/{stored.snapshot}" if stored.snapshot else None
        body["relayed"] = time.time()
        self.socketio.emit(protocol.PROCTOR_EVENT, body, to=PROCTORS_ROOM, namespace=protocol.PROCTOR_NAMESPACE)
        if stored.alert_id is not None:
            self.push_alert(stored.alert_id)

    def alert(self, alert_id: int) -> dict[str, Any] | None:
        row = self.ctx.db.execute(f"SELECT {ALERT_COLUMNS} FROM alerts WHERE alert_id = ?", [alert_id]).fetchone()
        return alert_dict(row) if row else None

    def open_alerts(self) -> list[dict[str, Any]]:
        rows = self.ctx.db.execute(f"SELECT {ALERT_COLUMNS} FROM alerts WHERE status = 'open'"
                                   " ORDER BY rank DESC, updated DESC LIMIT 500").fetchall()
        return [alert_dict(r) for r in rows]

    def push_alert(self, alert_id: int) -> None:
        alert = self.alert(alert_id)
        if alert is not None:
            self.socketio.emit(protocol.PROCTOR_ALERT, alert, to=PROCTORS_ROOM, namespace=protocol.PROCTOR_NAMESPACE)
            self.count_open_alerts(self.room.tile(alert["kiosk_id"]))  # an alert changes no candidate
            self.push_tile(alert["kiosk_id"])

    def after_command(self, kiosk_id: str, command: dict[str, Any], ack: Any) -> None:
        self.socketio.emit(protocol.PROCTOR_COMMAND, {**command, "kiosk_state": ack.state, "error": ack.error,
                                                      "reason": ack.reason},
                           to=PROCTORS_ROOM, namespace=protocol.PROCTOR_NAMESPACE)
        tile = self.room.tile(kiosk_id)
        if ack.state:
            tile.state = ack.state
        self.fill_candidate(tile)
        self.push_tile(kiosk_id)

    def log_refusal(self, what: str, who: Any, exc: Exception) -> None:
        subject = who if isinstance(who, str) and len(who) < 130 else "unknown"
        self.ctx.audit.append("anonymous", "kiosk.refused", {"what": what, "kiosk_id": subject,
                                                             "reason": type(exc).__name__})

    def end_logins(self, ended: list[str]) -> None:
        """Logins were closed here (logout, account disabled, password reset): drop their sockets now."""
        self.proctors.disconnect_logins(ended)

    # --- background -----------------------------------------------------------------------------
    def start_background(self) -> None:
        self.socketio.start_background_task(self._sweeper)

    def _sweeper(self) -> None:
        """Mark silent kiosks offline, drop dashboard sockets of ended logins, re-send pending commands,
        sign audit checkpoints, purge old media."""
        last_status: dict[str, str] = {}
        last_resend = last_purge = last_checkpoint = 0.0
        while True:
            self.socketio.sleep(SWEEP_SECONDS)
            for kiosk_id, tile in list(self.room.tiles.items()):
                badge_changed = self.attestation.show(tile)  # the allow-list may have been edited
                if last_status.get(kiosk_id) != tile.status or badge_changed:
                    last_status[kiosk_id] = tile.status
                    self.push_tile(kiosk_id)
            self.proctors.drop_closed()  # logins closed by the CLI, expired, or of a disabled account
            now = time.monotonic()
            if now - last_resend > RESEND_SECONDS:
                last_resend = now
                for kiosk_id in list(self.room.kiosk_sids):
                    self.commands.resend_pending(kiosk_id)
            if now - last_checkpoint > CHECKPOINT_SECONDS:
                last_checkpoint = now  # a signed checkpoint makes a rewrite of the chain detectable
                self.ctx.audit.checkpoint_if_due(self.ctx.signing_key)  # none when nothing new
            if now - last_purge > RETENTION_SWEEP_SECONDS:
                last_purge = now
                purge_media(self.ctx)


def create_server(data: Path, *, insecure_dev: bool = False, async_mode: str = "gevent") -> ConsoleServer:
    return ConsoleServer(ConsoleContext(Path(data)), secure_cookies=not insecure_dev, async_mode=async_mode)


def serve(server: ConsoleServer, host: str, port: int, insecure_dev: bool) -> None:
    """Run until interrupted: HTTPS with the console's certificate, or HTTP with --insecure-dev."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    server.start_background()
    ssl_args: dict[str, Any] = {}
    if not insecure_dev:
        ssl_args = {"certfile": str(server.ctx.tls_cert_path), "keyfile": str(server.ctx.tls_key_path)}
    if server.async_mode != "gevent":
        server.socketio.run(server.app, host=host, port=port, log_output=False, **ssl_args)
        return
    # What socketio.run does for gevent, with the handler that bounds every websocket message
    # (frame_limits: small until a kiosk has logged in on that connection).
    from gevent import pywsgi
    pywsgi.WSGIServer((host, port), server.app, handler_class=FrameLimitedHandler, log=None,
                      **ssl_args).serve_forever()
