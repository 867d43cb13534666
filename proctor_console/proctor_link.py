"""The ``/proctor`` Socket.IO namespace: the dashboard's live feed and its actions.

The socket is accepted only for a logged-in session (the Flask session cookie travels with the
Socket.IO handshake) that also presents its CSRF token in the CONNECT ``auth``; each ``action``
carries the token again. A kiosk has no session, so it can never join this namespace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_socketio import ConnectionRefusedError, Namespace, emit, join_room

from exam_core import protocol
from exam_core.errors import InvigilError
from proctor_console.auth import csrf_valid

if TYPE_CHECKING:
    from proctor_console.server import ConsoleServer


class ProctorNamespace(Namespace):
    def __init__(self, server: ConsoleServer) -> None:
        super().__init__(protocol.PROCTOR_NAMESPACE)
        self.console = server

    def on_connect(self, auth: Any = None) -> None:
        user = self.console.auth.current_user()
        if user is None:
            raise ConnectionRefusedError("not logged in")
        if not isinstance(auth, dict) or not csrf_valid(auth.get("csrf")):
            raise ConnectionRefusedError("missing or wrong CSRF token")
        join_room("proctors")
        emit(protocol.PROCTOR_SNAPSHOT, {"user": user.name, "role": user.role,
                                         "tiles": self.console.room.snapshot(),
                                         "alerts": self.console.open_alerts()})

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
