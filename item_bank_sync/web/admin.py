"""The staff administration page: the same changes as ``staff add|disable|enable|reset-password|roles``.

Each form calls the same :class:`~item_bank_sync.staff.accounts.StaffBook` method as the CLI, with
the signed-in administrator as actor, so page and CLI write the same audit entry.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from exam_core.errors import InvigilError
from exam_core.websec.passwords import MAX_PASSWORD_CHARS
from item_bank_sync.staff.roles import ADMIN, ROLES
from item_bank_sync.web.access import acting_staff, require_role, state

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _actor() -> str:
    return acting_staff().name


def _password() -> str:
    return request.form.get("password", "")[:MAX_PASSWORD_CHARS + 1]


@bp.get("/staff")
@require_role(ADMIN)
def staff() -> Any:
    return render_template("staff/admin_staff.html", people=state().book.all())


@bp.post("/staff")
@require_role(ADMIN)
def add() -> Any:
    roles = [r for r in request.form.getlist("role") if r in ROLES]
    name = request.form.get("name", "")[:64].strip()
    try:
        state().book.add(name, _password(), roles, _actor())
    except InvigilError as exc:
        return render_template("staff/admin_staff.html", people=state().book.all(), error=str(exc),
                               form={"name": name, "roles": roles}), 400
    flash(f"Staff account {name} added.", "ok")
    return redirect(url_for("admin.person", name=name))


@bp.get("/staff/<name>")
@require_role(ADMIN)
def person(name: str) -> Any:
    member = state().book.get(name[:64])
    if member is None:
        abort(404)
    return render_template("staff/admin_person.html", person=member)


@bp.post("/staff/<name>/<action>")
@require_role(ADMIN)
def change(name: str, action: str) -> Any:
    """disable, enable, reset-password, reset-second-factor, grant, revoke: one form each on the person's page."""
    book, by = state().book, _actor()
    role = request.form.get("role", "")[:32]
    actions = {"disable": lambda: book.disable(name, by), "enable": lambda: book.enable(name, by),
               "reset-password": lambda: book.reset_password(name, _password(), by),
               "reset-second-factor": lambda: book.reset_second_factor(name, by),
               "grant": lambda: book.grant(name, role, by), "revoke": lambda: book.revoke(name, role, by)}
    if action not in actions:
        abort(404)
    member = book.get(name[:64])
    if member is None:
        abort(404)
    try:
        actions[action]()
    except InvigilError as exc:
        return render_template("staff/admin_person.html", person=member, error=str(exc)), 400
    flash(_done(action, name, role), "ok")
    return redirect(url_for("admin.person", name=name))


def _done(action: str, name: str, role: str) -> str:
    return {"disable": f"{name} is disabled; their sessions have ended.", "enable": f"{name} is enabled.",
            "reset-password": f"{name}'s password is reset; their sessions have ended.",
            "reset-second-factor": f"{name} sets up their authenticator app again at the next sign-in.",
            "grant": f"{name} now holds the role {role}.", "revoke": f"{name} no longer holds the role {role}."}[action]
