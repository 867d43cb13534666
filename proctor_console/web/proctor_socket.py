"""The ``/proctor`` Socket.IO namespace: the dashboard's live feed and its actions.

The socket is accepted only for a logged-in session (the Flask session cookie travels with the
Socket.IO handshake) that also presents its CSRF token in the CONNECT ``auth``; each ``action``
carries the token again. A kiosk has no session, so it can never join this namespace.

Each socket remembers the login it was opened with. When that login ends (logout, the account
disabled, a password reset, expiry, or any of these done by another process), the server
disconnects the socket (``disconnect_logins`` at once, ``drop_closed`` from the sweeper), and every
action re-checks the login first, so a socket cannot act in the moment before it is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import request
from flask_socketio import ConnectionRefusedError, Namespace, emit, join_room

from exam_core import protocol
from exam_core.errors import InvigilError
from proctor_console.auth import csrf_valid, current_login_id

if TYPE_CHECKING:
    from proctor_console.server import ConsoleServer


class ProctorNamespace(Namespace):
    def __init__(self, server: ConsoleServer) -> None:
        super().__init__(protocol.PROCTOR_NAMESPACE)
        self.console = server
        self.logins: dict[str, str] = {}  # socket id -> id of the login it was opened with

    def on_connect(self, auth: Any = None) -> None:
        user = self.console.auth.current_user()
        if user is None:
            raise ConnectionRefusedError("not logged in")
        if not isinstance(auth, dict) or not csrf_valid(auth.get("csrf")):
            raise ConnectionRefusedError("missing or wrong CSRF token")
        self.logins[request.sid] = current_login_id() or ""
        join_room("proctors")
        emit(protocol.PROCTOR_SNAPSHOT, {"user": user.name, "role": user.role,
                                         "tiles": self.console.room.snapshot(),
                                         "alerts": self.console.open_alerts()})

    def on_disconnect(self, *_: Any) -> None:
        self.logins.pop(request.sid, None)

    def on_action(self, data: Any = None) -> dict[str, Any]:
        user = self.console.auth.current_user()
        if user is None:
            return {"ok": False, "error": "not logged in"}
        if not isinstance(data, dict) or not csrf_valid(data.get("csrf")):
            return {"ok": False, "error": "missing or wrong CSRF token"}
        try:
            result = self.console.actions.perform(user, {k: v for k, v in data.items() if k != "csrf"})
        except InvigilError as exc:
            return {"ok": False, "error": str(exc)}
        return {"ok": True, "result": result}

    # --- ending logins ------------------------------------------------------------------------
    def disconnect_logins(self, ended: Iterable[str]) -> int:
        """Disconnect every socket opened with one of the ``ended`` logins; returns how many."""
        ended = set(ended)
        sids = [sid for sid, login in list(self.logins.items()) if login in ended]
        for sid in sids:
            self.logins.pop(sid, None)
            self.console.socketio.server.disconnect(sid, namespace=protocol.PROCTOR_NAMESPACE)
        return len(sids)

    def drop_closed(self) -> int:
        """Disconnect sockets whose login no longer counts (closed elsewhere, expired, user disabled)."""
        opened = set(self.logins.values())
        return self.disconnect_logins(opened - self.console.auth.logins.still_open(opened)) if opened else 0
