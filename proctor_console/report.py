"""Reports on what happened at the centre: the session report and a kiosk's timeline.

A session is one form package's sitting at this centre (its ``package_id``): the package fixes
the form, the scheme and the window, which is what the certification body reports on. The report
is assembled from the modules that own each record (attempts, roster, commands, alerts,
incidents, envelopes) and is the same for the CLI, the HTML page and the JSON endpoint; viewing it
is audited whichever face asked, because it names candidates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from exam_core.audit import AuditLog
from exam_core.timestamps import parse_time
from exam_core.timestamps import utc_text_us
from proctor_console.alerts import Alerts
from proctor_console.attempts import Attempts
from proctor_console.commands import CommandCenter
from proctor_console.envelopes import Envelopes
from proctor_console.errors import NotFound
from proctor_console.eventlog import EventLog
from proctor_console.incidents import Incidents
from proctor_console.packages import Packages
from proctor_console.readmissions import Readmissions
from proctor_console.roster import Roster
from proctor_console.wording import TEMPLATE_FILTERS, accommodation_words

#: Command arguments a report shows (never a wrapped key or a candidate's data).
SHOWN_ARGS = ("reason", "seconds", "text")
#: What ended an attempt on the kiosk (the reason of its ``attempt.submitted`` event, as
#: ``kiosk.session`` names it), in the report's words.
SUBMITTED_BY = {"candidate": "submitted by the candidate", "timeout": "time ran out",
                "proctor_end": "ended by a proctor"}
TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


class Reports:
    def __init__(self, *, centre_id: str, centre_name: str, audit: AuditLog, packages: Packages, roster: Roster,
                 attempts: Attempts, commands: CommandCenter, alerts: Alerts, incidents: Incidents,
                 envelopes: Envelopes, events: EventLog, readmissions: Readmissions, zone: str = "UTC") -> None:
        self.centre_id = centre_id
        #: The centre's time zone (IANA name): the report shows its times in it.
        self.zone = zone
        self.centre_name = centre_name
        self.audit = audit
        self.packages = packages
        self.roster = roster
        self.attempts = attempts
        self.commands = commands
        self.alerts = alerts
        self.incidents = incidents
        self.envelopes = envelopes
        self.events = events
        self.readmissions = readmissions

    def session(self, session_id: str, viewer: str) -> dict[str, Any]:
        """Attendance, timings, actions, alerts, incidents and envelopes of one session."""
        found = self.packages.manifest(session_id)
        if found is None:
            raise NotFound(f"no session {session_id!r} (sessions are imported package ids)")
        manifest, package_sha256 = found
        attempts = self._attempts(session_id)
        attempt_ids = [a["attempt_id"] for a in attempts]
        present = {a["candidate_id"] for a in attempts}
        roster = self.roster.for_scheme(manifest["scheme_id"])
        attendance = self._attendance(roster, present, manifest["scheme_id"], session_id)
        actions = self.commands.for_attempts(attempt_ids)
        for action in actions:
            args = action.pop("args")
            action["detail"] = {k: v for k, v in args.items() if k in SHOWN_ARGS}
        alerts = self.alerts.for_attempts(attempt_ids)
        incidents = self.incidents.for_session(session_id, attempt_ids)
        self._name_records(attempts, [*actions, *alerts, *incidents])
        envelopes = self.envelopes.for_attempts(attempt_ids)
        head = self.audit.head()
        report = {
            "report": "invigil-session-report", "v": 1, "generated": utc_text_us(),
            "centre": {"centre_id": self.centre_id, "name": self.centre_name, "zone": self.zone},
            "session": {"session_id": session_id, "package_sha256": package_sha256, **manifest},
            "summary": {"roster": len(roster), "present": len(present),
                        "sat_another_form": sum(a["status"] == "sat another form" for a in attendance),
                        "absent": sum(a["status"] == "absent" for a in attendance),
                        "ended": sum(a["state"] == "ended" for a in attempts),
                        "submitted": sum(a["state"] == "submitted" for a in attempts),
                        "alerts": len(alerts), "open_alerts": sum(a["status"] == "open" for a in alerts),
                        "incidents": len(incidents), "envelopes": len(envelopes)},
            "attendance": attendance, "attempts": attempts, "actions": actions, "alerts": alerts,
            "incidents": incidents, "envelopes": envelopes,
            "audit_head": {"seq": head.seq, "hash": head.hash} if head else None,
        }
        self.audit.append(viewer, "report.view", {"session_id": session_id})
        return report

    def _attendance(self, roster: list[dict[str, Any]], present: set[str], scheme_id: str,
                    session_id: str) -> list[dict[str, Any]]:
        """Each candidate of the scheme: ``present`` here, ``sat another form`` (an attempt of
        another package of the same scheme: not absent from the sitting), or ``absent``."""
        same_scheme = {p["package_id"] for p in self.packages.listing() if p["scheme_id"] == scheme_id}
        sat = self.attempts.sat_packages([c["candidate_id"] for c in roster])
        rows = []
        for c in roster:
            elsewhere = sorted((sat.get(c["candidate_id"], set()) & same_scheme) - {session_id})
            status = "present" if c["candidate_id"] in present else "sat another form" if elsewhere else "absent"
            rows.append({**c, "present": c["candidate_id"] in present, "status": status, "other_forms": elsewhere})
        return rows

    def _name_records(self, attempts: list[dict[str, Any]], records: list[dict[str, Any]]) -> None:
        """Each attempt's accommodations as admission applied them, and on every action, alert and
        incident whose attempt it is (candidate id, name, seat): a record is read by the person it
        concerns, never by what its kiosk shows now."""
        applied = self.attempts.accommodations_of([a["attempt_id"] for a in attempts])
        whose = {a["attempt_id"]: a for a in attempts}
        for attempt in attempts:
            attempt["accommodations"] = accommodation_words(applied.get(attempt["attempt_id"], {}))
        for record in records:
            owner = whose.get(record.get("attempt_id") or "")
            record.update(candidate_id=owner["candidate_id"] if owner else None,
                          name=owner["name"] if owner else None, seat=owner["seat"] if owner else None)

    def _attempts(self, session_id: str) -> list[dict[str, Any]]:
        """The session's attempts with each candidate's name and seat, how and when each ended, and
        the reason for a re-admission, by seat then candidate."""
        rows = self.attempts.for_package(session_id)
        names = self.roster.names_and_seats([r["candidate_id"] for r in rows])
        ids = [r["attempt_id"] for r in rows]
        submitted, readmitted = self.events.submissions(ids), self.readmissions.for_attempts(ids)
        attempts = []
        for row in rows:
            name, seat = names.get(row["candidate_id"], (None, None))
            grant = readmitted.get(row["attempt_id"])
            attempts.append({"attempt_id": row["attempt_id"], "candidate_id": row["candidate_id"], "name": name,
                             "kiosk_id": row["kiosk_id"], "seat": seat,
                             **{k: row[k] for k in ("state", "admitted_by", "admitted_at", "started_at", "end_reason",
                                                    "extra_seconds")},
                             **_ending(row, submitted.get(row["attempt_id"])),
                             "readmission": {"allowed_by": grant["granted_by"], "reason": grant["reason"]}
                             if grant else None})
        return sorted(attempts, key=lambda a: (a["seat"] is not None, a["seat"] or "", a["candidate_id"]))

    def timeline(self, kiosk_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The kiosk's latest attempt (with the candidate's name) and what happened in it: kiosk
        events, proctor commands and incidents, ordered as instants (kiosk and console clocks)."""
        attempt = self.attempts.latest_on(kiosk_id)
        if attempt is None:
            return None, []
        name = self.roster.names_and_seats([attempt["candidate_id"]]).get(attempt["candidate_id"], (None, None))[0]
        attempt = {**attempt, "name": name}
        items: list[dict[str, Any]] = []
        for event in self.events.for_attempt(attempt["attempt_id"]):
            items.append({"time": event["wall_time"], "what": event["type"], "severity": event["severity"],
                          "who": "kiosk", "detail": event["rule"], "snapshot": event["snapshot"]})
        for command in self.commands.for_attempts([attempt["attempt_id"]]):
            args = command["args"]
            items.append({"time": command["issued_at"], "what": f"{command['type']} ({command['status']})",
                          "severity": "action", "who": command["issued_by"],
                          "detail": args.get("reason") or args.get("text") or "", "snapshot": None})
        for incident in self.incidents.for_attempt(attempt["attempt_id"]):
            items.append({"time": incident["created"], "what": f"incident: {incident['category']}",
                          "severity": "incident", "who": incident["author"], "detail": incident["text"],
                          "snapshot": None})
        items.sort(key=lambda i: parse_time(i["time"]))
        return attempt, items


def _ending(row: dict[str, Any], submission: dict[str, Any] | None) -> dict[str, Any]:
    """``ended_at`` and ``ended_how`` of an attempt: a proctor's end with its reason, or what the
    kiosk reported ended it (candidate, time up), at the console's time of the end or of the
    sealed envelope's arrival (the kiosk's own time when the console has neither)."""
    if row["state"] == "ended":
        how = f"ended by a proctor: {row['end_reason']}" if row["end_reason"] else "ended by a proctor"
    elif row["state"] == "cancelled":
        how = f"admission cancelled before the start: {row['end_reason']}"
    elif submission is not None:
        how = SUBMITTED_BY.get(submission["reason"], submission["reason"] or "submitted")
    else:
        how = "submitted" if row["state"] == "submitted" else ""
    at = row["ended_at"] or (submission["at"] if submission and row["state"] in ("ended", "submitted") else None)
    if row["state"] == "cancelled":
        at = None  # never started, so never ended: the cancellation's time is in the actions
    return {"ended_at": at, "ended_how": how}


def render_report_html(report: dict[str, Any]) -> str:
    """The printable report outside a request (CLI): the same template, CSS linked as a file."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.globals["url_for"] = lambda endpoint, filename="": (STATIC / filename).as_uri()
    env.filters.update(TEMPLATE_FILTERS)
    return env.get_template("report.html").render(r=report)
