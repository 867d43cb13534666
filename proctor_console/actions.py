"""Proctor actions: validated, role- and conflict-checked, turned into commands or records.

Every action arrives as one dict (from the ``/proctor`` socket or a form), names the acting user
(from the login session, never from the payload) and is refused with a ``ConsoleError`` saying
why. Actions on a candidate are refused to a proctor who declared a conflict of interest with
that candidate, unless a centre admin has overridden the declaration with a reason.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from exam_core import package as form_package
from exam_core import protocol
from exam_core.errors import InvigilError, ReleaseCodeError, ValidationError
from exam_core.jsonio import b64e, parse_time, utc_now
from exam_core.model import Accommodations, Attempt
from exam_core.store import immediate_transaction
from proctor_console.context import ConsoleError, now_text
from proctor_console.imports import load_package

if TYPE_CHECKING:
    from proctor_console.server import ConsoleServer

ACTIVE_STATES = ("waiting", "admitted", "agreement", "instructions", "in_progress", "paused")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
INCIDENT_CATEGORIES = ("identity", "misconduct", "technical", "environment", "health", "other")

# Dashboard actions that issue exactly one kiosk command, by the command type they issue: a repeated
# request_id answers with that command instead of being judged again against the attempt's new state.
COMMAND_ACTIONS = {"admit": "admit", "start": "start", "pause": "pause", "resume": "resume",
                   "extend": "extend", "end": "end", "message": "message",
                   "approve_resume": "resume_approved"}


@dataclass(frozen=True)
class User:
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "centre_admin"


def _text(data: dict, name: str, *, required: bool = True, max_len: int = 1000) -> str:
    value = data.get(name, "")
    if not isinstance(value, str) or len(value) > max_len:
        raise ValidationError(name, f"must be text of at most {max_len} characters")
    value = value.strip()
    if required and not value:
        raise ValidationError(name, "is required")
    return value


def _ident(data: dict, name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not protocol.IDENTIFIER_RE.match(value):
        raise ValidationError(name, "must be an identifier")
    return value


class Actions:
    def __init__(self, server: ConsoleServer) -> None:
        self.server = server
        self.ctx = server.ctx
        self.db = server.ctx.db
        #: Release codes entered this run, by package id: kept in memory only, never written.
        self.release_codes: dict[str, str] = {}
        self.handlers: dict[str, Callable[[User, dict], dict[str, Any]]] = {
            "admit": self.admit, "start": self.start, "pause": self.pause, "resume": self.resume,
            "extend": self.extend, "end": self.end, "message": self.message,
            "approve_resume": self.approve_resume, "mass_pause": self.mass_pause,
            "alert_ack": self.alert_resolve, "alert_dismiss": self.alert_resolve,
            "incident": self.incident, "release_code": self.release_code,
            "declare_conflict": self.declare_conflict, "override_conflict": self.override_conflict,
        }

    def perform(self, user: User, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise ValidationError("<action>", "must be an object")
        kind = data.get("type")
        if kind not in self.handlers:
            raise ValidationError("type", f"unknown action {kind!r}")
        request_id = data.get("request_id")
        if request_id is not None and (not isinstance(request_id, str) or not REQUEST_ID_RE.match(request_id)):
            raise ValidationError("request_id", "must be 8-64 of [A-Za-z0-9_-]")
        if kind in COMMAND_ACTIONS:
            kiosk_id = data.get("kiosk_id") if isinstance(data.get("kiosk_id"), str) else None
            repeated = self.server.commands.repeated(request_id, COMMAND_ACTIONS[kind], kiosk_id)
            if repeated is not None:
                return repeated
        if kind == "alert_dismiss":
            data = {**data, "status": "dismissed"}
        elif kind == "alert_ack":
            data = {**data, "status": "acknowledged"}
        return self.handlers[kind](user, data)

    # --- helpers ------------------------------------------------------------------------------
    def _attempt_on(self, kiosk_id: str, states: tuple[str, ...] = ACTIVE_STATES) -> dict[str, Any]:
        placeholders = ",".join("?" for _ in states)
        row = self.db.execute(
            f"SELECT attempt_id, candidate_id, package_id, state, body FROM attempts WHERE kiosk_id = ?"
            f" AND state IN ({placeholders}) ORDER BY admitted_at DESC LIMIT 1", [kiosk_id, *states]).fetchone()
        if row is None:
            raise ConsoleError(f"kiosk {kiosk_id} has no attempt in state {'/'.join(states)}")
        return dict(zip(("attempt_id", "candidate_id", "package_id", "state", "body"), row))

    def check_conflict(self, user: User, candidate_id: str) -> None:
        row = self.db.execute("SELECT override_by FROM conflicts WHERE proctor = ? AND candidate_id = ?",
                              [user.name, candidate_id]).fetchone()
        if row is not None and row[0] is None:
            raise ConsoleError(f"{user.name} declared a conflict of interest with candidate {candidate_id}; "
                               "another proctor must act, or a centre admin must override it")

    def _command(self, user: User, data: dict, kind: str, args: Any, states: tuple[str, ...] = ACTIVE_STATES,
                 audit: dict[str, Any] | None = None) -> dict[str, Any]:
        kiosk_id = _ident(data, "kiosk_id")
        attempt = self._attempt_on(kiosk_id, states)
        self.check_conflict(user, attempt["candidate_id"])
        return self.server.commands.issue(kiosk_id, attempt["attempt_id"], kind, args, user.name,
                                          data.get("request_id"), audit)

    # --- session control ----------------------------------------------------------------------
    def admit(self, user: User, data: dict) -> dict[str, Any]:
        kiosk_id, candidate_id, package_id = _ident(data, "kiosk_id"), _ident(data, "candidate_id"), _ident(data, "package_id")
        if data.get("identity_checked") is not True:
            raise ValidationError("identity_checked", "confirm that you checked the candidate's identity document")
        self.check_conflict(user, candidate_id)
        kiosk = self.server.registry.active(kiosk_id)
        busy = self.db.execute(f"SELECT attempt_id FROM attempts WHERE kiosk_id = ? AND state IN "
                               f"({','.join('?' for _ in ACTIVE_STATES)})", [kiosk_id, *ACTIVE_STATES]).fetchone()
        if busy:
            raise ConsoleError(f"kiosk {kiosk_id} already holds attempt {busy[0]}")
        candidate = self.db.execute("SELECT name, scheme_id, seat, accommodations FROM candidates WHERE candidate_id = ?",
                                    [candidate_id]).fetchone()
        if candidate is None:
            raise ConsoleError(f"candidate {candidate_id} is not on the roster")
        taken = self.db.execute(f"SELECT kiosk_id FROM attempts WHERE candidate_id = ? AND package_id = ? AND state IN "
                                f"({','.join('?' for _ in ACTIVE_STATES)})",
                                [candidate_id, package_id, *ACTIVE_STATES]).fetchone()
        if taken:
            raise ConsoleError(f"candidate {candidate_id} is already admitted on kiosk {taken[0]}")
        package, stored = load_package(self.ctx, package_id)
        manifest = package.manifest
        if manifest.scheme_id != candidate[1]:
            raise ConsoleError(f"candidate {candidate_id} is registered for {candidate[1]}, package is {manifest.scheme_id}")
        if parse_time(manifest.closes, "closes") <= utc_now():
            raise ConsoleError(f"package {package_id} closed at {manifest.closes}")
        accommodations = Accommodations.from_dict(json.loads(candidate[3]))
        duration = manifest.duration_seconds * (100 + accommodations.extra_time_percent) // 100
        attempt = Attempt(attempt_id=f"att-{secrets.token_hex(8)}", candidate_id=candidate_id,
                          form_id=manifest.form_id, form_version=manifest.form_version, package_id=package_id,
                          centre_id=self.ctx.centre_id, kiosk_id=kiosk.kiosk_id,
                          option_seed=secrets.randbelow(2**63), state="admitted", candidate_name=candidate[0],
                          seat=candidate[2], accommodations=accommodations, duration_seconds=duration)
        with immediate_transaction(self.db) as conn:
            conn.execute("INSERT INTO attempts (attempt_id, candidate_id, kiosk_id, package_id, state, body, admitted_by,"
                         " admitted_at) VALUES (?,?,?,?,?,?,?,?)",
                         [attempt.attempt_id, candidate_id, kiosk_id, package_id, "admitted",
                          json.dumps(attempt.to_dict()), user.name, now_text()])
        args = protocol.AdmitArgs(attempt=attempt, package_sha256=stored["sha256"], package_size=stored["size"],
                                  identity_checked_by=user.name)
        result = self.server.commands.issue(kiosk_id, attempt.attempt_id, "admit", args, user.name, data.get("request_id"),
                                            {"candidate_id": candidate_id, "package_id": package_id,
                                             "identity_checked": True})
        self.server.refresh_tile(kiosk_id)
        return result

    def _release(self, user: User, kiosk_id: str, attempt: dict[str, Any]) -> protocol.KeyReleaseArgs:
        """Unwrap the content key (window, centre key, release code) and wrap it to this kiosk,
        only if the kiosk passed release attestation on its current connection (when enforced)."""
        kiosk = self.server.registry.active(kiosk_id)
        try:
            self.server.attestation.require(kiosk_id)
        except ConsoleError as exc:
            self.ctx.audit.append(user.name, "key.release_refused", {"kiosk_id": kiosk_id,
                                                                     "attempt_id": attempt["attempt_id"],
                                                                     "reason": str(exc)})
            raise
        package, stored = load_package(self.ctx, attempt["package_id"])
        try:
            content_key = form_package.unwrap_content_key(package, self.ctx.hpke_key,
                                                          self.release_codes.get(package.package_id))
        except ReleaseCodeError as exc:
            raise ConsoleError(f"{exc}: a centre admin enters it on the Packages page") from None
        except InvigilError as exc:
            self.ctx.audit.append(user.name, "key.release_refused", {"kiosk_id": kiosk_id,
                                                                     "attempt_id": attempt["attempt_id"],
                                                                     "reason": str(exc)})
            raise ConsoleError(f"key release refused: {exc}") from None
        wrapped = form_package.wrap_key_for_kiosk(content_key, kiosk.hpke_public, package.package_id,
                                                  attempt["attempt_id"])
        self.ctx.audit.append(user.name, "key.release", {"kiosk_id": kiosk_id, "attempt_id": attempt["attempt_id"],
                                                         "package_id": package.package_id,
                                                         "kiosk_cert_serial": kiosk.serial})
        return protocol.KeyReleaseArgs(package_id=package.package_id, package_sha256=stored["sha256"],
                                       wrapped_key=b64e(wrapped))

    def start(self, user: User, data: dict) -> dict[str, Any]:
        kiosk_id = _ident(data, "kiosk_id")
        attempt = self._attempt_on(kiosk_id, ("admitted", "agreement", "instructions", "waiting"))
        self.check_conflict(user, attempt["candidate_id"])
        args = self._release(user, kiosk_id, attempt)
        return self.server.commands.issue(kiosk_id, attempt["attempt_id"], "start", args, user.name,
                                          data.get("request_id"))

    def approve_resume(self, user: User, data: dict) -> dict[str, Any]:
        kiosk_id = _ident(data, "kiosk_id")
        attempt = self._attempt_on(kiosk_id, ("in_progress", "paused"))
        self.check_conflict(user, attempt["candidate_id"])
        args = self._release(user, kiosk_id, attempt)
        result = self.server.commands.issue(kiosk_id, attempt["attempt_id"], "resume_approved", args, user.name,
                                            data.get("request_id"))
        self.server.room.tile(kiosk_id).needs_resume_approval = False
        return result

    def pause(self, user: User, data: dict) -> dict[str, Any]:
        reason = _text(data, "reason", required=False)
        return self._command(user, data, "pause", protocol.ReasonArgs(reason), ("in_progress",), {"reason": reason})

    def resume(self, user: User, data: dict) -> dict[str, Any]:
        return self._command(user, data, "resume", protocol.NoArgs(), ("paused",))

    def extend(self, user: User, data: dict) -> dict[str, Any]:
        minutes = data.get("minutes")
        if isinstance(minutes, str) and minutes.strip().isdigit():
            minutes = int(minutes)
        if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 240:
            raise ValidationError("minutes", "must be a whole number of minutes, 1 to 240")
        reason = _text(data, "reason")
        result = self._command(user, data, "extend", protocol.ExtendArgs(minutes * 60, reason),
                               ("admitted", "in_progress", "paused"), {"seconds": minutes * 60, "reason": reason})
        with immediate_transaction(self.db) as conn:
            conn.execute("UPDATE attempts SET extra_seconds = extra_seconds + ? WHERE attempt_id = ?",
                         [minutes * 60, result["attempt_id"]])
        return result

    def end(self, user: User, data: dict) -> dict[str, Any]:
        reason = _text(data, "reason")
        result = self._command(user, data, "end", protocol.RequiredReasonArgs(reason), ACTIVE_STATES, {"reason": reason})
        with immediate_transaction(self.db) as conn:
            conn.execute("UPDATE attempts SET end_reason = ? WHERE attempt_id = ?", [reason, result["attempt_id"]])
        return result

    def message(self, user: User, data: dict) -> dict[str, Any]:
        text = _text(data, "text")
        return self._command(user, data, "message", protocol.MessageArgs(text), ACTIVE_STATES, {"length": len(text)})

    def mass_pause(self, user: User, data: dict) -> dict[str, Any]:
        """Pause every attempt in progress (an emergency: fire alarm, power). Conflicts do not
        apply: pausing everyone favours no one."""
        reason = _text(data, "reason")
        rows = self.db.execute("SELECT kiosk_id, attempt_id FROM attempts WHERE state = 'in_progress'").fetchall()
        base = data.get("request_id")
        issued = [self.server.commands.issue(k, a, "pause", protocol.ReasonArgs(reason), user.name,
                                             f"{base}-{k}"[:64] if base else None, {"reason": reason, "mass": True})
                  for k, a in rows]
        self.ctx.audit.append(user.name, "session.mass_pause", {"reason": reason, "kiosks": [r[0] for r in rows]})
        return {"paused": len(issued), "commands": [c["command_id"] for c in issued]}

    # --- alerts, incidents, impartiality ------------------------------------------------------
    def alert_resolve(self, user: User, data: dict) -> dict[str, Any]:
        alert_id = data.get("alert_id")
        if not isinstance(alert_id, int) or isinstance(alert_id, bool):
            raise ValidationError("alert_id", "must be an integer")
        reason = _text(data, "reason")
        with immediate_transaction(self.db) as conn:
            cur = conn.execute("UPDATE alerts SET status = ?, resolved_by = ?, resolved_reason = ?, resolved_at = ?"
                               " WHERE alert_id = ? AND status = 'open'",
                               [data["status"], user.name, reason, now_text(), alert_id])
        if cur.rowcount == 0:
            raise ConsoleError(f"alert {alert_id} is not open")
        self.ctx.audit.append(user.name, f"alert.{data['status']}", {"alert_id": alert_id, "reason": reason})
        self.server.push_alert(alert_id)
        return {"alert_id": alert_id, "status": data["status"]}

    def incident(self, user: User, data: dict) -> dict[str, Any]:
        category = data.get("category")
        if category not in INCIDENT_CATEGORIES:
            raise ValidationError("category", f"must be one of {', '.join(INCIDENT_CATEGORIES)}")
        text = _text(data, "text", max_len=10_000)
        kiosk_id = data.get("kiosk_id") or None
        attempt_id = package_id = None
        if kiosk_id is not None:
            kiosk_id = _ident(data, "kiosk_id")
            row = self.db.execute("SELECT attempt_id, package_id FROM attempts WHERE kiosk_id = ?"
                                  " ORDER BY admitted_at DESC LIMIT 1", [kiosk_id]).fetchone()
            attempt_id, package_id = row if row else (None, None)
        if data.get("package_id"):
            package_id = _ident(data, "package_id")
        with immediate_transaction(self.db) as conn:
            cur = conn.execute("INSERT INTO incidents (package_id, attempt_id, kiosk_id, category, text, author, created)"
                               " VALUES (?,?,?,?,?,?,?)", [package_id, attempt_id, kiosk_id, category, text,
                                                           user.name, now_text()])
        self.ctx.audit.append(user.name, "incident.report", {"incident_id": cur.lastrowid, "category": category,
                                                             "kiosk_id": kiosk_id, "attempt_id": attempt_id})
        return {"incident_id": cur.lastrowid}

    def release_code(self, user: User, data: dict) -> dict[str, Any]:
        if not user.is_admin:
            raise ConsoleError("only a centre admin enters release codes")
        package_id = _ident(data, "package_id")
        code = _text(data, "code", max_len=40)
        package, _ = load_package(self.ctx, package_id)
        try:
            form_package.unwrap_content_key(package, self.ctx.hpke_key, code)
        except InvigilError as exc:
            self.ctx.audit.append(user.name, "package.release_code_refused", {"package_id": package_id,
                                                                              "reason": type(exc).__name__})
            raise ConsoleError(f"release code refused: {exc}") from None
        self.release_codes[package_id] = code
        self.ctx.audit.append(user.name, "package.release_code", {"package_id": package_id})
        return {"package_id": package_id, "accepted": True}

    def declare_conflict(self, user: User, data: dict) -> dict[str, Any]:
        candidate_id = _ident(data, "candidate_id")
        reason = _text(data, "reason")
        with immediate_transaction(self.db) as conn:
            conn.execute("INSERT OR REPLACE INTO conflicts (proctor, candidate_id, reason, declared_at) VALUES (?,?,?,?)",
                         [user.name, candidate_id, reason, now_text()])
        self.ctx.audit.append(user.name, "conflict.declare", {"candidate_id": candidate_id, "reason": reason})
        return {"candidate_id": candidate_id, "declared": True}

    def override_conflict(self, user: User, data: dict) -> dict[str, Any]:
        if not user.is_admin:
            raise ConsoleError("only a centre admin can override a conflict of interest")
        proctor, candidate_id = _text(data, "proctor", max_len=100), _ident(data, "candidate_id")
        reason = _text(data, "reason")
        with immediate_transaction(self.db) as conn:
            cur = conn.execute("UPDATE conflicts SET override_by = ?, override_reason = ?, override_at = ?"
                               " WHERE proctor = ? AND candidate_id = ?",
                               [user.name, reason, now_text(), proctor, candidate_id])
        if cur.rowcount == 0:
            raise ConsoleError(f"{proctor} declared no conflict with {candidate_id}")
        self.ctx.audit.append(user.name, "conflict.override", {"proctor": proctor, "candidate_id": candidate_id,
                                                               "reason": reason})
        return {"proctor": proctor, "candidate_id": candidate_id, "overridden": True}
