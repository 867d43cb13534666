"""HTTP routes: login, dashboard pages, admin uploads, reports, media, and the two kiosk endpoints.

Every page route names the roles it admits (``require_role``), and every POST checks the CSRF
token. The kiosk endpoints (challenge, pairing) are the only ones open without a session, and
they can do nothing but issue a challenge or answer a sealed pairing request.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import (Response, abort, g, jsonify, redirect, render_template, request, send_from_directory,
                   url_for)

from exam_core import protocol
from exam_core.errors import InvigilError
from exam_core.jsonio import loads_strict, parse_time
from proctor_console.account_pages import register_account_routes
from proctor_console.actions import INCIDENT_CATEGORIES
from proctor_console.auth import LoginRefused, csrf_token, csrf_valid, require_role
from proctor_console.context import ConsoleError
from proctor_console.imports import import_package, import_roster, list_packages
from proctor_console.records import purge_media, retention_days
from proctor_console.registry import PairingRefused
from proctor_console.report import session_report

if TYPE_CHECKING:
    from proctor_console.server import ConsoleServer

ANY_STAFF = ("proctor", "centre_admin")
ADMIN = ("centre_admin",)
SOCKET_IO_DIST = Path(__file__).resolve().parents[1] / "node_modules" / "socket.io-client" / "dist"
MEDIA_NAME_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def register_routes(server: ConsoleServer) -> None:
    app, ctx = server.app, server.ctx

    @app.before_request
    def load_user() -> None:
        g.user = server.auth.current_user()

    @app.context_processor
    def template_globals() -> dict[str, Any]:
        return {"user": g.get("user"), "csrf": csrf_token, "centre_name": ctx.centre_name,
                "centre_id": ctx.centre_id}

    # --- login ----------------------------------------------------------------------------------
    @app.get("/")
    def index() -> Any:
        return redirect(url_for("dashboard" if g.user else "login"))

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        error = None
        if request.method == "POST":
            if not csrf_valid(request.form.get("csrf")):
                abort(400, "missing or wrong CSRF token")
            try:
                user = server.auth.login(request.form.get("name", "")[:64], request.form.get("password", "")[:1024],
                                         request.remote_addr or "?")
            except LoginRefused as exc:
                error = str(exc)
            else:
                server.auth.start_session(user, request.remote_addr or "?")
                return redirect(url_for("dashboard"))
        return render_template("login.html", error=error), 401 if error else 200

    @app.post("/logout")
    @require_role(*ANY_STAFF)
    def logout() -> Any:
        ctx.audit.append(g.user.name, "logout", {})
        server.end_logins(server.auth.end_session("logout"))  # its dashboard sockets go too
        return redirect(url_for("login"))

    # --- dashboard ------------------------------------------------------------------------------
    @app.get("/dashboard")
    @require_role(*ANY_STAFF)
    def dashboard() -> Any:
        candidates = ctx.db.execute("SELECT candidate_id, name, scheme_id, seat FROM candidates ORDER BY seat, name").fetchall()
        return render_template("dashboard.html", candidates=candidates, packages=list_packages(ctx),
                               categories=INCIDENT_CATEGORIES)

    @app.get("/kiosks/<kiosk_id>/timeline")
    @require_role(*ANY_STAFF)
    def timeline(kiosk_id: str) -> Any:
        if not protocol.IDENTIFIER_RE.match(kiosk_id):
            abort(404)
        attempt = ctx.db.execute("SELECT a.attempt_id, a.candidate_id, c.name, a.state, a.admitted_at, a.started_at,"
                                 " a.ended_at FROM attempts a LEFT JOIN candidates c ON c.candidate_id = a.candidate_id"
                                 " WHERE a.kiosk_id = ? ORDER BY a.admitted_at DESC LIMIT 1", [kiosk_id]).fetchone()
        items: list[dict[str, Any]] = []
        if attempt:
            for wall, kind, severity, body, snapshot in ctx.db.execute(
                    "SELECT wall_time, type, severity, body, snapshot FROM events WHERE attempt_id = ?"
                    " ORDER BY seq LIMIT 2000", [attempt[0]]).fetchall():
                data = json.loads(body)
                items.append({"time": wall, "what": kind, "severity": severity, "who": "kiosk",
                              "detail": data.get("rule", ""), "snapshot": snapshot})
            for issued, kind, by, status, body in ctx.db.execute(
                    "SELECT issued_at, type, issued_by, status, body FROM commands WHERE attempt_id = ?",
                    [attempt[0]]).fetchall():
                args = json.loads(body)["args"]
                items.append({"time": issued, "what": f"{kind} ({status})", "severity": "action", "who": by,
                              "detail": args.get("reason") or args.get("text") or "", "snapshot": None})
            for created, category, author, text in ctx.db.execute(
                    "SELECT created, category, author, text FROM incidents WHERE attempt_id = ?", [attempt[0]]).fetchall():
                items.append({"time": created, "what": f"incident: {category}", "severity": "incident",
                              "who": author, "detail": text, "snapshot": None})
        items.sort(key=lambda i: parse_time(i["time"]))  # kiosk and console clocks, compared as instants
        return render_template("timeline.html", kiosk_id=kiosk_id, attempt=attempt, items=items)

    @app.get("/media/<kind>/<name>")
    @require_role(*ANY_STAFF)
    def media(kind: str, name: str) -> Any:
        if kind not in ("thumbnails", "snapshots") or not set(name) <= MEDIA_NAME_OK or not name.endswith(".jpg"):
            abort(404)
        return send_from_directory(ctx.media_dir / kind, name, mimetype="image/jpeg", max_age=0)

    @app.get("/vendor/socket.io.min.js")
    def socket_io_client() -> Any:
        return send_from_directory(SOCKET_IO_DIST, "socket.io.min.js", mimetype="text/javascript")

    # --- incidents and reports ------------------------------------------------------------------
    @app.route("/incidents", methods=["GET", "POST"])
    @require_role(*ANY_STAFF)
    def incidents() -> Any:
        message = None
        if request.method == "POST":
            try:
                result = server.actions.perform(g.user, {"type": "incident", **request.form.to_dict()})
                message = f"Incident report #{result['incident_id']} recorded."
            except InvigilError as exc:
                message = f"Refused: {exc}"
        rows = ctx.db.execute("SELECT incident_id, created, author, category, kiosk_id, attempt_id, text FROM incidents"
                              " ORDER BY created DESC LIMIT 500").fetchall()
        return render_template("incidents.html", incidents=rows, categories=INCIDENT_CATEGORIES, message=message,
                               kiosks=sorted(server.room.tiles))

    @app.get("/sessions")
    @require_role(*ANY_STAFF)
    def sessions() -> Any:
        return render_template("sessions.html", packages=list_packages(ctx))

    @app.get("/sessions/<session_id>/report")
    @require_role(*ANY_STAFF)
    def report_html(session_id: str) -> Any:
        try:
            report = session_report(ctx, session_id)
        except ConsoleError:
            abort(404)
        ctx.audit.append(g.user.name, "report.view", {"session_id": session_id})
        return render_template("report.html", r=report)

    @app.get("/sessions/<session_id>/report.json")
    @require_role(*ANY_STAFF)
    def report_json(session_id: str) -> Any:
        try:
            return jsonify(session_report(ctx, session_id))
        except ConsoleError:
            abort(404)

    # --- centre admin -------------------------------------------------------------------------
    @app.route("/admin", methods=["GET", "POST"])
    @require_role(*ADMIN)
    def admin() -> Any:
        message, code = None, None
        if request.method == "POST":
            try:
                message, code = _admin_post(server, request.form.get("do", ""))
            except (InvigilError, ValueError) as exc:
                message = f"Refused: {exc}"
        conflicts = ctx.db.execute("SELECT proctor, candidate_id, reason, declared_at, override_by, override_reason"
                                   " FROM conflicts ORDER BY declared_at DESC").fetchall()
        return render_template("admin.html", message=message, code=code, packages=list_packages(ctx),
                               kiosks=server.registry.list(), conflicts=conflicts, retention=retention_days(ctx),
                               candidates=ctx.db.execute("SELECT COUNT(*) FROM candidates").fetchone()[0])

    register_account_routes(server)

    # --- kiosk endpoints (no session) -------------------------------------------------------------
    @app.get(protocol.CHALLENGE_PATH)
    def kiosk_challenge() -> Any:
        return jsonify(server.challenges.issue().to_dict())

    @app.post(protocol.PAIR_PATH)
    def kiosk_pair() -> Any:
        if request.content_length is None or request.content_length > 64 * 1024:
            abort(413)
        try:
            message = loads_strict(request.get_data(), max_bytes=64 * 1024)
            return jsonify(server.registry.pair(message, request.remote_addr or "?"))
        except PairingRefused as exc:
            return jsonify({"ok": False, "reason": str(exc)}), exc.status
        except InvigilError as exc:
            return jsonify({"ok": False, "reason": str(exc)}), 400

    @app.errorhandler(401)
    def unauthorised(_: Any) -> Any:
        if request.path.startswith("/media/") or request.accept_mimetypes.best == "application/json":
            return Response("login required", 401)
        return redirect(url_for("login"))


def _admin_post(server: ConsoleServer, action: str) -> tuple[str, str | None]:
    ctx, user = server.ctx, g.user
    if action == "packages":
        files = request.files.getlist("files")
        if not files:
            raise ConsoleError("choose at least one package file")
        done = [import_package(ctx, f.read(), f.filename or "upload", user.name)["package_id"] for f in files]
        return f"Imported package(s): {', '.join(done)}", None
    if action == "roster":
        upload = request.files.get("file")
        if upload is None:
            raise ConsoleError("choose a roster CSV file")
        count = import_roster(ctx, upload.read(), upload.filename or "roster.csv", user.name)
        return f"Imported {count} candidate(s).", None
    if action == "pair":
        code, _ = server.registry.new_code(user.name)
        return "Enter this code on the new kiosk within 10 minutes.", code
    if action == "release_code":
        server.actions.perform(user, {"type": "release_code", "package_id": request.form.get("package_id", ""),
                                      "code": request.form.get("code", "")})
        return "Release code accepted.", None
    if action == "retention":
        days = int(request.form.get("days", ""))
        if not 1 <= days <= 3650:
            raise ConsoleError("retention must be 1 to 3650 days")
        ctx.set_setting("retention_days", str(days))
        ctx.audit.append(user.name, "retention.set", {"days": days})
        removed = purge_media(ctx)
        return f"Retention set to {days} days; removed {removed['thumbnails']} thumbnails, {removed['snapshots']} snapshots.", None
    if action == "override_conflict":
        server.actions.perform(user, {"type": "override_conflict", **request.form.to_dict()})
        return "Conflict overridden.", None
    if action == "revoke":
        server.registry.revoke(request.form.get("kiosk_id", ""), user.name, request.form.get("reason", "") or "revoked")
        return "Kiosk revoked.", None
    raise ConsoleError(f"unknown admin action {action!r}")
