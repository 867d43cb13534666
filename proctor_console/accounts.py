"""Account administration: list, add, disable, enable, reset a password, unlock.

Centre admins do this on the Users page and operators with ``python -m proctor_console users``;
both call these functions, so the rules (roles, the password policy of ``passwords``, never leaving
the centre without an enabled admin) and the audit entry naming who acted are the same either way.
Disabling an account or resetting its password also closes its logins (``LoginBook.end_user``),
which the server turns into disconnected dashboard sockets.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from exam_core.errors import ValidationError
from exam_core.jsonio import format_time
from exam_core.store import immediate_transaction
from proctor_console.context import ConsoleContext, ConsoleError, now_text
from proctor_console.logins import LoginBook
from proctor_console.passwords import hash_password

ROLES = ("proctor", "centre_admin")
USERNAME_MAX = 64
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


def check_name(name: object) -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= USERNAME_MAX or not set(name) <= NAME_CHARS:
        raise ValidationError("name", f"must be 1-{USERNAME_MAX} letters, digits, _ - .")
    return name


def add_user(ctx: ConsoleContext, name: str, role: str, password: str, by: str = "cli") -> None:
    if role not in ROLES:
        raise ValidationError("role", f"must be one of {', '.join(ROLES)}")
    check_name(name)
    digest, salt, params = hash_password(password)
    with immediate_transaction(ctx.db) as conn:
        if conn.execute("SELECT 1 FROM users WHERE name = ?", [name]).fetchone():
            raise ConsoleError(f"user {name} already exists")
        conn.execute("INSERT INTO users (name, role, password_hash, salt, params, created) VALUES (?,?,?,?,?,?)",
                     [name, role, digest, salt, params, now_text()])
    ctx.audit.append(by, "user.add", {"name": name, "role": role})


def list_users(ctx: ConsoleContext) -> list[dict[str, Any]]:
    """Every account with its state: ``active``, ``locked`` (until when) or ``disabled``."""
    last = LoginBook(ctx).last_login()
    now = time.time()
    users = []
    for name, role, created, failed, locked_until, disabled in ctx.db.execute(
            "SELECT name, role, created, failed_logins, locked_until, disabled FROM users ORDER BY name").fetchall():
        locked = locked_until > now
        users.append({"name": name, "role": role, "created": created, "failed_logins": failed,
                      "state": "disabled" if disabled else "locked" if locked else "active",
                      "locked_until": format_time(datetime.fromtimestamp(locked_until, timezone.utc)) if locked else None,
                      "last_login": last.get(name)})
    return users


def set_disabled(ctx: ConsoleContext, name: str, disabled: bool, by: str) -> list[str]:
    """Disable or enable ``name``; disabling closes its logins (their ids are returned)."""
    with immediate_transaction(ctx.db) as conn:
        role, was = _existing(conn, name)
        if disabled and name == by:
            raise ConsoleError("you cannot disable your own account")
        if disabled and role == "centre_admin" and not was and conn.execute(
                "SELECT COUNT(*) FROM users WHERE role = 'centre_admin' AND disabled = 0").fetchone()[0] <= 1:
            raise ConsoleError(f"{name} is the last enabled centre admin")
        conn.execute("UPDATE users SET disabled = ? WHERE name = ?", [int(disabled), name])
    ctx.audit.append(by, "user.disable" if disabled else "user.enable", {"name": name})
    return LoginBook(ctx).end_user(name, f"account disabled by {by}") if disabled else []


def reset_password(ctx: ConsoleContext, name: str, password: str, by: str, keep_login: str | None = None) -> list[str]:
    """Set a new password (policy checked), lift a lockout, and close the account's other logins."""
    digest, salt, params = hash_password(password)
    with immediate_transaction(ctx.db) as conn:
        _existing(conn, name)
        conn.execute("UPDATE users SET password_hash = ?, salt = ?, params = ?, failed_logins = 0, locked_until = 0"
                     " WHERE name = ?", [digest, salt, params, name])
    ctx.audit.append(by, "user.password_reset", {"name": name})
    return LoginBook(ctx).end_user(name, f"password reset by {by}", keep=keep_login)


def unlock(ctx: ConsoleContext, name: str, by: str) -> None:
    """Lift a lockout after repeated wrong passwords (the failure count starts again at zero)."""
    with immediate_transaction(ctx.db) as conn:
        _existing(conn, name)
        conn.execute("UPDATE users SET failed_logins = 0, locked_until = 0 WHERE name = ?", [name])
    ctx.audit.append(by, "user.unlock", {"name": name})


def _existing(conn: Any, name: str) -> tuple[str, bool]:
    row = conn.execute("SELECT role, disabled FROM users WHERE name = ?", [name]).fetchone()
    if row is None:
        raise ConsoleError(f"no user named {name[:USERNAME_MAX]!r}")
    return row[0], bool(row[1])
