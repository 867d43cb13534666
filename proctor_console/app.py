"""The console server's composition root: it builds every part, hands each one the collaborators it
uses, registers the web and kiosk faces, and runs the sweeper. Nothing imports this module but the
``serve`` command and tests; no part receives the ``Console`` it returns.

Async mode: gevent. Measured (``python -m bench console``): the threading mode holds one OS thread
per socket and saturated near 1,600 events/s, gevent relayed 2,000/s with a p99 of 35 ms. SQLite
commits run in gevent's thread pool through the group committer, so the event loop keeps serving
sockets while an fsync is in flight.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from flask import Flask
from flask_socketio import SocketIO

from exam_core import protocol
from exam_core.errors import InvigilError
from exam_core.store import open_db
from proctor_console import services
from proctor_console.accounts import Accounts
from proctor_console.actions import Actions
from proctor_console.alerts import Alerts
from proctor_console.attempts import Attempts
from proctor_console.attestation import AttestationGate, ReleaseAllowlist
from proctor_console.candidates import Candidates
from proctor_console.commands import CommandCenter
from proctor_console.conflicts import Conflicts
from proctor_console.context import ConsoleContext
from proctor_console.dashboard import Dashboard, Room
from proctor_console.envelopes import Envelopes
from proctor_console.eventlog import EventLog
from proctor_console.incidents import Incidents
from proctor_console.key_release import KeyRelease
from proctor_console.link.batcher import DirectCommitter, GroupCommitter, SerialWriter
from proctor_console.link.challenges import ChallengeBook
from proctor_console.link.frame_limits import FrameLimitedHandler, PollingBodyLimit
from proctor_console.link.kiosk_http import kiosk_http_blueprint
from proctor_console.link.kiosk_socket import HeadStore, KioskLinkParts, KioskNamespace, KioskSender
from proctor_console.link.malformed import CheckedPacket, QuietTLSServer, guard_messages, library_logger
from proctor_console.packages import Packages
from proctor_console.readmissions import Readmissions
from proctor_console.registry import KioskRegistry
from proctor_console.retention import Retention
from proctor_console.roster import Roster
from proctor_console.signed_roster import SignedRosters
from proctor_console.schema import MIGRATIONS
from proctor_console.start_queue import StartQueue
from proctor_console.web.accounts import accounts_blueprint
from proctor_console.web.admin import AdminForms, admin_blueprint
from proctor_console.web.auth import Authenticator, auth_blueprint, security_headers
from proctor_console.web.pages import pages_blueprint
from proctor_console.web.proctor_socket import PROCTORS_ROOM, ProctorNamespace
from proctor_console.web.refusals import refusal_response
from proctor_console.web.roster import roster_blueprint

HERE = Path(__file__).parent
SWEEP_SECONDS = 5
RESEND_SECONDS = 15
RETENTION_SWEEP_SECONDS = 6 * 3600
CHECKPOINT_SECONDS = 60  # a quiet log's tail is signed within a minute (checkpoint_if_due)
#: Largest HTTP request body (an admin uploading form packages).
MAX_CONTENT_LENGTH = 600 * 1024 * 1024


@dataclass
class Core:
    """The console's services over one data directory (no transport)."""

    accounts: Accounts
    registry: KioskRegistry
    attempts: Attempts
    roster: Roster
    packages: Packages
    alerts: Alerts
    events: EventLog
    incidents: Incidents
    conflicts: Conflicts
    envelopes: Envelopes
    retention: Retention
    readmissions: Readmissions
    signed_rosters: SignedRosters


#: Flask-SocketIO's server modes this console runs in: gevent in production, threads in tests.
AsyncMode = Literal["gevent", "threading"]


def engine_of(socketio: SocketIO) -> Any:
    """python-socketio's Server inside Flask-SocketIO (our own namespace classes, the packet guard
    and the command sender use it). types-Flask-SocketIO leaves it out on purpose, as internal."""
    return socketio.server  # type: ignore[attr-defined]


@dataclass
class Console:
    """What ``build_console`` made: the WSGI app and socket server, and the parts (for tests)."""

    ctx: ConsoleContext
    app: Flask
    socketio: SocketIO
    async_mode: AsyncMode
    core: Core
    room: Room
    dashboard: Dashboard
    gate: AttestationGate
    commands: CommandCenter
    actions: Actions
    auth: Authenticator
    proctors: ProctorNamespace

    @property
    def registry(self) -> KioskRegistry:
        return self.core.registry


def build_core(ctx: ConsoleContext) -> Core:
    """One instance of each service for the server's lifetime (the registry caches revocations)."""
    return Core(accounts=services.accounts(ctx), registry=services.registry(ctx), attempts=Attempts(ctx.db),
                roster=services.roster(ctx), packages=services.packages(ctx), alerts=services.alerts(ctx),
                events=services.events(ctx), incidents=services.incidents(ctx), conflicts=services.conflicts(ctx),
                envelopes=services.envelopes(ctx), retention=services.retention(ctx),
                readmissions=services.readmissions(ctx), signed_rosters=services.signed_rosters(ctx))


def _flask_app(ctx: ConsoleContext, secure_cookies: bool) -> Flask:
    app = Flask("proctor_console", template_folder=str(HERE / "templates"), static_folder=str(HERE / "static"))
    app.config.update(
        SECRET_KEY=ctx.secret_key, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SECURE=secure_cookies,
        SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_NAME="invigil_console", MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH)
    app.after_request(security_headers)
    app.register_error_handler(InvigilError, refusal_response)
    return app


def _socket_server(app: Flask, async_mode: AsyncMode) -> SocketIO:
    # cors_allowed_origins left at its default: a browser socket must come from the console's
    # own origin (kiosks are not browsers and send no Origin header).
    # manage_session=False: sockets read the login cookie but never write a session, and
    # Flask-SocketIO then skips copying a session for every one of a thousand events a second.
    # max_http_buffer_size is the ceiling for a logged-in kiosk (an envelope); every other
    # connection is held to frame_limits.SMALL_MESSAGE_BYTES before its frames are read.
    # serializer, loggers and guard_messages: a malformed packet is one rate-limited line, never a
    # traceback (written twice: python-socketio's loggers add a handler of their own by default).
    socketio = SocketIO(app, async_mode=async_mode, max_http_buffer_size=protocol.MAX_MESSAGE_BYTES,
                        ping_interval=10, ping_timeout=20, manage_session=False,
                        # serializer goes on to python-socketio's Server; types-Flask-SocketIO's list of
                        # keyword arguments omits it
                        serializer=CheckedPacket,  # type: ignore[call-arg]
                        logger=library_logger("socketio"), engineio_logger=library_logger("engineio"))
    guard_messages(engine_of(socketio))
    app.wsgi_app = PollingBodyLimit(app.wsgi_app)  # type: ignore[method-assign]
    return socketio


def build_console(ctx: ConsoleContext, *, secure_cookies: bool = True, async_mode: AsyncMode = "gevent") -> Console:
    """Build and wire the console server for a data directory (nothing runs until ``serve``)."""
    app = _flask_app(ctx, secure_cookies)
    socketio = _socket_server(app, async_mode)
    core = build_core(ctx)
    room = Room()
    dashboard = Dashboard(room, core.attempts, core.roster, core.alerts,
                          lambda event, data: socketio.emit(event, data, to=PROCTORS_ROOM,
                                                            namespace=protocol.PROCTOR_NAMESPACE),
                          ctx.media_dir / "thumbnails", core.registry.seat_of)
    gate = AttestationGate(ReleaseAllowlist(ctx.data, ctx.audit),
                           lambda kiosk_id: core.registry.active(kiosk_id).signing_public,
                           room, core.alerts, ctx.audit, dashboard.push_alert)
    commands = CommandCenter(ctx.db, ctx.audit, core.attempts, KioskSender(engine_of(socketio), room).deliver,
                             gate.may_receive_key, dashboard.after_command)
    keys = KeyRelease(core.registry, core.packages, gate, ctx.hpke_key, ctx.audit)
    actions = Actions(centre_id=ctx.centre_id, audit=ctx.audit, attempts=core.attempts, roster=core.roster,
                      packages=core.packages, registry=core.registry, commands=commands, keys=keys,
                      conflicts=core.conflicts, alerts=core.alerts, incidents=core.incidents, dashboard=dashboard,
                      readmissions=core.readmissions, signed=core.signed_rosters)
    auth = Authenticator(core.accounts, core.accounts.logins, ctx.audit)
    proctors = ProctorNamespace(auth, core.accounts, actions, dashboard.snapshot,
                                StartQueue(gevent_mode=async_mode == "gevent"))
    console = Console(ctx=ctx, app=app, socketio=socketio, async_mode=async_mode, core=core, room=room,
                      dashboard=dashboard, gate=gate, commands=commands, actions=actions, auth=auth, proctors=proctors)
    _register_web(console)
    _register_kiosk_link(console)
    dashboard.load_tiles(core.registry.list())
    return console


def _register_web(console: Console) -> None:
    ctx, core, app = console.ctx, console.core, console.app
    end_logins = console.proctors.disconnect_logins
    reports = services.reports(ctx, console.commands)
    app.register_blueprint(auth_blueprint(console.auth, centre_id=ctx.centre_id, centre_name=ctx.centre_name,
                                          end_logins=end_logins))
    signed = core.signed_rosters
    candidates = Candidates(core.roster, core.attempts, core.packages, core.readmissions, signed.origins)
    app.register_blueprint(pages_blueprint(actions=console.actions, reports=reports, candidates=candidates,
                                           packages=core.packages, incident_log=core.incidents,
                                           kiosk_ids=lambda: list(console.room.tiles), media_dir=ctx.media_dir,
                                           zone=ctx.time_zone))
    forms = AdminForms(actions=console.actions, packages=core.packages, roster=core.roster, registry=core.registry,
                       retention=core.retention, on_seat=console.dashboard.refresh_tile)
    app.register_blueprint(admin_blueprint(forms, conflicts=core.conflicts))
    app.register_blueprint(accounts_blueprint(core.accounts, end_logins=end_logins))
    app.register_blueprint(roster_blueprint(candidates, signed))
    console.socketio.on_namespace(console.proctors)


def _register_kiosk_link(console: Console) -> None:
    ctx, core = console.ctx, console.core
    challenges = ChallengeBook(ctx.console_id)
    gevent_mode = console.async_mode == "gevent"
    # Events are written through a connection of their own (the group-commit writer runs in a
    # worker thread); journal heads through another, by a one-thread writer off the event loop.
    event_writer = EventLog(open_db(ctx.db_path, synchronous="FULL", migrations=MIGRATIONS),
                            ctx.media_dir / "snapshots")
    committer = (GroupCommitter if gevent_mode else DirectCommitter)(event_writer.store_batch)
    heads = HeadStore(open_db(ctx.db_path, synchronous="FULL", migrations=MIGRATIONS), SerialWriter(gevent_mode))
    parts = KioskLinkParts(room=console.room, dashboard=console.dashboard, registry=core.registry,
                           challenges=challenges, gate=console.gate, commands=console.commands,
                           envelopes=core.envelopes, events=core.events, store_event=committer.submit, heads=heads,
                           attempts=core.attempts, packages=core.packages, audit=ctx.audit, console_id=ctx.console_id)
    engine_of(console.socketio).register_namespace(KioskNamespace(parts))
    console.app.register_blueprint(kiosk_http_blueprint(challenges, core.registry))


class Sweeper:
    """Every few seconds: mark silent kiosks offline, drop dashboard sockets of ended logins,
    re-send pending commands, sign audit checkpoints, purge old media."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.last_status: dict[str, str] = {}
        self.last_resend = self.last_purge = self.last_checkpoint = 0.0

    def run(self) -> None:
        while True:
            self.console.socketio.sleep(SWEEP_SECONDS)
            self.sweep(time.monotonic())

    def sweep(self, now: float) -> None:
        console = self.console
        for kiosk_id, tile in list(console.room.tiles.items()):
            badge_changed = console.gate.show(tile)  # the allow-list may have been edited
            if self.last_status.get(kiosk_id) != tile.status or badge_changed:
                self.last_status[kiosk_id] = tile.status
                console.dashboard.push_tile(kiosk_id)
        console.proctors.drop_closed()  # logins closed by the CLI, expired, or of a disabled account
        if now - self.last_resend > RESEND_SECONDS:
            self.last_resend = now
            for kiosk_id in list(console.room.kiosk_sids):
                console.commands.resend_pending(kiosk_id)
        if now - self.last_checkpoint > CHECKPOINT_SECONDS:
            self.last_checkpoint = now  # a signed checkpoint makes a rewrite of the chain detectable
            console.ctx.audit.checkpoint_if_due(console.ctx.signing_key)  # none when nothing new
        if now - self.last_purge > RETENTION_SWEEP_SECONDS:
            self.last_purge = now
            console.core.retention.purge("console")


def serve(console: Console, host: str, port: int, insecure_dev: bool) -> None:
    """Run until interrupted: HTTPS with the console's certificate, or HTTP with --insecure-dev."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    console.socketio.start_background_task(Sweeper(console).run)
    ssl_args: dict[str, Any] = {}
    if not insecure_dev:
        ssl_args = {"certfile": str(console.ctx.tls_cert_path), "keyfile": str(console.ctx.tls_key_path)}
    if console.async_mode != "gevent":
        console.socketio.run(console.app, host=host, port=port, log_output=False, **ssl_args)
        return
    # What socketio.run does for gevent, with the handler that bounds every websocket message
    # (frame_limits: small until a kiosk has logged in on that connection) and a failed TLS
    # handshake logged as one line (malformed).
    QuietTLSServer((host, port), console.app, handler_class=FrameLimitedHandler, log=None,
                   **ssl_args).serve_forever()
