"""The staff application's factory: configuration, security, and the blueprints of ``pages``.

Every request goes through the same gate, before any view runs:

1. its session (``staff_signins.session_of``: cookie token -> server-side row -> enabled account);
2. its body limit: 64 KiB until both sign-in steps are done, then ``MAX_CONTENT_LENGTH``;
3. a POST must carry the session's CSRF token (the sign-in form included: no login CSRF).

Every answer gets the security headers and strict CSP of :mod:`exam_core.websec.headers`
(no inline script or style anywhere: the templates use only ``static/staff``).
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, Response, abort, g, render_template, request, session

from exam_core.websec.bodylimit import ANONYMOUS_BODY_BYTES, limit_body
from exam_core.websec.csrf import csrf_token, request_csrf_valid
from exam_core.websec.headers import security_headers
from item_bank_sync.context import CentralContext
from item_bank_sync.public.app import PEER_HEADER
from item_bank_sync.staff.accounts import StaffBook
from item_bank_sync.staff.roles import DESCRIPTIONS, ROLES
from item_bank_sync.staff.signins import SignIns
from item_bank_sync.sync.tls_front import peer_of
from item_bank_sync.web.access import EXTENSION, WebState, csrf_field, current_session, current_staff
from item_bank_sync.web.nav import nav_links
from item_bank_sync.web.pages import BLUEPRINTS
from item_bank_sync.web.tables import links_for_pages
from item_bank_sync.web.timefmt import when

#: Largest body of a signed-in person (item imports are the largest forms).
SIGNED_IN_BODY_BYTES = 64 * 1024 * 1024
COOKIE_NAME = "invigil_staff"


def create_app(ctx: CentralContext, *, secure_cookies: bool = True, config: dict[str, Any] | None = None) -> Flask:
    """The staff application of the central body ``ctx`` (initialised: its key signs the cookie)."""
    app = Flask(__name__, template_folder="templates", static_folder="static", static_url_path="/static")
    app.config.update(SECRET_KEY=_cookie_key(ctx), SESSION_COOKIE_NAME=COOKIE_NAME, SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SECURE=secure_cookies, SESSION_COOKIE_SAMESITE="Strict",
                      MAX_CONTENT_LENGTH=SIGNED_IN_BODY_BYTES, MAX_FORM_MEMORY_SIZE=2 * 1024 * 1024,
                      TEMPLATES_AUTO_RELOAD=False, PEER_SECRET=None)
    app.config.update(config or {})
    ctx.db()  # open (and migrate) once, before any thread serves
    body = ctx.body()
    book = StaffBook(ctx)
    app.extensions[EXTENSION] = WebState(ctx=ctx, book=book, signins=SignIns(book),
                                         zone_name=str(body.get("time_zone") or "UTC"),
                                         body_name=str(body.get("name") or body.get("body_id") or ""))
    _install_gate(app)
    _install_templates(app)
    _install_errors(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    return app


def _cookie_key(ctx: CentralContext) -> bytes:
    """The cookie-signing key, derived from the central signing key: stable across restarts, never stored."""
    raw = ctx.load_signing_key().private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                               serialization.NoEncryption())
    return HKDF(hashes.SHA256(), 32, salt=None, info=b"invigil staff cookie v1").derive(raw)


def _install_gate(app: Flask) -> None:
    @app.before_request
    def gate() -> Response | None:
        g.client_address = _client_address(app.config.get("PEER_SECRET"))
        g.staff_session = app.extensions[EXTENSION].signins.session_of(session.get("token"))
        signed_in = current_staff() is not None
        refused = limit_body(int(app.config["MAX_CONTENT_LENGTH"]) if signed_in else ANONYMOUS_BODY_BYTES,
                             close=False)
        if refused is not None:
            return refused
        if request.method not in ("GET", "HEAD", "OPTIONS") and not request_csrf_valid():
            abort(400, "missing or wrong CSRF token")
        return None

    app.after_request(security_headers)


def _client_address(secret: str | None) -> str:
    """Who connected: from the TLS front's peer header carrying ``secret`` when served behind it
    (:mod:`item_bank_sync.web.server`), else from the socket (a test client, a development server).
    A request without the secret (a second request on a connection, a forged header) is refused."""
    if not secret:
        return request.remote_addr or "unknown"
    peer = peer_of(request.headers.get(PEER_HEADER, ""), secret)
    if peer is None:
        abort(400, "one request per connection")
    return peer


def _install_templates(app: Flask) -> None:
    web_state: WebState = app.extensions[EXTENSION]

    @app.template_filter("when")
    def when_filter(value: object) -> str:
        return when(value, web_state.zone_name)

    # A global, not only a context variable: a macro imported without context still pages.
    app.jinja_env.globals["page_numbers"] = links_for_pages

    @app.context_processor
    def globals_() -> dict[str, Any]:
        return {"current_staff": current_staff(), "current_session": current_session(), "csrf_field": csrf_field,
                "csrf_token": csrf_token, "body_name": web_state.body_name, "ROLES": ROLES,
                "ROLE_DESCRIPTIONS": DESCRIPTIONS, "page_numbers": links_for_pages, "zone_label": web_state.zone_name,
                "nav_links": nav_links(current_staff())}


def _install_errors(app: Flask) -> None:
    messages = {400: ("Request refused", "The request was not accepted. Reload the page and try again."),
                403: ("Not allowed", "Your roles do not allow this page or action."),
                404: ("Not found", "There is no such page."),
                405: ("Not allowed", "This page does not take that kind of request."),
                413: ("Too large", "The request was larger than this page accepts.")}

    def render(code: int) -> tuple[str, int]:
        title, text = messages[code]
        return render_template("staff/error.html", title=title, text=text, code=code), code

    for code in messages:
        app.register_error_handler(code, lambda _exc, code=code: render(code))
