"""The ``/proctor`` Socket.IO namespace: the dashboard's live feed and its actions.

The socket is accepted only for a logged-in session (the Flask session cookie travels with the
Socket.IO handshake) that also presents its CSRF token in the CONNECT ``auth``; each ``action``
carries the token again. A kiosk has no session, so it can never join this namespace.

Each socket remembers the login it was opened with. When that login ends (logout, the account
disabled, a password reset, expiry, or any of these done by another process), the server
disconnects the socket (``disconnect_logins`` at once, ``drop_closed`` from the sweeper), and every
action re-checks the login first, so a socket cannot act in the moment before it is dropped.

A refused action answers ``{"ok": false, "error": reason, "code": kind}``, the kind mapped from the
refusal by ``errors.socket_code`` (``invalid``, ``not_found``, ``forbidden``, ``conflict``, ...);
an action that fails for a reason the console did not foresee (a bug) answers ``internal`` and is
logged by its type and user only: Socket.IO's own report of a failed handler would print the
call's arguments, the CSRF token among them, and leave the dashboard without a reply.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import partial
from typing import Any
from collections.abc import Callable

from flask import request
from flask_socketio import Namespace, emit, join_room
from socketio.exceptions import ConnectionRefusedError  # what flask_socketio re-exports (its stubs do not)

from exam_core import protocol
from exam_core.errors import InvigilError
from proctor_console.accounts import Accounts
from proctor_console.actions import Actions
from proctor_console.errors import socket_code
from proctor_console.start_queue import QUEUED_ACTIONS, StartQueue
from proctor_console.web.auth import Authenticator, csrf_valid, current_login_id

PROCTORS_ROOM = "proctors"
log = logging.getLogger("proctor_console.proctor_socket")


class ProctorNamespace(Namespace):
    def __init__(self, auth: Authenticator, accounts: Accounts, actions: Actions,
                 snapshot: Callable[[], dict[str, Any]], starts: StartQueue | None = None) -> None:
        super().__init__(protocol.PROCTOR_NAMESPACE)
        self.auth = auth
        self.accounts = accounts
        self.actions = actions
        #: Key-releasing actions wait their turn here (``start_queue``: a "start all" of 500 seats).
        self.starts = starts or StartQueue(gevent_mode=False)
        #: What a dashboard shows when its socket connects (``Dashboard.snapshot``).
        self.snapshot = snapshot
        self.logins: dict[str, str] = {}  # socket id -> id of the login it was opened with

    def on_connect(self, auth: Any = None) -> None:
        user = self.auth.current_user()
        if user is None:
            raise ConnectionRefusedError("not logged in")
        if not isinstance(auth, dict) or not csrf_valid(auth.get("csrf")):
            raise ConnectionRefusedError("missing or wrong CSRF token")
        self.logins[request.sid] = current_login_id() or ""  # type: ignore[attr-defined]
        join_room(PROCTORS_ROOM)
        emit(protocol.PROCTOR_SNAPSHOT, {"user": user.name, "role": user.role, **self.snapshot()})

    def on_disconnect(self, *_: Any) -> None:
        self.logins.pop(request.sid, None)  # type: ignore[attr-defined]

    def on_action(self, data: Any = None) -> dict[str, Any]:
        user = self.auth.current_user()
        if user is None:
            return {"ok": False, "error": "not logged in", "code": "unauthorised"}
        if not isinstance(data, dict) or not csrf_valid(data.get("csrf")):
            return {"ok": False, "error": "missing or wrong CSRF token", "code": "forbidden"}
        job = partial(self.actions.perform, user, {k: v for k, v in data.items() if k != "csrf"})
        try:
            result = self.starts.run(job) if data.get("type") in QUEUED_ACTIONS else job()
        except InvigilError as exc:
            return {"ok": False, "error": str(exc), "code": socket_code(exc)}
        except Exception:  # a console bug: answered, and logged without the call (it holds the CSRF token)
            log.exception("proctor action %r by %s failed", str(data.get("type"))[:40], user.name)
            return {"ok": False, "error": "the console could not do this; it was logged for the administrator",
                    "code": "internal"}
        return {"ok": True, "result": result}

    # --- ending logins ------------------------------------------------------------------------
    def disconnect_logins(self, ended: Iterable[str]) -> int:
        """Disconnect every socket opened with one of the ``ended`` logins; returns how many."""
        ended = set(ended)
        sids = [sid for sid, login in list(self.logins.items()) if login in ended]
        for sid in sids:
            self.logins.pop(sid, None)
            # Flask-SocketIO sets .socketio when the namespace is registered (not in its stubs)
            self.socketio.server.disconnect(sid, namespace=protocol.PROCTOR_NAMESPACE)  # type: ignore[attr-defined]
        return len(sids)

    def drop_closed(self) -> int:
        """Disconnect sockets whose login no longer counts (closed elsewhere, expired, user disabled)."""
        opened = set(self.logins.values())
        return self.disconnect_logins(opened - self.accounts.counting_logins(opened)) if opened else 0
