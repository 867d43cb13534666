"""Proctor and centre admin accounts (the ``users`` table): add, list, disable, enable, reset a
password, unlock, and the password check with its back-off.

Centre admins do this on the Users page and operators with ``python -m proctor_console users``;
both call ``Accounts``, so the rules (roles, the password policy of ``passwords``, never leaving the
centre without an enabled admin) and the audit entry naming who acted are the same either way.
Disabling an account or resetting its password also closes its logins (``LoginBook.end_user``);
the ids returned let the server disconnect their dashboard sockets.

Wrong passwords slow the guesser, not the account: a user name typed from one address may fail
``throttle.FREE_FAILURES`` times, then each further try from there waits, 30 s doubling up to 15
minutes (``throttle.Backoff``), while the same user at another desk logs in as usual. A hard
lock after five wrong passwords let anyone lock any proctor out (issue 13, item 14). Unknown,
disabled and wrong all answer the same words after the same work, and the back-off counts names
that do not exist as it counts those that do, so nothing tells which names exist. The Users page
shows a name held back (state ``locked``, until when) and a centre admin can lift it (``unlock``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime, UTC
from typing import Any

import sqlite_utils

from exam_core.audit import AuditLog
from exam_core.errors import ValidationError
from exam_core.store import immediate_transaction
from exam_core.timestamps import format_time
from exam_core.timestamps import utc_text_us
from proctor_console.errors import Conflict, Forbidden, NotFound
from proctor_console.logins import LoginBook
from exam_core.websec.passwords import dummy_verify, hash_password, verify_password
from exam_core.websec.throttle import Backoff

ROLES = ("proctor", "centre_admin")
USERNAME_MAX = 64
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
#: What every refused password check says, whatever the cause (no probing of user names).
WRONG_LOGIN = "wrong user name or password"


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
        #: Failed logins per (name typed, address): held in the server that checks them.
        self.backoff = Backoff()

    def add(self, name: str, role: str, password: str, by: str) -> None:
        if role not in ROLES:
            raise ValidationError("role", f"must be one of {', '.join(ROLES)}")
        check_name(name)
        digest, salt, params = hash_password(password)
        with immediate_transaction(self.db) as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = ?", [name]).fetchone():
                raise Conflict(f"user {name} already exists")
            conn.execute("INSERT INTO users (name, role, password_hash, salt, params, created) VALUES (?,?,?,?,?,?)",
                         [name, role, digest, salt, params, utc_text_us()])
        self.audit.append(by, "user.add", {"name": name, "role": role})

    def listing(self) -> list[dict[str, Any]]:
        """Every account with its state: ``active``, ``locked`` (until when) or ``disabled``."""
        last = self.logins.last_login()
        users = []
        rows = self.db.execute("SELECT name, role, created, failed_logins, disabled FROM users"
                               " ORDER BY name").fetchall()
        for name, role, created, failed, disabled in rows:
            held = self.backoff.holding(_typed_as(name))
            users.append({"name": name, "role": role, "created": created, "failed_logins": failed,
                          "state": "disabled" if disabled else "locked" if held else "active",
                          "locked_until": _time_text(held) if held else None,
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
        """Set a new password (policy checked), lift its back-off, and close the account's other logins."""
        digest, salt, params = hash_password(password)
        with immediate_transaction(self.db) as conn:
            _existing(conn, name)
            conn.execute("UPDATE users SET password_hash = ?, salt = ?, params = ?, failed_logins = 0,"
                         " locked_until = 0 WHERE name = ?", [digest, salt, params, name])
        self.backoff.forget(_typed_as(name))
        self.audit.append(by, "user.password_reset", {"name": name})
        return self.logins.end_user(name, f"password reset by {by}", keep=keep_login)

    def unlock(self, name: str, by: str) -> None:
        """Lift the back-off after repeated wrong passwords, from every address (the failure count
        starts again at zero). From the CLI only the count: the back-off is the server's."""
        with immediate_transaction(self.db) as conn:
            _existing(conn, name)
            conn.execute("UPDATE users SET failed_logins = 0, locked_until = 0 WHERE name = ?", [name])
        self.backoff.forget(_typed_as(name))
        self.audit.append(by, "user.unlock", {"name": name})

    def check_password(self, name: str, password: str, address: str) -> User:
        """The user, if ``password`` is theirs and the account is enabled.

        Every refusal says ``WRONG_LOGIN`` and costs the time of one verification; a name typed
        from an address that failed too often is refused unchecked until its back-off ends.
        """
        wait = self.backoff.wait((name, address))
        if wait > 0:
            raise LoginRefused(f"too many failed logins with this name from this computer: locked for "
                               f"{math.ceil(wait)} more seconds")
        row = self.db.execute("SELECT role, password_hash, salt, params, disabled FROM users WHERE name = ?",
                              [name]).fetchone()
        if row is None or row[4]:
            dummy_verify()  # unknown or disabled: the same work and words as a wrong password
        elif verify_password(password, row[1], row[2], row[3]):
            self.backoff.succeeded((name, address))
            with immediate_transaction(self.db) as conn:
                conn.execute("UPDATE users SET failed_logins = 0, locked_until = 0 WHERE name = ?", [name])
            self.audit.append(name, "login", {"address": address})
            return User(name, row[0])
        self._count_failure(name, address, known=row is not None)
        raise LoginRefused(WRONG_LOGIN)

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

    def _count_failure(self, name: str, address: str, known: bool) -> None:
        """The back-off of (name, address), the account's count of failures in a row, an audit entry."""
        wait = self.backoff.failed((name, address))
        if known:
            with immediate_transaction(self.db) as conn:
                conn.execute("UPDATE users SET failed_logins = failed_logins + 1 WHERE name = ?", [name])
        self.audit.append("anonymous", "login.failed", {"name": name[:USERNAME_MAX], "address": address,
                                                        "held_seconds": math.ceil(wait)})


def _typed_as(name: str) -> Callable[[Hashable], bool]:
    """Matches the back-off keys of ``name`` (typed from any address)."""
    return lambda key: isinstance(key, tuple) and key[0] == name


def _existing(conn: Any, name: str) -> tuple[str, bool]:
    row = conn.execute("SELECT role, disabled FROM users WHERE name = ?", [name]).fetchone()
    if row is None:
        raise NotFound(f"no user named {name[:USERNAME_MAX]!r}")
    return row[0], bool(row[1])


def _time_text(epoch: float) -> str:
    return format_time(datetime.fromtimestamp(epoch, UTC))
