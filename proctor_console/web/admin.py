"""The centre admin page (``/admin``): packages, roster, release codes, kiosks, retention, conflicts.

Plain server-rendered forms, each POST CSRF-checked and admitted for centre admins only. The work
is done by the same services the CLI calls (``Packages``, ``Roster``, ``KioskRegistry``,
``Retention``, the proctor actions), with the acting admin's name for the audit chain.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

from flask import Blueprint, g, render_template, request

from exam_core.errors import InvigilError
from proctor_console.accounts import User
from proctor_console.actions import Actions
from proctor_console.conflicts import Conflicts
from proctor_console.errors import InvalidRequest
from proctor_console.packages import Packages
from proctor_console.registry import KioskRegistry
from proctor_console.retention import Retention
from proctor_console.roster import Roster
from proctor_console.web.auth import ADMIN, require_role
from proctor_console.web.refusals import refused_message


class AdminForms:
    """The admin page's form actions (the ``do`` field of each form), one method each."""

    def __init__(self, *, actions: Actions, packages: Packages, roster: Roster, registry: KioskRegistry,
                 retention: Retention, on_seat: Callable[[str], None] = lambda kiosk_id: None) -> None:
        self.actions = actions
        self.packages = packages
        self.roster = roster
        self.registry = registry
        self.retention = retention
        #: Shows a kiosk's new seat on the proctors' room map at once (``Dashboard.refresh_tile``).
        self.on_seat = on_seat

    def handle(self, user: User, action: str) -> tuple[str, str | None]:
        """Do one form action; returns the message to show and a pairing code (or None)."""
        handler = {"packages": self.import_packages, "roster": self.import_roster, "pair": self.pair,
                   "release_code": self.release_code, "retention": self.set_retention,
                   "override_conflict": self.override_conflict, "revoke": self.revoke,
                   "seat": self.pin_seat}.get(action)
        if handler is None:
            raise InvalidRequest(f"unknown admin action {action[:40]!r}")
        return handler(user)

    def import_packages(self, user: User) -> tuple[str, str | None]:
        files = request.files.getlist("files")
        if not files:
            raise InvalidRequest("choose at least one package file")
        done = [self.packages.import_package(f.read(), f.filename or "upload", user.name)["package_id"] for f in files]
        return f"Imported package(s): {', '.join(done)}", None

    def import_roster(self, user: User) -> tuple[str, str | None]:
        upload = request.files.get("file")
        if upload is None:
            raise InvalidRequest("choose a roster CSV file")
        count = self.roster.import_csv(upload.read(), upload.filename or "roster.csv", user.name)
        return f"Imported {count} candidate(s).", None

    def pair(self, user: User) -> tuple[str, str | None]:
        code, _ = self.registry.new_code(user.name)
        return "Enter this code on the new kiosk within 10 minutes.", code

    def release_code(self, user: User) -> tuple[str, str | None]:
        self.actions.perform(user, {"type": "release_code", "package_id": request.form.get("package_id", ""),
                                    "code": request.form.get("code", "")})
        return "Release code accepted.", None

    def set_retention(self, user: User) -> tuple[str, str | None]:
        days = request.form.get("days", "").strip()
        if not days.isdigit():
            raise InvalidRequest("retention must be a whole number of days")
        photo_days = request.form.get("photo_days", "").strip()
        if photo_days and not photo_days.isdigit():
            raise InvalidRequest("roster photo retention must be a whole number of days")
        self.retention.set_days(int(days), user.name)
        if photo_days:  # as ``purge --photo-days``: the same audit entry
            self.retention.set_photo_days(int(photo_days), user.name)
        removed = self.retention.purge(user.name)
        return (f"Retention set to {days} days, roster photos {self.retention.photo_days()} days after their "
                f"session; removed {removed['thumbnails']} thumbnails, {removed['snapshots']} snapshots, "
                f"{removed['photos']} roster photos."), None

    def pin_seat(self, user: User) -> tuple[str, str | None]:
        kiosk_id = request.form.get("kiosk_id", "")
        seat = self.registry.set_seat(kiosk_id, request.form.get("seat", ""), user.name)
        self.on_seat(kiosk_id)
        return (f"Kiosk {kiosk_id} is at seat {seat}." if seat else f"Kiosk {kiosk_id} has no fixed seat now."), None

    def override_conflict(self, user: User) -> tuple[str, str | None]:
        self.actions.perform(user, {**request.form.to_dict(), "type": "override_conflict"})  # "type" is ours
        return "Conflict overridden.", None

    def revoke(self, user: User) -> tuple[str, str | None]:
        self.registry.revoke(request.form.get("kiosk_id", ""), user.name, request.form.get("reason", "") or "revoked")
        return "Kiosk revoked.", None


def admin_blueprint(forms: AdminForms, *, conflicts: Conflicts) -> Blueprint:
    bp = Blueprint("admin", __name__)

    @bp.route("/admin", methods=["GET", "POST"])
    @require_role(*ADMIN)
    def admin() -> Any:
        message, code, status = None, None, 200
        if request.method == "POST":
            try:
                message, code = forms.handle(g.user, request.form.get("do", ""))
            except InvigilError as exc:
                message, status = refused_message(exc)
        return render_template("admin.html", message=message, code=code, packages=forms.packages.listing(),
                               kiosks=forms.registry.list(), conflicts=conflicts.listing(),
                               retention=forms.retention.days(), photo_retention=forms.retention.photo_days(),
                               candidates=forms.roster.count()), status

    return bp
