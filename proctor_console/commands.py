"""Console -> kiosk commands: stored, audited, sent, re-sent until acked, applied once.

A command is written (with the proctor's identity, to the command table and the audit chain)
before it is sent. It is re-sent after every ``hello`` of its kiosk and periodically while
pending; the kiosk applies each ``command_id`` once and answers re-deliveries with the same ack.
A browser action carries a ``request_id`` (unique): a double click or a resent socket message
returns the existing command instead of issuing a second one.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable

from exam_core import protocol
from exam_core.errors import ValidationError
from exam_core.store import immediate_transaction
from proctor_console.attestation_policy import KEY_RELEASE_COMMANDS
from proctor_console.context import now_text

if TYPE_CHECKING:
    from proctor_console.server import ConsoleServer

#: What an acked command does to the attempt's state on the console side.
STATE_AFTER = {"admit": "admitted", "start": "in_progress", "pause": "paused", "resume": "in_progress",
               "resume_approved": "in_progress", "end": "ended"}


class CommandCenter:
    def __init__(self, server: ConsoleServer) -> None:
        self.server = server
        self.db = server.ctx.db

    def issue(self, kiosk_id: str, attempt_id: str | None, kind: str, args: Any, issued_by: str,
              request_id: str | None = None, audit_data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Store, audit and send one command; returns its row (existing one for a repeated request)."""
        repeated = self.repeated(request_id, kind, kiosk_id)
        if repeated is not None:
            return repeated
        command = protocol.Command(command_id=protocol.new_command_id(), type=kind, issued=now_text(),
                                   attempt_id=attempt_id, args=args, issued_by=issued_by)
        body = command.to_dict()
        protocol.Command.from_dict(body)  # the console never sends what a kiosk would refuse
        with immediate_transaction(self.db) as conn:
            conn.execute("INSERT INTO commands (command_id, request_id, kiosk_id, attempt_id, type, body,"
                         " issued_by, issued_at) VALUES (?,?,?,?,?,?,?,?)",
                         [command.command_id, request_id, kiosk_id, attempt_id, kind, json.dumps(body),
                          issued_by, command.issued])
        self.server.ctx.audit.append(issued_by, f"command.{kind}", {
            "command_id": command.command_id, "kiosk_id": kiosk_id, "attempt_id": attempt_id,
            **(audit_data or {})})
        self.send(command.command_id)
        return self.get(command.command_id)

    def repeated(self, request_id: str | None, kind: str, kiosk_id: str | None) -> dict[str, Any] | None:
        """The command an earlier identical request issued, if any.

        A browser or client that lost the reply asks again with the same request_id; the answer must
        be the first command, even though the attempt's state has moved on since (a start already
        acked would otherwise be refused as "no attempt in state admitted").
        """
        if request_id is None:
            return None
        row = self.db.execute("SELECT command_id, type, kiosk_id FROM commands WHERE request_id = ?",
                              [request_id]).fetchone()
        if row is None:
            return None
        if row[1] != kind or (kiosk_id is not None and row[2] != kiosk_id):
            raise ValidationError("request_id", "was already used for another action")
        return self.get(row[0])

    def get(self, command_id: str) -> dict[str, Any]:
        row = self.db.execute("SELECT command_id, kiosk_id, attempt_id, type, issued_by, issued_at, status,"
                              " acked_at FROM commands WHERE command_id = ?", [command_id]).fetchone()
        keys = ("command_id", "kiosk_id", "attempt_id", "type", "issued_by", "issued_at", "status", "acked_at")
        return dict(zip(keys, row))

    def send(self, command_id: str) -> bool:
        """Emit to the kiosk if it is connected; False when it must wait for the next hello.

        A pending key release is held back while the kiosk fails release attestation: a ``start``
        issued to an acceptable kiosk must not reach it after it reconnects running other code."""
        row = self.db.execute("SELECT kiosk_id, body, status, type FROM commands WHERE command_id = ?",
                              [command_id]).fetchone()
        if row is None or row[2] != "pending":
            return False
        if row[3] in KEY_RELEASE_COMMANDS and not self.server.attestation.may_receive_key(row[0]):
            return False
        sid = self.server.room.kiosk_sids.get(row[0])
        if sid is None:
            return False
        self.server.socketio.emit(protocol.COMMAND, json.loads(row[1]), to=sid,
                                  namespace=protocol.KIOSK_NAMESPACE, callback=self._ack_handler(command_id))
        return True

    def resend_pending(self, kiosk_id: str) -> int:
        rows = self.db.execute("SELECT command_id FROM commands WHERE kiosk_id = ? AND status = 'pending'"
                               " ORDER BY issued_at, rowid", [kiosk_id]).fetchall()
        return sum(self.send(r[0]) for r in rows)

    def _ack_handler(self, command_id: str) -> Callable[..., None]:
        def handle(ack: Any = None, *_: Any) -> None:
            self.on_ack(command_id, ack)
        return handle

    def on_ack(self, command_id: str, ack: Any) -> None:
        try:
            parsed = protocol.CommandAck.from_dict(ack)
        except ValidationError:
            return  # stays pending; re-sent later
        if parsed.command_id != command_id:
            return
        row = self.db.execute("SELECT kiosk_id, attempt_id, type, status FROM commands WHERE command_id = ?",
                              [command_id]).fetchone()
        if row is None or row[3] != "pending":
            return
        kiosk_id, attempt_id, kind, _ = row
        status = "acked" if parsed.ok else "failed"
        with immediate_transaction(self.db) as conn:
            conn.execute("UPDATE commands SET status = ?, acked_at = ?, ack = ? WHERE command_id = ?",
                         [status, now_text(), json.dumps(parsed.to_dict()), command_id])
            if parsed.ok and attempt_id:
                self._apply_to_attempt(conn, kind, attempt_id)
        self.server.ctx.audit.append(f"kiosk:{kiosk_id}", f"command.{status}",
                                     {"command_id": command_id, "type": kind, "state": parsed.state,
                                      "error": parsed.error})
        self.server.after_command(kiosk_id, self.get(command_id), parsed)

    @staticmethod
    def _apply_to_attempt(conn: Any, kind: str, attempt_id: str) -> None:
        now = now_text()
        if kind in STATE_AFTER:
            conn.execute("UPDATE attempts SET state = ? WHERE attempt_id = ?", [STATE_AFTER[kind], attempt_id])
        if kind == "start":
            conn.execute("UPDATE attempts SET started_at = COALESCE(started_at, ?) WHERE attempt_id = ?",
                         [now, attempt_id])
        if kind == "end":
            conn.execute("UPDATE attempts SET ended_at = COALESCE(ended_at, ?) WHERE attempt_id = ?",
                         [now, attempt_id])
