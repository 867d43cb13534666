"""The Users page (``/admin/users``): centre admins manage proctor and admin accounts.

Plain server-rendered forms (no script, so nothing for the CSP to allow), each POST CSRF-checked
and admitted for centre admins only by ``require_role``. The work is done by ``accounts``, the
same functions the CLI calls, with the acting admin's name for the audit chain; logins that an
action closes (disable, password reset) lose their dashboard sockets at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import g, render_template, request

from exam_core.errors import InvigilError, ValidationError
from proctor_console import accounts
from proctor_console.auth import current_login_id, require_role

if TYPE_CHECKING:
    from proctor_console.server import ConsoleServer

ADMIN = ("centre_admin",)


def register_account_routes(server: ConsoleServer) -> None:
    app = server.app

    @app.route("/admin/users", methods=["GET", "POST"])
    @require_role(*ADMIN)
    def users() -> Any:
        message, status = None, 200
        if request.method == "POST":
            try:
                message = _change(server, request.form.get("do", ""), request.form)
            except InvigilError as exc:
                message, status = f"Refused: {exc}", 400
        return render_template("users.html", users=accounts.list_users(server.ctx), roles=accounts.ROLES,
                               message=message, refused=status != 200), status


def _change(server: ConsoleServer, action: str, form: Any) -> str:
    ctx, by = server.ctx, g.user.name
    name = form.get("name", "")[:accounts.USERNAME_MAX + 1]
    if action == "add":
        password = _new_password(form)
        accounts.add_user(ctx, accounts.check_name(name), form.get("role", ""), password, by=by)
        return f"User {name} ({form.get('role')}) added."
    if action == "disable":
        server.end_logins(accounts.set_disabled(ctx, name, True, by))
        return f"User {name} disabled; their sessions were ended."
    if action == "enable":
        accounts.set_disabled(ctx, name, False, by)
        return f"User {name} enabled."
    if action == "reset_password":
        server.end_logins(accounts.reset_password(ctx, name, _new_password(form), by, keep_login=current_login_id()))
        return f"Password of {name} reset; their other sessions were ended."
    if action == "unlock":
        accounts.unlock(ctx, name, by)
        return f"User {name} unlocked."
    raise ValidationError("do", f"unknown user action {action[:40]!r}")


def _new_password(form: Any) -> str:
    password = form.get("password", "")
    if password != form.get("password_confirm", ""):
        raise ValidationError("password_confirm", "the two passwords differ")
    return password
