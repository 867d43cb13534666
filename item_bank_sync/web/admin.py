"""The staff administration pages: the same changes as ``staff add|disable|enable|reset-password|roles``,
``body time-zone`` and ``body rules-version``.

Each form calls the same function as the CLI (:class:`~item_bank_sync.staff.accounts.StaffBook`'s
methods, :func:`~item_bank_sync.trust.identity.set_time_zone`), with the signed-in administrator as
actor, so page and CLI write the same audit entry. A time zone set on the page applies to this
server's pages at once; set with the CLI, when ``web`` starts again.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from exam_core.errors import InvigilError
from exam_core.websec.passwords import MAX_PASSWORD_CHARS
from item_bank_sync.staff.roles import ADMIN, ROLES
from item_bank_sync.trust.identity import (MAX_RULES_VERSION, MAX_ZONE_NAME, rules_version, set_rules_version,
                                           set_time_zone)
from item_bank_sync.web.access import acting_staff, require_role, state
from item_bank_sync.web.formfields import refused, text_field

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


@bp.get("/body")
@require_role(ADMIN)
def body_page() -> Any:
    """The body's id, name, time zone and rules version, with the forms of ``body time-zone`` and
    ``body rules-version``."""
    body = state().ctx.body()
    return render_template("staff/admin_body.html", body=body, zone=body.get("time_zone") or "UTC",
                           zones=sorted(available_timezones()), max_zone=MAX_ZONE_NAME,
                           rules=rules_version(body), max_rules=MAX_RULES_VERSION)


@bp.post("/body/rules-version")
@require_role(ADMIN)
def set_rules() -> Any:
    """``body rules-version VERSION --by <signed-in administrator>``: candidates applying from now
    on accept this version (those who accepted another are asked again)."""
    try:
        body = set_rules_version(state().ctx, text_field("rules_version", MAX_RULES_VERSION * 4), _actor())
    except InvigilError as exc:
        return refused("Rules version not changed", str(exc), back=url_for("admin.body_page"))
    flash(f"Candidates now accept the body's rules version {body['rules_version']}.", "ok")
    return redirect(url_for("admin.body_page"))


@bp.post("/body")
@require_role(ADMIN)
def set_zone() -> Any:
    """``body time-zone ZONE --by <signed-in administrator>``."""
    zone = text_field("time_zone", MAX_ZONE_NAME * 4)
    try:
        body = set_time_zone(state().ctx, zone, _actor())
    except InvigilError as exc:
        return refused("Time zone not changed", str(exc), back=url_for("admin.body_page"))
    state().zone_name = body["time_zone"]
    flash(f"Times are now shown in {body['time_zone']}.", "ok")
    return redirect(url_for("admin.body_page"))
