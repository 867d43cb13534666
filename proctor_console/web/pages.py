"""The proctors' pages: dashboard, a kiosk's timeline, media, incidents, sessions and their reports.

Every route names the roles it admits (``require_role``), and every POST checks the CSRF token.
The views hold no SQL: what they show comes from the services that own the records.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from collections.abc import Callable

from flask import Blueprint, abort, g, jsonify, render_template, request, send_from_directory

from exam_core.errors import InvigilError
from exam_core.model import IDENTIFIER_RE
from proctor_console.actions import Actions
from proctor_console.candidates import Candidates
from proctor_console.incidents import INCIDENT_CATEGORIES, Incidents
from proctor_console.packages import Packages
from proctor_console.report import Reports
from proctor_console.web.auth import ANY_STAFF, require_role
from proctor_console.web.refusals import refused_message
from proctor_console.wording import TEMPLATE_FILTERS

SOCKET_IO_DIST = Path(__file__).resolve().parents[2] / "node_modules" / "socket.io-client" / "dist"
MEDIA_KINDS = ("thumbnails", "snapshots")
MEDIA_NAME_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def pages_blueprint(*, actions: Actions, reports: Reports, candidates: Candidates, packages: Packages,
                    incident_log: Incidents, kiosk_ids: Callable[[], list[str]], media_dir: Path,
                    zone: str = "UTC") -> Blueprint:
    """``kiosk_ids`` lists the kiosks on the dashboard (the incident form offers them); the admit
    list shows each candidate with whether they have already sat (``candidates``)."""
    bp = Blueprint("pages", __name__)
    for name, wording_filter in TEMPLATE_FILTERS.items():  # times and measurements in words, every template
        bp.add_app_template_filter(wording_filter, name)
    # Flask keeps any value as a Jinja global; its annotation asks for a callable
    bp.add_app_template_global(zone, "centre_zone")  # type: ignore[arg-type]  # the centre's time zone, for pages and the dashboard

    @bp.get("/dashboard")
    @require_role(*ANY_STAFF)
    def dashboard() -> Any:
        return render_template("dashboard.html", candidates=candidates.listing(), packages=packages.listing(),
                               categories=INCIDENT_CATEGORIES)

    @bp.get("/kiosks/<kiosk_id>/timeline")
    @require_role(*ANY_STAFF)
    def timeline(kiosk_id: str) -> Any:
        if not IDENTIFIER_RE.match(kiosk_id):
            abort(404)
        attempt, items = reports.timeline(kiosk_id)
        return render_template("timeline.html", kiosk_id=kiosk_id, attempt=attempt, items=items)

    @bp.get("/media/<kind>/<name>")
    @require_role(*ANY_STAFF)
    def media(kind: str, name: str) -> Any:
        if kind not in MEDIA_KINDS or not set(name) <= MEDIA_NAME_OK or not name.endswith(".jpg"):
            abort(404)
        return send_from_directory(media_dir / kind, name, mimetype="image/jpeg", max_age=0)

    @bp.get("/vendor/socket.io.min.js")
    def socket_io_client() -> Any:
        return send_from_directory(SOCKET_IO_DIST, "socket.io.min.js", mimetype="text/javascript")

    @bp.route("/incidents", methods=["GET", "POST"])
    @require_role(*ANY_STAFF)
    def incidents() -> Any:
        message, status = None, 200
        if request.method == "POST":
            try:
                # the form's own fields first: a field named "type" must not turn it into another action
                result = actions.perform(g.user, {**request.form.to_dict(), "type": "incident"})
                message = f"Incident report #{result['incident_id']} recorded."
            except InvigilError as exc:
                message, status = refused_message(exc)
        return render_template("incidents.html", incidents=incident_log.recent(), categories=INCIDENT_CATEGORIES,
                               message=message, kiosks=sorted(kiosk_ids())), status

    @bp.get("/sessions")
    @require_role(*ANY_STAFF)
    def sessions() -> Any:
        return render_template("sessions.html", packages=packages.listing())

    @bp.get("/sessions/<session_id>/report")
    @require_role(*ANY_STAFF)
    def report_html(session_id: str) -> Any:
        return render_template("report.html", r=reports.session(session_id, g.user.name))

    @bp.get("/sessions/<session_id>/report.json")
    @require_role(*ANY_STAFF)
    def report_json(session_id: str) -> Any:
        return jsonify(reports.session(session_id, g.user.name))

    return bp
