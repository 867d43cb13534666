"""Proctor and centre admin accounts (the ``users`` table): add, list, disable, enable, reset a
password, unlock, and the password check with its lockout.

Centre admins do this on the Users page and operators with ``python -m proctor_console users``;
both call ``Accounts``, so the rules (roles, the password policy of ``passwords``, never leaving the
centre without an enabled admin) and the audit entry naming who acted are the same either way.
Disabling an account or resetting its password also closes its logins (``LoginBook.end_user``);
the ids returned let the server disconnect their dashboard sockets.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, UTC
from typing import Any

import sqlite_utils

from exam_core.audit import AuditLog
from exam_core.errors import ValidationError
from exam_core.store import immediate_transaction
from exam_core.timestamps import format_time
from proctor_console.clock import now_text
from proctor_console.errors import Conflict, Forbidden, NotFound
from proctor_console.logins import LoginBook
from proctor_console.passwords import dummy_verify, hash_password, verify_password

ROLES = ("proctor", "centre_admin")
USERNAME_MAX = 64
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
#: Wrong passwords in a row before the account locks, and for how long.
LOCKOUT_AFTER = 5
LOCKOUT_SECONDS = 15 * 60


@dataclass(frozen=True)
class User:
    """Who acts: re-read from ``users`` on every request, never taken from a payload."""

    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "centre_admin"


class LoginRefused(Forbidden):
    """A login refused; every cause says the same to the client, so no one can probe user names."""


def check_name(name: object) -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= USERNAME_MAX or not set(name) <= NAME_CHARS:
        raise ValidationError("name", f"must be 1-{USERNAME_MAX} letters, digits, _ - .")
    return name


class Accounts:
    def __init__(self, db: sqlite_utils.Database, audit: AuditLog, logins: LoginBook) -> None:
        self.db = db
        self.audit = audit
        self.logins = logins

    def add(self, name: str, role: str, password: str, by: str) -> None:
        if role not in ROLES:
            raise ValidationError("role", f"must be one of {', '.join(ROLES)}")
        check_name(name)
        digest, salt, params = hash_password(password)
        with immediate_transaction(self.db) as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = ?", [name]).fetchone():
                raise Conflict(f"user {name} already exists")
            conn.execute("INSERT INTO users (name, role, password_hash, salt, params, created) VALUES (?,?,?,?,?,?)",
                         [name, role, digest, salt, params, now_text()])
        self.audit.append(by, "user.add", {"name": name, "role": role})

    def listing(self) -> list[dict[str, Any]]:
        """Every account with its state: ``active``, ``locked`` (until when) or ``disabled``."""
        last = self.logins.last_login()
        now = time.time()
        users = []
        rows = self.db.execute("SELECT name, role, created, failed_logins, locked_until, disabled"
                               " FROM users ORDER BY name").fetchall()
        for name, role, created, failed, locked_until, disabled in rows:
            locked = locked_until > now
            users.append({"name": name, "role": role, "created": created, "failed_logins": failed,
                          "state": "disabled" if disabled else "locked" if locked else "active",
                          "locked_until": _time_text(locked_until) if locked else None,
                          "last_login": last.get(name)})
        return users

    def set_disabled(self, name: str, disabled: bool, by: str) -> list[str]:
        """Disable or enable ``name``; disabling closes its logins (their ids are returned)."""
        with immediate_transaction(self.db) as conn:
            role, was = _existing(conn, name)
            if disabled and name == by:
                raise Forbidden("you cannot disable your own account")
            if disabled and role == "centre_admin" and not was and conn.execute(
                    "SELECT COUNT(*) FROM users WHERE role = 'centre_admin' AND disabled = 0").fetchone()[0] <= 1:
                raise Conflict(f"{name} is the last enabled centre admin")
            conn.execute("UPDATE users SET disabled = ? WHERE name = ?", [int(disabled), name])
        self.audit.append(by, "user.disable" if disabled else "user.enable", {"name": name})
        return self.logins.end_user(name, f"account disabled by {by}") if disabled else []

    def reset_password(self, name: str, password: str, by: str, keep_login: str | None = None) -> list[str]:
        """Set a new password (policy checked), lift a lockout, and close the account's other logins."""
        digest, salt, params = hash_password(password)
        with immediate_transaction(self.db) as conn:
            _existing(conn, name)
            conn.execute("UPDATE users SET password_hash = ?, salt = ?, params = ?, failed_logins = 0,"
                         " locked_until = 0 WHERE name = ?", [digest, salt, params, name])
        self.audit.append(by, "user.password_reset", {"name": name})
        return self.logins.end_user(name, f"password reset by {by}", keep=keep_login)

    def unlock(self, name: str, by: str) -> None:
        """Lift a lockout after repeated wrong passwords (the failure count starts again at zero)."""
        with immediate_transaction(self.db) as conn:
            _existing(conn, name)
            conn.execute("UPDATE users SET failed_logins = 0, locked_until = 0 WHERE name = ?", [name])
        self.audit.append(by, "user.unlock", {"name": name})

    def check_password(self, name: str, password: str, address: str) -> User:
        """The user, if ``password`` is theirs and the account is enabled and not locked out.

        Every refusal says the same thing and costs the time of one verification (no user probing);
        ``LOCKOUT_AFTER`` wrong passwords in a row lock the account for ``LOCKOUT_SECONDS``.
        """
        row = self.db.execute("SELECT role, password_hash, salt, params, failed_logins, locked_until, disabled"
                              " FROM users WHERE name = ?", [name]).fetchone()
        if row is None:
            dummy_verify()
            self.audit.append("anonymous", "login.failed", {"name": name[:USERNAME_MAX], "address": address})
            raise LoginRefused("wrong user name or password")
        role, digest, salt, params, failed, locked_until, disabled = row
        if disabled or locked_until > time.time():
            dummy_verify()
            self.audit.append("anonymous", "login.locked", {"name": name, "address": address})
            raise LoginRefused("account locked after repeated failures; try again later or ask a centre admin")
        if not verify_password(password, digest, salt, params):
            self._count_failure(name, failed + 1, address)
            raise LoginRefused("wrong user name or password")
        with immediate_transaction(self.db) as conn:
            conn.execute("UPDATE users SET failed_logins = 0, locked_until = 0 WHERE name = ?", [name])
        self.audit.append(name, "login", {"address": address})
        return User(name, role)

    def user_of_login(self, token: object) -> User | None:
        """The user of a login token while that login counts (open, unexpired, account enabled)."""
        name = self.logins.user_of(token)
        row = None if name is None else self.db.execute(
            "SELECT role FROM users WHERE name = ? AND disabled = 0", [name]).fetchone()
        return User(name, row[0]) if name is not None and row else None

    def counting_logins(self, ids: Iterable[str]) -> set[str]:
        """Which of the login ids ``ids`` still count (one query each for every dashboard socket)."""
        users = self.logins.still_open(ids)
        if not users:
            return set()
        names = sorted(set(users.values()))
        enabled = {r[0] for r in self.db.execute(
            f"SELECT name FROM users WHERE disabled = 0 AND name IN ({','.join('?' * len(names))})", names)}  # noqa: S608 - one ? per name, values bound
        return {login for login, user in users.items() if user in enabled}

    def _count_failure(self, name: str, failed: int, address: str) -> None:
        lock = time.time() + LOCKOUT_SECONDS if failed >= LOCKOUT_AFTER else 0
        with immediate_transaction(self.db) as conn:
            conn.execute("UPDATE users SET failed_logins = ?, locked_until = ? WHERE name = ?",
                         [0 if lock else failed, lock, name])
        self.audit.append("anonymous", "login.failed", {"name": name, "address": address, "locked": bool(lock)})


def _existing(conn: Any, name: str) -> tuple[str, bool]:
    row = conn.execute("SELECT role, disabled FROM users WHERE name = ?", [name]).fetchone()
    if row is None:
        raise NotFound(f"no user named {name[:USERNAME_MAX]!r}")
    return row[0], bool(row[1])


def _time_text(epoch: float) -> str:
    return format_time(datetime.fromtimestamp(epoch, UTC))
