"""Browser logins: the login and logout pages, sessions, CSRF, role checks, security headers.

Sessions are Flask's signed cookie (HttpOnly, Secure unless --insecure-dev, SameSite=Strict)
holding a login token (``logins``: the login counts only while the server keeps it open) and a
CSRF token; user and role are re-read from the database on every request, so logout, a disabled
account or a password reset stop the session at once, copies of the cookie included. Passwords
and their back-off are checked by ``Accounts.check_password``; this module adds what only a web
face needs: a per-address throttle, the cookie and the CSRF token, the body limit of each request
by who sends it (small before a login, so no one can make the console read 600 MiB before it
knows who they are) and the security headers (``Strict-Transport-Security`` over HTTPS). What the
staff web application of the central body shares with this sign-in (CSRF tokens, headers and CSP,
the body limit, Argon2id, back-off) lives in :mod:`exam_core.websec`; the names are re-exported here.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from functools import wraps
from typing import Any

__all__ = ["ANONYMOUS_BODY_BYTES", "HSTS", "SECURITY_HEADERS", "csrf_token", "csrf_valid", "security_headers"]
from collections.abc import Callable

from flask import Blueprint, Response, abort, current_app, g, redirect, render_template, request, session, url_for

from exam_core.audit import AuditLog
from exam_core.websec.bodylimit import ANONYMOUS_BODY_BYTES
from exam_core.websec.bodylimit import limit_body as limit_request_body
from exam_core.websec.csrf import csrf_token, csrf_valid, new_csrf_token
from exam_core.websec.headers import HSTS, SECURITY_HEADERS, security_headers
from proctor_console.accounts import Accounts, LoginRefused, User
from proctor_console.logins import LoginBook, login_id

#: Login attempts per client address per minute (whatever the user name).
ADDRESS_ATTEMPTS_PER_MINUTE = 20
ANY_STAFF = ("proctor", "centre_admin")
#: Largest request body for a proctor (the largest form is an incident report of 10,000
#: characters); a centre admin may upload packages. Before a login: exam_core.websec.bodylimit.
STAFF_BODY_BYTES = 2 * 1024 * 1024
ADMIN = ("centre_admin",)


class Authenticator:
    """Logins of this server's browsers: throttled per address, held as server-side logins."""

    def __init__(self, accounts: Accounts, logins: LoginBook, audit: AuditLog) -> None:
        self.accounts = accounts
        self.logins = logins
        self.audit = audit
        self._by_address: dict[str, deque[float]] = defaultdict(deque)

    def login(self, name: str, password: str, address: str) -> User:
        """Check a password; every refusal says the same thing to the client (no user probing)."""
        self._throttle(address)
        return self.accounts.check_password(name, password, address)

    def _throttle(self, address: str) -> None:
        now = time.monotonic()
        attempts = self._by_address[address]
        while attempts and attempts[0] < now - 60:
            attempts.popleft()
        if len(attempts) >= ADDRESS_ATTEMPTS_PER_MINUTE:
            raise LoginRefused("too many login attempts from this address; wait a minute")
        attempts.append(now)

    def current_user(self) -> User | None:
        """The user of this request's login, while that login is open, unexpired and enabled."""
        return self.accounts.user_of_login(session.get("login"))

    def start_session(self, user: User, address: str) -> None:
        """A fresh cookie (new CSRF token too) naming a new server-side login."""
        session.clear()
        session["login"] = self.logins.start(user.name, address)
        new_csrf_token()

    def logout(self, user: User) -> list[str]:
        """Close this request's login and clear its cookie; returns the closed login ids."""
        self.audit.append(user.name, "logout", {})
        ended = self.logins.end(session.get("login"), "logout")
        session.clear()
        return ended


def current_login_id() -> str | None:
    """The id of the login this request (or socket) was made with."""
    token = session.get("login")
    return login_id(token) if isinstance(token, str) else None


def require_role(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Route decorator: a logged-in user with one of ``roles``, and a CSRF token on every POST."""
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = g.get("user")
            if user is None:
                abort(401)
            if user.role not in roles:
                abort(403)
            token = request.form.get("csrf") or request.headers.get("X-CSRF-Token")
            if request.method == "POST" and not csrf_valid(token):
                abort(400, "missing or wrong CSRF token")
            return view(*args, **kwargs)
        return wrapper
    return decorate


def body_limit(user: User | None) -> int:
    """The largest request body ``user`` may send: small before a login, a form's worth for a
    proctor, the app's ``MAX_CONTENT_LENGTH`` (form packages) for a centre admin."""
    if user is None:
        return ANONYMOUS_BODY_BYTES
    return int(current_app.config["MAX_CONTENT_LENGTH"]) if user.is_admin else STAFF_BODY_BYTES


def limit_body(user: User | None) -> Response | None:
    """Hold this request to ``body_limit`` (413 before any of it is read; exam_core.websec.bodylimit)."""
    return limit_request_body(body_limit(user))


def auth_blueprint(auth: Authenticator, *, centre_id: str, centre_name: str,
                   end_logins: Callable[[list[str]], object]) -> Blueprint:
    """Login and logout, the user of every request (``g.user``), the pages' common globals, and
    the answer to a request without a login; ``end_logins`` drops the dashboard sockets of a
    login that ends here."""
    bp = Blueprint("auth", __name__)

    @bp.before_app_request
    def load_user() -> Response | None:
        g.user = auth.current_user()
        return limit_body(g.user)

    @bp.app_context_processor
    def template_globals() -> dict[str, Any]:
        return {"user": g.get("user"), "csrf": csrf_token, "centre_name": centre_name, "centre_id": centre_id}

    @bp.get("/")
    def index() -> Any:
        return redirect(url_for("pages.dashboard" if g.user else "auth.login"))

    @bp.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        error = None
        if request.method == "POST":
            if not csrf_valid(request.form.get("csrf")):
                abort(400, "missing or wrong CSRF token")
            address = request.remote_addr or "?"
            try:
                user = auth.login(request.form.get("name", "")[:64], request.form.get("password", "")[:1024], address)
            except LoginRefused as exc:
                error = str(exc)
            else:
                auth.start_session(user, address)
                return redirect(url_for("pages.dashboard"))
        return render_template("login.html", error=error), 401 if error else 200

    @bp.post("/logout")
    @require_role(*ANY_STAFF)
    def logout() -> Any:
        end_logins(auth.logout(g.user))  # its dashboard sockets go too
        return redirect(url_for("auth.login"))

    @bp.app_errorhandler(401)
    def unauthorised(_: Any) -> Any:
        if request.path.startswith("/media/") or request.accept_mimetypes.best == "application/json":
            return Response("login required", 401)
        return redirect(url_for("auth.login"))

    return bp
