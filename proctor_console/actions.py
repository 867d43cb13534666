"""Proctor actions: validated, role- and conflict-checked, turned into commands or records.

Every action arrives as one dict (from the ``/proctor`` socket or a form), names the acting user
(from the login session, never from the payload) and is refused with a ``ConsoleError`` of the
kind that fits (``proctor_console.errors``). Actions on a candidate are refused to a proctor who
declared a conflict of interest with that candidate, unless a centre admin has overridden the
declaration with a reason: commands to their kiosk, and also acknowledging or dismissing their
alerts and reporting an incident about their attempt (a proctor could otherwise clear the record
of the candidate they declared a conflict with). The records each action touches belong to their
own modules (attempts, commands, alerts, incidents, conflicts, key release), which also write the
audit entries.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from collections.abc import Callable

from exam_core import protocol
from exam_core.audit import AuditLog
from exam_core.errors import ValidationError
from exam_core.model import IDENTIFIER_RE, AccommodationPolicy, Attempt, allowed_seconds
from exam_core.timestamps import parse_time, utc_now
from proctor_console.accounts import User
from proctor_console.alerts import Alerts
from proctor_console.attempts import Attempts
from proctor_console.commands import CommandCenter
from proctor_console.conflicts import Conflicts
from proctor_console.dashboard import Dashboard
from proctor_console.errors import Conflict, NotFound
from proctor_console.incidents import INCIDENT_CATEGORIES, Incidents
from proctor_console.key_release import KeyRelease
from proctor_console.packages import Packages
from proctor_console.readmissions import Grant, Readmissions
from proctor_console.registry import KioskRegistry
from proctor_console.roster import Candidate, Roster, policy_refusals
from proctor_console.signed_roster import SignedRosters
from proctor_console.seat_actions import fits, refusal, seat_state

REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")

# Dashboard actions that issue exactly one kiosk command, by the command type they issue: a repeated
# request_id answers with that command instead of being judged again against the attempt's new state.
COMMAND_ACTIONS = {"admit": "admit", "start": "start", "pause": "pause", "resume": "resume",
                   "extend": "extend", "end": "end", "message": "message",
                   "approve_resume": "resume_approved", "cancel_admission": "cancel_admission"}
#: The dashboard action behind each command type (``seat_actions.FITS`` is keyed on actions).
ACTION_OF_COMMAND = {command: action for action, command in COMMAND_ACTIONS.items()}
ALERT_RESOLUTIONS = {"alert_ack": "acknowledged", "alert_dismiss": "dismissed"}
#: The largest row id SQLite stores (an alert id beyond it names no alert; SQLite would raise).
MAX_ROW_ID = 2**63 - 1

Handler = Callable[[User, dict[str, Any]], dict[str, Any]]


def _text(data: dict[str, Any], name: str, *, required: bool = True, max_len: int = 1000) -> str:
    value = data.get(name, "")
    if not isinstance(value, str) or len(value) > max_len:
        raise ValidationError(name, f"must be text of at most {max_len} characters")
    value = value.strip()
    if required and not value:
        raise ValidationError(name, "is required")
    return value


def _ident(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not IDENTIFIER_RE.match(value):
        raise ValidationError(name, "must be an identifier")
    return value


def _check_accommodations(candidate: Candidate, policies: dict[str, list[tuple[str, AccommodationPolicy]]]) -> None:
    """The final gate: refuse what the candidate's scheme does not allow, by the policy signed in
    any package of the scheme held here (the one sat among them). Only when no package of the
    scheme carries one (all made before the policy travelled) are the grants let through unchecked."""
    reasons = policy_refusals(candidate.scheme_id, candidate.accommodations, policies)
    if reasons:
        raise Conflict(f"candidate {candidate.candidate_id}: accommodations the scheme does not allow: "
                       f"{'; '.join(reasons)}; correct the roster row and import it again")


class Actions:
    def __init__(self, *, centre_id: str, audit: AuditLog, attempts: Attempts, roster: Roster, packages: Packages,
                 registry: KioskRegistry, commands: CommandCenter, keys: KeyRelease, conflicts: Conflicts,
                 alerts: Alerts, incidents: Incidents, dashboard: Dashboard, readmissions: Readmissions,
                 signed: SignedRosters | None = None) -> None:
        self.centre_id = centre_id
        self.audit = audit
        self.attempts = attempts
        self.roster = roster
        self.packages = packages
        self.registry = registry
        self.commands = commands
        self.keys = keys
        self.conflicts = conflicts
        self.alerts = alerts
        self.incidents = incidents
        self.dashboard = dashboard
        self.readmissions = readmissions
        #: The signed session rosters: a candidate booked for a session sits only its forms.
        self.signed = signed
        self.handlers: dict[str, Handler] = {
            "admit": self.admit, "start": self.start, "pause": self.pause, "resume": self.resume,
            "extend": self.extend, "end": self.end, "message": self.message,
            "approve_resume": self.approve_resume, "mass_pause": self.mass_pause,
            "cancel_admission": self.cancel_admission,
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
            repeated = self.commands.repeated(request_id, COMMAND_ACTIONS[kind], kiosk_id)
            if repeated is not None:
                return repeated
        return self.handlers[kind](user, data)

    # --- helpers ------------------------------------------------------------------------------
    def _seat(self, kiosk_id: str) -> tuple[str, dict[str, Any] | None]:
        """The kiosk's seat state (``seat_actions.seat_state``) and the attempt that holds it, if any."""
        attempt = self.attempts.active_on(kiosk_id)
        if attempt is None:
            return "free", None
        return seat_state(attempt["state"], self.dashboard.reported_state(kiosk_id, attempt["attempt_id"]),
                          self.dashboard.restart_waiting(kiosk_id)), attempt

    def _fitting_attempt(self, kiosk_id: str, action: str) -> dict[str, Any]:
        """The kiosk's attempt, when ``action`` fits its seat state (``seat_actions.FITS``); refused
        with a plain message naming the seat, the candidate and what fits now otherwise."""
        state, attempt = self._seat(kiosk_id)
        if not fits(action, state) or attempt is None:  # every action but admit needs an attempt
            raise Conflict(refusal(action, state, self._who(kiosk_id, attempt)))
        return attempt

    def _who(self, kiosk_id: str, attempt: dict[str, Any] | None) -> str:
        """``seat A2 (Alan Turing, cand-2)`` for a seat with a candidate, ``kiosk kiosk-07`` without."""
        about = self._about(attempt)
        if about["candidate_id"] is None:
            return f"kiosk {kiosk_id}"
        where = f"seat {about['seat']}" if about["seat"] else f"kiosk {kiosk_id}"
        name = about["candidate_name"]
        return f"{where} ({name + ', ' if name else ''}{about['candidate_id']})"

    def _command(self, user: User, data: dict[str, Any], kind: str, args: Any,
                 audit: dict[str, Any] | None = None) -> dict[str, Any]:
        kiosk_id = _ident(data, "kiosk_id")
        attempt = self._fitting_attempt(kiosk_id, ACTION_OF_COMMAND[kind])
        self.conflicts.check(user.name, attempt["candidate_id"])
        return self.commands.issue(kiosk_id, attempt["attempt_id"], kind, args, user.name,
                                   data.get("request_id"), audit)

    def _released(self, user: User, data: dict[str, Any], kind: str) -> dict[str, Any]:
        """A command that carries the content key to the kiosk (start, approve a resume)."""
        kiosk_id = _ident(data, "kiosk_id")
        attempt = self._fitting_attempt(kiosk_id, ACTION_OF_COMMAND[kind])
        self.conflicts.check(user.name, attempt["candidate_id"])
        args = self.keys.release(user.name, kiosk_id, attempt["attempt_id"], attempt["package_id"])
        return self.commands.issue(kiosk_id, attempt["attempt_id"], kind, args, user.name, data.get("request_id"))

    # --- session control ----------------------------------------------------------------------
    def admit(self, user: User, data: dict[str, Any]) -> dict[str, Any]:
        kiosk_id, candidate_id = _ident(data, "kiosk_id"), _ident(data, "candidate_id")
        package_id = _ident(data, "package_id")
        if data.get("identity_checked") is not True:
            raise ValidationError("identity_checked", "confirm that you checked the candidate's identity document")
        self.conflicts.check(user.name, candidate_id)
        kiosk = self.registry.active(kiosk_id)
        state, busy = self._seat(kiosk_id)
        if busy is not None:
            raise Conflict(refusal("admit", state, self._who(kiosk_id, busy))
                           + f" The kiosk still holds attempt {busy['attempt_id']}.")
        grant = self._readmission(candidate_id)
        attempt, stored = self._new_attempt(candidate_id, package_id, kiosk.kiosk_id)
        late = self.signed.check_window(candidate_id) if self.signed is not None else None
        self.attempts.create(attempt, user.name)
        audit: dict[str, Any] = {"candidate_id": candidate_id, "package_id": package_id, "identity_checked": True}
        if grant is not None:
            self.readmissions.use(grant, attempt.attempt_id, user.name)
            audit["readmission"] = {"grant_id": grant.grant_id, "allowed_by": grant.granted_by, "reason": grant.reason}
        if late is not None and self.signed is not None:
            self.signed.use_window_grant(late, attempt.attempt_id)
            audit["outside_window"] = {"grant_id": late.grant_id, "allowed_by": late.granted_by, "reason": late.reason}
        args = protocol.AdmitArgs(attempt=attempt, package_sha256=stored["sha256"], package_size=stored["size"],
                                  identity_checked_by=user.name)
        result = self.commands.issue(kiosk_id, attempt.attempt_id, "admit", args, user.name, data.get("request_id"),
                                     audit)
        self.dashboard.refresh_tile(kiosk_id)
        return result

    def _readmission(self, candidate_id: str) -> Grant | None:
        """None for a candidate who has not sat; for one who has, the re-admission a centre admin
        allowed (used by this admission), or a refusal naming the earlier sitting. A candidate who
        holds an attempt on a kiosk now is refused whatever the form: one exam at a time."""
        taken = self.attempts.admitted_elsewhere(candidate_id)
        if taken:
            raise Conflict(f"candidate {candidate_id} is already admitted on kiosk {taken}")
        sat = self.attempts.sittings([candidate_id]).get(candidate_id)
        if not sat:
            return None
        grant = self.readmissions.pending(candidate_id)
        if grant is None:
            last = sat[-1]
            raise Conflict(f"candidate {candidate_id} has already sat package {last['package_id']} on kiosk "
                           f"{last['kiosk_id']} ({last['state']}); a centre admin can allow one more admission "
                           "with a reason (Roster page, or `roster readmit`)")
        return grant

    def _new_attempt(self, candidate_id: str, package_id: str, kiosk_id: str) -> tuple[Attempt, dict[str, Any]]:
        """The attempt admission creates (the time the candidate is allowed: the package's form
        duration with their extra time, applied here once), with the package's stored hash and size."""
        candidate = self.roster.get(candidate_id)
        if candidate is None:
            raise NotFound(f"candidate {candidate_id} is not on the roster; a centre admin can add them "
                           "with a reason (Roster page)")
        package, stored = self.packages.load(package_id)
        manifest = package.manifest
        if manifest.scheme_id != candidate.scheme_id:
            raise Conflict(f"candidate {candidate_id} is registered for {candidate.scheme_id}, "
                           f"package is {manifest.scheme_id}")
        if parse_time(manifest.closes, "closes") <= utc_now():
            raise Conflict(f"package {package_id} closed at {manifest.closes}")
        if self.signed is not None:
            self.signed.check_form(candidate_id, manifest.form_id)
        _check_accommodations(candidate, self.packages.accommodation_policies())
        accommodations = candidate.accommodations
        duration = allowed_seconds(manifest.duration_seconds, accommodations)
        attempt = Attempt(attempt_id=f"att-{secrets.token_hex(8)}", candidate_id=candidate_id,
                          form_id=manifest.form_id, form_version=manifest.form_version, package_id=package_id,
                          centre_id=self.centre_id, kiosk_id=kiosk_id, option_seed=secrets.randbelow(2**63),
                          state="admitted", candidate_name=candidate.name, seat=candidate.seat,
                          accommodations=accommodations, duration_seconds=duration)
        return attempt, stored

    def start(self, user: User, data: dict[str, Any]) -> dict[str, Any]:
        return self._released(user, data, "start")

    def approve_resume(self, user: User, data: dict[str, Any]) -> dict[str, Any]:
        result = self._released(user, data, "resume_approved")
        self.dashboard.resume_approved(data["kiosk_id"])
        return result

    def pause(self, user: User, data: dict[str, Any]) -> dict[str, Any]:
        reason = _text(data, "reason", required=False)
        return self._command(user, data, "pause", protocol.ReasonArgs(reason), {"reason": reason})

    def resume(self, user: User, data: dict[str, Any]) -> dict[str, Any]:
        return self._command(user, data, "resume", protocol.NoArgs())

    def extend(self, user: User, data: dict[str, Any]) -> dict[str, Any]:
        minutes = data.get("minutes")
        if isinstance(minutes, str) and minutes.strip().isdigit():
            minutes = int(minutes)
        if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 240:
            raise ValidationError("minutes", "must be a whole number of minutes, 1 to 240")
        reason = _text(data, "reason")
        result = self._command(user, data, "extend", protocol.ExtendArgs(minutes * 60, reason),
                               {"seconds": minutes * 60, "reason": reason})
        self.attempts.add_extra_seconds(result["attempt_id"], minutes * 60)
        return result

    def end(self, user: User, data: dict[str, Any]) -> dict[str, Any]:
        reason = _text(data, "reason")
        result = self._command(user, data, "end", protocol.RequiredReasonArgs(reason), {"reason": reason})
        self.attempts.set_end_reason(result["attempt_id"], reason)
        return result

    def cancel_admission(self, user: User, data: dict[str, Any]) -> dict[str, Any]:
        """Undo an admission whose exam never started (wrong seat, candidate left or unwell before
        the start): the kiosk forgets the attempt and waits again, nothing is sealed, and once it
        acks the attempt is ``cancelled``, which is no sitting, so the candidate may be admitted
        again to this kiosk or another. Only an admitted seat fits (``seat_actions.FITS``); after the
        start the proctor ends the exam instead. The reason is audited and shown in the report."""
        reason = _text(data, "reason")
        result = self._command(user, data, "cancel_admission", protocol.RequiredReasonArgs(reason),
                               {"reason": reason})
        self.attempts.set_end_reason(result["attempt_id"], reason)
        return result

    def message(self, user: User, data: dict[str, Any]) -> dict[str, Any]:
        text = _text(data, "text")
        return self._command(user, data, "message", protocol.MessageArgs(text), {"length": len(text)})

    def mass_pause(self, user: User, data: dict[str, Any]) -> dict[str, Any]:
        """Pause every attempt in progress (an emergency: fire alarm, power). Conflicts do not
        apply: pausing everyone favours no one."""
        reason = _text(data, "reason")
        rows = self.attempts.in_progress()
        base = data.get("request_id")
        issued = [self.commands.issue(k, a, "pause", protocol.ReasonArgs(reason), user.name,
                                      f"{base}-{k}"[:64] if base else None, {"reason": reason, "mass": True})
                  for k, a in rows]
        self.audit.append(user.name, "session.mass_pause", {"reason": reason, "kiosks": [r[0] for r in rows]})
        return {"paused": len(issued), "commands": [c["command_id"] for c in issued]}

    # --- alerts, incidents, impartiality ------------------------------------------------------
    def alert_resolve(self, user: User, data: dict[str, Any]) -> dict[str, Any]:
        alert_id = data.get("alert_id")
        if not isinstance(alert_id, int) or isinstance(alert_id, bool) or not 1 <= alert_id <= MAX_ROW_ID:
            raise ValidationError("alert_id", "must be the number of an alert")
        reason = _text(data, "reason")
        status = ALERT_RESOLUTIONS[data["type"]]
        alert = self.alerts.get(alert_id)
        if alert is None:
            raise NotFound(f"no alert {alert_id}")
        self._check_conflict(user, alert["attempt_id"])  # its candidate's alert, like any action on them
        self.alerts.resolve(user.name, alert_id, status, reason)
        self.dashboard.push_alert(alert_id)
        return {"alert_id": alert_id, "status": status}

    def incident(self, user: User, data: dict[str, Any]) -> dict[str, Any]:
        category = data.get("category")
        if category not in INCIDENT_CATEGORIES:
            raise ValidationError("category", f"must be one of {', '.join(INCIDENT_CATEGORIES)}")
        text = _text(data, "text", max_len=10_000)
        kiosk_id = _ident(data, "kiosk_id") if data.get("kiosk_id") else None
        attempt = self._incident_attempt(kiosk_id, _ident(data, "attempt_id") if data.get("attempt_id") else None)
        package_id = _ident(data, "package_id") if data.get("package_id") else None
        if attempt is not None:
            self._check_conflict(user, attempt["attempt_id"])  # a report about the candidate is an action on them
            kiosk_id, package_id = attempt["kiosk_id"], package_id or attempt["package_id"]
        incident_id = self.incidents.report(user.name, category, text, kiosk_id=kiosk_id,
                                            attempt_id=attempt["attempt_id"] if attempt else None,
                                            package_id=package_id)
        return {"incident_id": incident_id, "kiosk_id": kiosk_id, **self._about(attempt)}

    def _check_conflict(self, user: User, attempt_id: str | None) -> None:
        """Refuse an action touching ``attempt_id`` to a proctor with a declared conflict with its
        candidate (an alert or incident without an attempt concerns no candidate)."""
        attempt = self.attempts.get(attempt_id) if attempt_id else None
        if attempt is not None:
            self.conflicts.check(user.name, attempt["candidate_id"])

    def _incident_attempt(self, kiosk_id: str | None, attempt_id: str | None) -> dict[str, Any] | None:
        """The attempt an incident is about: the one the proctor's page named (it must be on that
        kiosk), else the kiosk's latest attempt, else none (the whole room). The page names the
        attempt it showed, so a candidate admitted meanwhile on that kiosk never receives it."""
        if attempt_id is None:
            return self.attempts.latest_on(kiosk_id) if kiosk_id else None
        attempt = self.attempts.get(attempt_id)
        if attempt is None:
            raise NotFound(f"no attempt {attempt_id} at this centre")
        if kiosk_id is not None and attempt["kiosk_id"] != kiosk_id:
            raise Conflict(f"attempt {attempt_id} was not sat on kiosk {kiosk_id}")
        return attempt

    def _about(self, attempt: dict[str, Any] | None) -> dict[str, Any]:
        """Whose attempt a record attaches to, as the page and the reply name it."""
        if attempt is None:
            return {"attempt_id": None, "candidate_id": None, "candidate_name": "", "seat": ""}
        name, seat = self.roster.names_and_seats([attempt["candidate_id"]]).get(attempt["candidate_id"], ("", ""))
        return {"attempt_id": attempt["attempt_id"], "candidate_id": attempt["candidate_id"],
                "candidate_name": name, "seat": seat}

    def release_code(self, user: User, data: dict[str, Any]) -> dict[str, Any]:
        return self.keys.enter_code(user, _ident(data, "package_id"), _text(data, "code", max_len=40))

    def declare_conflict(self, user: User, data: dict[str, Any]) -> dict[str, Any]:
        candidate_id = _ident(data, "candidate_id")
        self.conflicts.declare(user.name, candidate_id, _text(data, "reason"))
        return {"candidate_id": candidate_id, "declared": True}

    def override_conflict(self, user: User, data: dict[str, Any]) -> dict[str, Any]:
        proctor, candidate_id = _text(data, "proctor", max_len=100), _ident(data, "candidate_id")
        self.conflicts.override(user, proctor, candidate_id, _text(data, "reason"))
        return {"proctor": proctor, "candidate_id": candidate_id, "overridden": True}
