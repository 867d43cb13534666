"""Console -> kiosk commands: stored, audited, sent, re-sent until acked, applied once.

A command is written (with the proctor's identity, to the command table and the audit chain)
before it is sent. It is re-sent after every ``hello`` of its kiosk and periodically while
pending; the kiosk applies each ``command_id`` once and answers re-deliveries with the same ack.
A browser action carries a ``request_id`` (unique): a double click or a resent socket message
returns the existing command instead of issuing a second one.

The one module that reads or writes the ``commands`` table. It knows no socket: the composition
root hands it ``deliver`` (emit to the kiosk's current connection, with an ack callback), the
attestation gate's ``may_receive_key`` and the dashboard's ``acked``. Built without them (a CLI or
sync process, which has no kiosk connection) it only reads, and what it would issue stays pending
until the server sends it.
"""

from __future__ import annotations

import json
from typing import Any
from collections.abc import Callable

import sqlite_utils

from exam_core import protocol
from exam_core.audit import AuditLog
from exam_core.errors import ValidationError
from exam_core.store import immediate_transaction
from exam_core.timestamps import utc_text_us
from proctor_console.attempts import Attempts

#: Commands that carry a content key: held back while the kiosk fails release attestation.
KEY_RELEASE_COMMANDS = ("start", "resume_approved")
COMMAND_KEYS = ("command_id", "kiosk_id", "attempt_id", "type", "issued_by", "issued_at", "status", "acked_at")

#: ``deliver(kiosk_id, command body, on_ack)``: False when the kiosk is not connected now.
Deliver = Callable[[str, dict[str, Any], Callable[..., None]], bool]


class CommandCenter:
    def __init__(self, db: sqlite_utils.Database, audit: AuditLog, attempts: Attempts, deliver: Deliver | None = None,
                 may_receive_key: Callable[[str], bool] = lambda _: False,
                 acked: Callable[[str, dict[str, Any], protocol.CommandAck], None] = lambda *_: None) -> None:
        self.db = db
        self.audit = audit
        self.attempts = attempts
        self.deliver = deliver
        self.may_receive_key = may_receive_key
        #: Told each command a kiosk answered (the dashboard shows it).
        self.acked = acked

    def issue(self, kiosk_id: str, attempt_id: str | None, kind: str, args: Any, issued_by: str,
              request_id: str | None = None, audit_data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Store, audit and send one command; returns its row (existing one for a repeated request)."""
        repeated = self.repeated(request_id, kind, kiosk_id)
        if repeated is not None:
            return repeated
        command = protocol.Command(command_id=protocol.new_command_id(), type=kind, issued=utc_text_us(),
                                   attempt_id=attempt_id, args=args, issued_by=issued_by)
        body = command.to_dict()
        protocol.Command.from_dict(body)  # the console never sends what a kiosk would refuse
        with immediate_transaction(self.db) as conn:
            conn.execute("INSERT INTO commands (command_id, request_id, kiosk_id, attempt_id, type, body,"
                         " issued_by, issued_at) VALUES (?,?,?,?,?,?,?,?)",
                         [command.command_id, request_id, kiosk_id, attempt_id, kind, json.dumps(body),
                          issued_by, command.issued])
        self.audit.append(issued_by, f"command.{kind}", {
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
        row = self.db.execute(f"SELECT {', '.join(COMMAND_KEYS)} FROM commands WHERE command_id = ?",  # noqa: S608 - constant column names and ? marks, values bound
                              [command_id]).fetchone()
        return dict(zip(COMMAND_KEYS, row))

    def send(self, command_id: str) -> bool:
        """Emit to the kiosk if it is connected; False when it must wait for the next hello.

        A pending key release is held back while the kiosk fails release attestation: a ``start``
        issued to an acceptable kiosk must not reach it after it reconnects running other code."""
        row = self.db.execute("SELECT kiosk_id, body, status, type FROM commands WHERE command_id = ?",
                              [command_id]).fetchone()
        if row is None or row[2] != "pending" or self.deliver is None:
            return False
        if row[3] in KEY_RELEASE_COMMANDS and not self.may_receive_key(row[0]):
            return False
        return self.deliver(row[0], json.loads(row[1]), self._ack_handler(command_id))

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
                         [status, utc_text_us(), json.dumps(parsed.to_dict()), command_id])
            if parsed.ok and attempt_id:
                self.attempts.apply_command(conn, kind, attempt_id)
        self.audit.append(f"kiosk:{kiosk_id}", f"command.{status}",
                          {"command_id": command_id, "type": kind, "state": parsed.state, "error": parsed.error})
        self.acked(kiosk_id, self.get(command_id), parsed)

    # --- records ------------------------------------------------------------------------------
    def for_attempts(self, attempt_ids: list[str]) -> list[dict[str, Any]]:
        """issued_at, issued_by, type, kiosk_id, attempt_id, status, acked_at and the command's args,
        in the order issued (a session report, a kiosk's timeline)."""
        keys = ("issued_at", "issued_by", "type", "kiosk_id", "attempt_id", "status", "acked_at")
        marks = ",".join("?" for _ in attempt_ids) or "NULL"
        rows = self.db.execute(f"SELECT {', '.join(keys)}, body FROM commands WHERE attempt_id IN ({marks})"  # noqa: S608 - constant column names and ? marks, values bound
                               " ORDER BY issued_at, rowid", attempt_ids).fetchall()
        return [{**dict(zip(keys, r)), "args": json.loads(r[-1])["args"]} for r in rows]

    def issuers(self, attempt_id: str) -> set[str]:
        """Everyone who issued a command for the attempt (its proctors, for integrity review)."""
        return {r[0] for r in self.db.execute("SELECT DISTINCT issued_by FROM commands WHERE attempt_id = ?",
                                              [attempt_id])}
