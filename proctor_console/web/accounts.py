"""The Users page (``/admin/users``): centre admins manage proctor and admin accounts.

Plain server-rendered forms (no script, so nothing for the CSP to allow), each POST CSRF-checked
and admitted for centre admins only by ``require_role``. The work is done by ``Accounts``, the
same service the CLI calls, with the acting admin's name for the audit chain; logins that an
action closes (disable, password reset) lose their dashboard sockets at once (``end_logins``).
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

from flask import Blueprint, g, render_template, request
from werkzeug.datastructures import MultiDict

from exam_core.errors import InvigilError, ValidationError
from proctor_console.accounts import ROLES, USERNAME_MAX, Accounts, check_name
from proctor_console.web.auth import ADMIN, current_login_id, require_role
from proctor_console.web.refusals import refused_message


def accounts_blueprint(accounts: Accounts, *, end_logins: Callable[[list[str]], object]) -> Blueprint:
    bp = Blueprint("accounts", __name__)

    @bp.route("/admin/users", methods=["GET", "POST"])
    @require_role(*ADMIN)
    def users() -> Any:
        message, status = None, 200
        if request.method == "POST":
            try:
                message = _change(accounts, end_logins, request.form.get("do", ""), request.form)
            except InvigilError as exc:
                message, status = refused_message(exc)
        return render_template("users.html", users=accounts.listing(), roles=ROLES,
                               message=message, refused=status != 200), status

    return bp


def _change(accounts: Accounts, end_logins: Callable[[list[str]], object], action: str,
            form: MultiDict[str, str]) -> str:
    by = g.user.name
    name = form.get("name", "")[:USERNAME_MAX + 1]
    if action == "add":
        password = _new_password(form)
        accounts.add(check_name(name), form.get("role", ""), password, by=by)
        return f"User {name} ({form.get('role')}) added."
    if action == "disable":
        end_logins(accounts.set_disabled(name, True, by))
        return f"User {name} disabled; their sessions were ended."
    if action == "enable":
        accounts.set_disabled(name, False, by)
        return f"User {name} enabled."
    if action == "reset_password":
        end_logins(accounts.reset_password(name, _new_password(form), by, keep_login=current_login_id()))
        return f"Password of {name} reset; their other sessions were ended."
    if action == "unlock":
        accounts.unlock(name, by)
        return f"User {name} unlocked."
    raise ValidationError("do", f"unknown user action {action[:40]!r}")


def _new_password(form: MultiDict[str, str]) -> str:
    password = form.get("password", "")
    if password != form.get("password_confirm", ""):
        raise ValidationError("password_confirm", "the two passwords differ")
    return password
