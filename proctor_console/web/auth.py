"""Proctor accounts: login with throttling and lockout, sessions, CSRF, role checks.

Sessions are Flask's signed cookie (HttpOnly, Secure unless --insecure-dev, SameSite=Strict)
holding a login token (``logins``: the login counts only while the server keeps it open) and a
CSRF token; user and role are re-read from the database on every request, so logout, a disabled
account or a password reset stop the session at once, copies of the cookie included.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import defaultdict, deque
from functools import wraps
from typing import Any, Callable

from flask import abort, g, request, session

from exam_core.store import immediate_transaction
from proctor_console.accounts import USERNAME_MAX
from proctor_console.actions import User
from proctor_console.context import ConsoleContext, ConsoleError
from proctor_console.logins import LoginBook, login_id
from proctor_console.passwords import dummy_verify, verify_password

#: Wrong passwords in a row before the account locks, and for how long.
LOCKOUT_AFTER = 5
LOCKOUT_SECONDS = 15 * 60
#: Login attempts per client address per minute (whatever the user name).
ADDRESS_ATTEMPTS_PER_MINUTE = 20


class LoginRefused(ConsoleError):
    pass


class Authenticator:
    def __init__(self, ctx: ConsoleContext) -> None:
        self.ctx = ctx
        self.logins = LoginBook(ctx)
        self._by_address: dict[str, deque[float]] = defaultdict(deque)

    def login(self, name: str, password: str, address: str) -> User:
        """Check a password; every refusal says the same thing to the client (no user probing)."""
        self._throttle(address)
        row = self.ctx.db.execute("SELECT role, password_hash, salt, params, failed_logins, locked_until, disabled"
                                  " FROM users WHERE name = ?", [name]).fetchone()
        if row is None:
            dummy_verify()
            self.ctx.audit.append("anonymous", "login.failed", {"name": name[:USERNAME_MAX], "address": address})
            raise LoginRefused("wrong user name or password")
        role, digest, salt, params, failed, locked_until, disabled = row
        if disabled or locked_until > time.time():
            dummy_verify()
            self.ctx.audit.append("anonymous", "login.locked", {"name": name, "address": address})
            raise LoginRefused("account locked after repeated failures; try again later or ask a centre admin")
        if not verify_password(password, digest, salt, params):
            failed += 1
            lock = time.time() + LOCKOUT_SECONDS if failed >= LOCKOUT_AFTER else 0
            with immediate_transaction(self.ctx.db) as conn:
                conn.execute("UPDATE users SET failed_logins = ?, locked_until = ? WHERE name = ?",
                             [0 if lock else failed, lock, name])
            self.ctx.audit.append("anonymous", "login.failed", {"name": name, "address": address, "locked": bool(lock)})
            raise LoginRefused("wrong user name or password")
        with immediate_transaction(self.ctx.db) as conn:
            conn.execute("UPDATE users SET failed_logins = 0, locked_until = 0 WHERE name = ?", [name])
        self.ctx.audit.append(name, "login", {"address": address})
        return User(name, role)

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
        found = self.logins.user_of(session.get("login"))
        return User(*found) if found else None

    def start_session(self, user: User, address: str) -> None:
        """A fresh cookie (new CSRF token too) naming a new server-side login."""
        session.clear()
        session["login"] = self.logins.start(user.name, address)
        session["csrf"] = secrets.token_urlsafe(32)

    def end_session(self, reason: str) -> list[str]:
        """Close this request's login and clear its cookie; returns the closed login ids."""
        ended = self.logins.end(session.get("login"), reason)
        session.clear()
        return ended


def current_login_id() -> str | None:
    """The id of the login this request (or socket) was made with."""
    token = session.get("login")
    return login_id(token) if isinstance(token, str) else None


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def csrf_valid(token: Any) -> bool:
    expected = session.get("csrf")
    return bool(expected) and isinstance(token, str) and hmac.compare_digest(token.encode(), expected.encode())


def require_role(*roles: str) -> Callable:
    """Route decorator: a logged-in user with one of ``roles``, and a CSRF token on every POST."""
    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = g.get("user")
            if user is None:
                abort(401)
            if user.role not in roles:
                abort(403)
            if request.method == "POST" and not csrf_valid(request.form.get("csrf") or request.headers.get("X-CSRF-Token")):
                abort(400, "missing or wrong CSRF token")
            return view(*args, **kwargs)
        return wrapper
    return decorate


SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
                                "form-action 'self'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cache-Control": "no-store",
}
