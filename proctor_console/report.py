"""The session report: attendance, timings, actions, alerts, incidents, for one session.

A session is one form package's sitting at this centre (its ``package_id``): the package fixes
the form, the scheme and the window, which is what the certification body reports on.
"""

from __future__ import annotations

import json
from typing import Any

from proctor_console.context import ConsoleContext, ConsoleError, now_text
from proctor_console.eventlog import ALERT_COLUMNS, alert_dict


def _rows(ctx: ConsoleContext, sql: str, params: list[Any], cols: tuple[str, ...]) -> list[dict[str, Any]]:
    return [dict(zip(cols, r)) for r in ctx.db.execute(sql, params).fetchall()]


def session_report(ctx: ConsoleContext, session_id: str) -> dict[str, Any]:
    row = ctx.db.execute("SELECT manifest, sha256 FROM packages WHERE package_id = ?", [session_id]).fetchone()
    if row is None:
        raise ConsoleError(f"no session {session_id!r} (sessions are imported package ids)")
    manifest = json.loads(row[0])
    attempts = _rows(ctx, "SELECT a.attempt_id, a.candidate_id, c.name, a.kiosk_id, c.seat, a.state, a.admitted_by,"
                          " a.admitted_at, a.started_at, a.ended_at, a.end_reason, a.extra_seconds FROM attempts a"
                          " LEFT JOIN candidates c ON c.candidate_id = a.candidate_id WHERE a.package_id = ?"
                          " ORDER BY c.seat, a.candidate_id", [session_id],
                     ("attempt_id", "candidate_id", "name", "kiosk_id", "seat", "state", "admitted_by", "admitted_at",
                      "started_at", "ended_at", "end_reason", "extra_seconds"))
    attempt_ids = [a["attempt_id"] for a in attempts]
    marks = ",".join("?" for _ in attempt_ids) or "NULL"
    present = {a["candidate_id"] for a in attempts}
    roster = _rows(ctx, "SELECT candidate_id, name, seat FROM candidates WHERE scheme_id = ? ORDER BY seat, candidate_id",
                   [manifest["scheme_id"]], ("candidate_id", "name", "seat"))
    attendance = [{**c, "present": c["candidate_id"] in present} for c in roster]
    actions = _rows(ctx, f"SELECT issued_at, issued_by, type, kiosk_id, attempt_id, status, acked_at, body FROM commands"
                         f" WHERE attempt_id IN ({marks}) ORDER BY issued_at, rowid", attempt_ids,
                    ("issued_at", "issued_by", "type", "kiosk_id", "attempt_id", "status", "acked_at", "body"))
    for action in actions:
        args = json.loads(action.pop("body"))["args"]
        action["detail"] = {k: v for k, v in args.items() if k in ("reason", "seconds", "text")}
    alerts = [alert_dict(r) for r in ctx.db.execute(
        f"SELECT {ALERT_COLUMNS} FROM alerts WHERE attempt_id IN ({marks}) ORDER BY opened", attempt_ids).fetchall()]
    incidents = _rows(ctx, f"SELECT incident_id, created, author, category, kiosk_id, attempt_id, text FROM incidents"
                           f" WHERE package_id = ? OR attempt_id IN ({marks}) ORDER BY created",
                      [session_id, *attempt_ids],
                      ("incident_id", "created", "author", "category", "kiosk_id", "attempt_id", "text"))
    envelopes = _rows(ctx, f"SELECT attempt_id, sha256, received, receipt_at FROM envelopes WHERE attempt_id IN ({marks})",
                      attempt_ids, ("attempt_id", "sha256", "received", "receipt_at"))
    head = ctx.audit.head()
    return {
        "report": "invigil-session-report", "v": 1, "generated": now_text(),
        "centre": {"centre_id": ctx.centre_id, "name": ctx.centre_name},
        "session": {"session_id": session_id, "package_sha256": row[1], **manifest},
        "summary": {"roster": len(roster), "present": len(present), "absent": len(roster) - len(present & {c["candidate_id"] for c in roster}),
                    "ended": sum(a["state"] == "ended" for a in attempts),
                    "submitted": sum(a["state"] == "submitted" for a in attempts),
                    "alerts": len(alerts), "open_alerts": sum(a["status"] == "open" for a in alerts),
                    "incidents": len(incidents), "envelopes": len(envelopes)},
        "attendance": attendance, "attempts": attempts, "actions": actions, "alerts": alerts,
        "incidents": incidents, "envelopes": envelopes,
        "audit_head": {"seq": head.seq, "hash": head.hash} if head else None,
    }


def render_report_html(report: dict[str, Any]) -> str:
    """The printable report outside a request (CLI): the same template, CSS inlined as a file link."""
    from pathlib import Path

    from jinja2 import Environment, FileSystemLoader, select_autoescape
    here = Path(__file__).parent
    env = Environment(loader=FileSystemLoader(here / "templates"), autoescape=select_autoescape(["html"]))
    env.globals["url_for"] = lambda endpoint, filename="": (here / "static" / filename).as_uri()
    return env.get_template("report.html").render(r=report)
