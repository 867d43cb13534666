"""Browser logins held on the server (the ``logins`` table), so that ending one really ends it.

The session cookie is signed but stateless: clearing it at logout does not stop a copy of it (or a
dashboard socket opened with it) from working until it expires. So each login gets a random token;
the cookie carries the token, and the ``logins`` table keeps only its SHA-256 (``login_id``) with
the user and the time. A login counts while its row is open, younger than ``SESSION_HOURS`` and its
user is not disabled (``Accounts.user_of_login`` checks the last). Logout, disabling an account and
a password reset close rows; the server then disconnects every ``/proctor`` socket opened with
those logins, and its sweeper catches rows closed by another process (the CLI) or expired.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterable
from typing import Any

import sqlite_utils

from exam_core.store import immediate_transaction
from exam_core.timestamps import utc_text_us

SESSION_HOURS = 12
TOKEN_BYTES = 32


def login_id(token: str) -> str:
    """The stored name of a login: the hash of its token (the database never holds a usable token)."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


class LoginBook:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def start(self, user: str, address: str) -> str:
        """Open a login for ``user``; returns the token for the cookie."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        with immediate_transaction(self.db) as conn:
            conn.execute("INSERT INTO logins (login_id, user, address, started, started_at) VALUES (?,?,?,?,?)",
                         [login_id(token), user, address[:64], time.time(), utc_text_us()])
        return token

    def user_of(self, token: object) -> str | None:
        """The user name while the login of ``token`` is open and unexpired, else None."""
        if not isinstance(token, str) or len(token) > 128:
            return None
        row = self.db.execute("SELECT user FROM logins WHERE login_id = ? AND ended IS NULL AND started > ?",
                              [login_id(token), self._oldest()]).fetchone()
        return row[0] if row else None

    def still_open(self, ids: Iterable[str]) -> dict[str, str]:
        """Which of ``ids`` are open and unexpired, with their users (one query for every socket)."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = self.db.execute(f"SELECT login_id, user FROM logins WHERE login_id IN ({marks})"  # noqa: S608 - one ? per login id, values bound
                               " AND ended IS NULL AND started > ?", [*wanted, self._oldest()]).fetchall()
        return {r[0]: r[1] for r in rows}

    def end(self, token: object, reason: str) -> list[str]:
        """Close the login of ``token``; returns its id (empty when there was none open)."""
        if not isinstance(token, str):
            return []
        return self._close("login_id = ?", [login_id(token)], reason)

    def end_user(self, user: str, reason: str, keep: str | None = None) -> list[str]:
        """Close every open login of ``user`` (except ``keep``, the acting admin's own); returns their ids."""
        return self._close("user = ? AND login_id != ?", [user, keep or ""], reason)

    def _close(self, where: str, args: list[Any], reason: str) -> list[str]:
        with immediate_transaction(self.db) as conn:
            ids = [r[0] for r in conn.execute(f"SELECT login_id FROM logins WHERE ended IS NULL AND {where}",  # noqa: S608 - where is a literal condition from end()/end_user()
                                              args).fetchall()]
            conn.execute(f"UPDATE logins SET ended = ?, end_reason = ? WHERE ended IS NULL AND {where}",  # noqa: S608 - where is a literal condition from end()/end_user()
                         [utc_text_us(), reason, *args])
        return ids

    def last_login(self) -> dict[str, str]:
        """Each user's most recent login time (shown on the Users page)."""
        return dict(self.db.execute("SELECT user, MAX(started_at) FROM logins GROUP BY user").fetchall())

    @staticmethod
    def _oldest() -> float:
        return time.time() - SESSION_HOURS * 3600
