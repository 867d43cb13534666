"""The candidate's local web application (Flask, 127.0.0.1 only).

Why a local server and not the console's: the exam must go on when the LAN does not, and the page
must show "saved" only once the answer is on this kiosk's disk. Every answer change is a POST
that returns after the journal's FULL commit.

Security at this boundary: the page gets a per-process token in a ``<meta>`` tag and must send it
in ``X-Kiosk-Token`` with every API request. A page from elsewhere cannot read it (CSP, no CORS,
``Origin``/``Host`` checked), and the page and exam media are served only to processes of the
kiosk's own user (``loopback_peer.OwnUserOnly``: the owner of the connecting socket, from the
kernel), which is the browser the kiosk started. A process running as the kiosk's user can read
the token, as it can read the kiosk's keys and journal: keeping such processes off the kiosk is
the hardening's part, not this page's (docs/SECURITY.md). Every value is validated against the
item's declaration before it is journaled; responses carry a strict CSP (``script-src 'self'``,
no inline scripts, no CDN), ``no-store`` caching and ``nosniff``.

Why the actions (``POST /api/<name>``) are a plain WSGI layer in front of Flask rather than Flask
views: an answer save is the candidate's hot path and must return within a few times a bare
durable commit. Flask's request context, URL adapter, hooks and response object cost about as much
CPU as the journal itself for a request that needs none of them; the layer applies the same guard
(:func:`_refusal`), size limit, strict parse and security headers, and hands everything else to
Flask.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Callable, Iterable
from http import HTTPStatus
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, jsonify, render_template, request, send_from_directory
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wsgi import get_content_length, get_host

from exam_core import limits
from exam_core.errors import InvigilError, ValidationError
from exam_core.jsonio import loads_strict
from exam_core.presentation import CANDIDATE_FILES, CANDIDATE_STATIC
from exam_core.wsgi_server import WsgiServer

from kiosk.disclosure import MonitoringSetup
from kiosk.loopback_peer import OwnUserOnly
from kiosk.pages import CandidatePages
from kiosk.runtime import KioskRuntime
from kiosk.session import SessionStateError
from kiosk.tools.speech import SpeechUnavailable

MAX_REQUEST_BYTES = 256 * 1024
MAX_HEADER_BYTES = 16 * 1024
UI_THREADS = 4          # the page's poll, a save, a media file and an item at once
UI_IDLE_SECONDS = 120   # an idle keep-alive connection is closed after this
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "media-src blob:; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"), ("Cache-Control", "no-store"),
    ("Cross-Origin-Resource-Policy", "same-origin"), ("X-Frame-Options", "DENY"),
)
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost"})
HERE = Path(__file__).parent

Action = Callable[[dict[str, Any]], dict[str, Any] | None]  # a page action: request body -> reply fields


def create_app(runtime: KioskRuntime, page_signal: Any = None,
               monitoring: Callable[[], MonitoringSetup] | None = None) -> Flask:
    """The candidate UI bound to ``runtime``. ``page_signal(kind, detail)`` receives page events
    (focus lost, fullscreen left) for the monitors; without it they go to the outbox directly.
    ``monitoring()`` says which automated checks run, for the notice the candidate reads first
    (without it: only the page's own signals)."""
    app = Flask(__name__, static_folder=str(HERE / "static"), template_folder=str(HERE / "templates"))
    pages = CandidatePages(runtime, monitoring)
    app.config.update(MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES, SEND_FILE_MAX_AGE_DEFAULT=0)
    token = secrets.token_urlsafe(32)
    app.config["KIOSK_TOKEN"] = token

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.before_request
    def guard() -> Response | None:
        refusal = _refusal(request.environ, token)
        return _error(*refusal) if refusal else None

    @app.get("/")
    def index() -> str:
        return render_template("index.html", token=token)

    def shared_static(name: str) -> Response:
        """The renderers and stylesheet shared with the staff preview (exam_core), at their old URLs."""
        return send_from_directory(CANDIDATE_STATIC, name)

    for shared in CANDIDATE_FILES:  # exact rules win over Flask's /static/<path:filename>
        app.add_url_rule(f"/static/{shared}", f"shared_{shared}", shared_static, defaults={"name": shared})

    @app.errorhandler(SessionStateError)
    def wrong_phase(exc: SessionStateError) -> Response:
        return _error(409, "state", str(exc))

    @app.errorhandler(ValidationError)
    def invalid(exc: ValidationError) -> Response:
        return _error(400, exc.field, exc.reason)

    @app.get("/api/state")
    def state() -> Response:
        return jsonify(pages.state())

    @app.get("/api/item/<int:index>")
    def item(index: int) -> Response:
        return _item_refusal(runtime, index) or jsonify(pages.item(index))

    @app.get("/api/scratch")
    def scratch() -> Response:
        return jsonify({"ok": True, "text": pages.scratch()})

    @app.get("/api/speech/<int:index>")
    def speech(index: int) -> Response:
        """The question read aloud (WAV), made on the kiosk: nothing leaves 127.0.0.1."""
        refusal = _item_refusal(runtime, index)
        if refusal is not None:
            return refusal
        try:
            wav = pages.speech_wav(index, request.args.get("rate", "normal"))
        except SpeechUnavailable as exc:
            return _error(503, "speech", str(exc))
        runtime.require_session().set_accommodation("text_to_speech", True)
        return Response(wav, mimetype="audio/wav")

    @app.get("/media/<sha256>")
    def media(sha256: str) -> Response:
        session = runtime.session
        found = session.bundle.media_file(sha256) if session is not None else None
        if found is None:
            abort(404)
        data, mime = found
        return Response(data, mimetype=mime)

    actions: dict[str, Action] = {
        "confirm_identity": lambda b: runtime.confirm_identity(),
        "agreement": lambda b: _accept(runtime, pages, b),
        "begin": lambda b: runtime.require_session().begin(),
        "answer": lambda b: {"saved": True, "seq": runtime.require_session().answer(
            _field(b, "item_id", str), _field(b, "response_id", str), b.get("value"))},
        "flag": lambda b: {"saved": True, "seq": runtime.require_session().flag(
            _field(b, "item_id", str), _field(b, "flagged", bool))},
        "navigate": lambda b: {"seq": runtime.require_session().navigate(_field(b, "index", int))},
        "accommodation": lambda b: {"seq": runtime.require_session().set_accommodation(
            _field(b, "name", str), b.get("value"))},
        "annotate": lambda b: {"saved": True, "seq": runtime.require_session().annotate(
            _optional(b, "item_id", str), _field(b, "kind", str), b.get("value"))},
        "receipt_done": lambda b: pages.clear_receipt(),
        "break/start": lambda b: runtime.require_session().start_break(),
        "break/end": lambda b: runtime.require_session().end_break(),
        "submit": lambda b: _submit(runtime, b),
        "page_event": lambda b: _page_event(runtime, page_signal, b),
    }
    app.wsgi_app = ActionLayer(app.wsgi_app, token, actions)  # type: ignore[method-assign]
    return app


def _refusal(environ: dict[str, Any], token: str) -> tuple[int, str, str] | None:
    """Why a request may not reach the candidate UI (status, field, reason), or None. One check for
    the Flask pages and the action layer alike."""
    host = get_host(environ)
    if host.split(":")[0] not in LOOPBACK_NAMES:
        return 403, "host", "only the loopback names reach the candidate UI"  # DNS rebinding
    if environ.get("PATH_INFO", "").startswith("/api/"):
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and origin != f"{environ['wsgi.url_scheme']}://{host}":
            return 403, "origin", "cross-origin requests are refused"
        sent = environ.get("HTTP_X_KIOSK_TOKEN", "")
        if not hmac.compare_digest(sent.encode(), token.encode()):
            return 403, "token", "missing or stale page token; reload the page"
    return None


class ActionLayer:
    """``POST /api/<name>`` for the page's actions (answer, flag, navigate, submit...), served as
    plain WSGI in front of the Flask app; every other request goes on to Flask.

    Each action gets the body parsed strictly (size-limited, a JSON object) and returns a dict; the
    reply is ``{"ok": true, ...}`` only after the action returned, so a save's ``saved`` follows its
    durable commit. Errors are the same JSON ``{"ok": false, "field", "reason"}`` as Flask's.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], token: str, actions: dict[str, Action]) -> None:
        self._app = app
        self._token = token
        self._actions = {f"/api/{name}": fn for name, fn in actions.items()}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        action = self._actions.get(environ.get("PATH_INFO", ""))
        if action is None:
            return self._app(environ, start_response)
        refusal = _refusal(environ, self._token)
        if refusal is not None:
            status, payload = refusal[0], _failure(refusal[1], refusal[2])
        elif environ.get("REQUEST_METHOD") != "POST":
            status, payload = 405, _failure("method", "POST only")
        else:
            status, payload = _perform(action, environ)
        body = json.dumps(payload, separators=(",", ":")).encode()
        start_response(_STATUS_LINES[status], [("Content-Type", "application/json"),
                                               ("Content-Length", str(len(body))), *SECURITY_HEADERS])
        return [body]


_STATUS_LINES = {code: f"{code} {HTTPStatus(code).phrase}" for code in (200, 400, 403, 405, 409, 413, 500)}


def _perform(action: Action, environ: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Run one action on the request's body: (HTTP status, reply)."""
    try:
        result = action(_json_body(environ))
    except RequestEntityTooLarge:
        return 413, _failure("<body>", f"larger than {MAX_REQUEST_BYTES} bytes")
    except ValidationError as exc:
        return 400, _failure(exc.field, exc.reason)
    except SessionStateError as exc:
        return 409, _failure("state", str(exc))
    except InvigilError as exc:
        return 500, _failure("kiosk", type(exc).__name__)
    return 200, {"ok": True, **(result or {})}


def _failure(field: str, reason: str) -> dict[str, Any]:
    return {"ok": False, "field": field, "reason": reason}


class UiServer(WsgiServer):
    """The candidate UI's server: waitress on 127.0.0.1, a few worker threads, real keep-alive.

    Why not Werkzeug's development server: it answers every request with ``Connection: close``
    (whatever the protocol version) and then waits for the client to hang up, so each answer save
    paid a TCP handshake, a new thread and that teardown on top of the journal commit: about half
    of a save's CPU time. waitress keeps the page's connection open, parses each request once, sets
    TCP_NODELAY, never logs a request line and (configured so) never writes a body to disk. Same
    surface as before: ``server_port``, ``serve_forever()`` (in a thread of the caller's) and
    ``shutdown()`` (from any thread), from
    :class:`exam_core.wsgi_server.WsgiServer`, which owns the stop sequence.
    """

    def __init__(self, app: Flask, port: int) -> None:
        super().__init__(
            OwnUserOnly(app), host="127.0.0.1", port=port, threads=UI_THREADS, ident="",
            max_request_body_size=MAX_REQUEST_BYTES, max_request_header_size=MAX_HEADER_BYTES,
            expose_tracebacks=False, channel_timeout=UI_IDLE_SECONDS,
            # waitress spills a large request or response to a temporary file; here every response
            # may be exam content (a 20 MB figure) that must never reach the disk in plaintext, so
            # the buffers stay in memory up to the largest media file a form may hold.
            outbuf_overflow=limits.FORM_CONTENT_MAX_MEMBER_BYTES + MAX_HEADER_BYTES,
            inbuf_overflow=MAX_REQUEST_BYTES + MAX_HEADER_BYTES)


def make_ui_server(app: Flask, port: int) -> UiServer:
    """The candidate UI's server (see :class:`UiServer`); ``port`` 0 picks a free one."""
    return UiServer(app, port)


def _accept(runtime: KioskRuntime, pages: CandidatePages, body: dict[str, Any]) -> None:
    """The agreement, accepted after the monitoring notice was read (its SHA-256 is sent back)."""
    if _field(body, "accepted", bool) is not True:
        raise ValidationError("accepted", "the agreement must be accepted to continue")
    notice = pages.acknowledged(body.get("monitoring_notice"))
    runtime.require_session().accept_agreement(monitoring_notice=notice)


def _item_refusal(runtime: KioskRuntime, index: int) -> Response | None:
    """Items (and their audio) exist for the page only while the exam is in progress."""
    session = runtime.require_session()
    if session.state.phase != "in_progress":
        return _error(409, "phase", "the exam is not in progress")
    if not 0 <= index < len(session.bundle.items):
        return _error(404, "index", "no such item")
    return None


def _submit(runtime: KioskRuntime, body: dict[str, Any]) -> dict[str, Any]:
    if _field(body, "confirm", bool) is not True:
        raise ValidationError("confirm", "submission must be confirmed")
    sealed = runtime.require_session().submit("candidate")
    return {"receipt_code": sealed.receipt_code}


def _page_event(runtime: KioskRuntime, page_signal: Any, body: dict[str, Any]) -> None:
    """Focus, visibility, fullscreen and clipboard signals of the page, validated by the monitors'
    schema; the monitors' rules decide what is an alert. Without monitors each is recorded as is."""
    from kiosk.monitors.page_signals import validate_signal
    kind = _field(body, "kind", str)
    detail = validate_signal(kind, body.get("detail"))
    if page_signal is not None:
        page_signal(kind, detail)
        return
    attempt = runtime.attempt.attempt_id if runtime.attempt else None
    runtime.outbox.add_event(f"page.{kind}", "low", attempt_id=attempt, rule="page_signal", data=detail)


def _json_body(environ: dict[str, Any]) -> dict[str, Any]:
    """The request's body as a JSON object, read up to the size limit (413 beyond it)."""
    length, stream = get_content_length(environ), environ["wsgi.input"]
    if length is not None and length > MAX_REQUEST_BYTES:
        raise RequestEntityTooLarge()
    if length is not None:
        raw = stream.read(length)
    elif environ.get("wsgi.input_terminated"):  # no length: read only a stream the server ends
        raw = stream.read(MAX_REQUEST_BYTES + 1)
    else:
        raw = b""
    if len(raw) > MAX_REQUEST_BYTES:
        raise RequestEntityTooLarge()
    if not raw:
        return {}
    try:
        body = loads_strict(raw, max_bytes=MAX_REQUEST_BYTES)
    except InvigilError as exc:
        raise ValidationError("<body>", str(exc)) from None
    if not isinstance(body, dict):
        raise ValidationError("<body>", "must be a JSON object")
    return body


def _optional(body: dict[str, Any], name: str, kind: type) -> Any:
    return None if body.get(name) is None else _field(body, name, kind)


def _field(body: dict[str, Any], name: str, kind: type) -> Any:
    value = body.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValidationError(name, f"must be {kind.__name__}")
    return value


def _error(status: int, field: str, reason: str) -> Response:
    response = jsonify(_failure(field, reason))
    response.status_code = status
    return response
