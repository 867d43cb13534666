"""Sign-in (password, then a TOTP code; enrolment with a QR code the first time), sign-out, and a
person's own account page (change password: their other sessions end).

Every refusal shows the same words (:data:`item_bank_sync.staff.signins.REFUSED`), so the page
never tells whether a name exists. Fields are cut to their limits before anything else reads them.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from exam_core.errors import ValidationError
from exam_core.websec.csrf import new_csrf_token
from exam_core.websec.passwords import MAX_PASSWORD_CHARS, verify_password
from item_bank_sync.db.sql import fetch_one
from item_bank_sync.staff.schema import staff_accounts
from item_bank_sync.staff.signins import REFUSED, SignInRefused
from item_bank_sync.web.access import (acting_staff, client_address, current_session, current_staff,
                                       require_signed_in, state)

from sqlalchemy import select

bp = Blueprint("signin", __name__)

NAME_MAX = 64
CODE_MAX = 64


def _address() -> str:
    return client_address()


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> Any:
    """Step 1: name and password."""
    if current_staff() is not None:
        return redirect(url_for("home.home"))
    error = None
    if request.method == "POST":
        name = request.form.get("name", "")[:NAME_MAX].strip()
        password = request.form.get("password", "")[:MAX_PASSWORD_CHARS]
        try:
            member = state().signins.check_password(name, password, _address())
        except SignInRefused:
            error = REFUSED
        else:
            session.clear()
            session["token"] = state().signins.start(member, _address())
            new_csrf_token()  # a token from before sign-in is worth nothing after it
            return redirect(url_for("signin.code" if member.second_factor else "signin.enrol"))
    return render_template("staff/signin.html", error=error), 401 if error else 200


def _pending() -> Any:
    """The session waiting for its second step, or None (then: back to step 1)."""
    pending = current_session()
    return pending if pending is not None and not pending.second_factor else None


@bp.route("/signin/code", methods=["GET", "POST"])
def code() -> Any:
    """Step 2: a code from the authenticator app (or a recovery code)."""
    pending = _pending()
    if pending is None:
        return redirect(url_for("home.home" if current_staff() else "signin.signin"))
    if not pending.member.second_factor:
        return redirect(url_for("signin.enrol"))
    error = None
    if request.method == "POST":
        try:
            state().signins.check_code(pending, request.form.get("code", "")[:CODE_MAX], _address())
        except SignInRefused:
            error = REFUSED
        else:
            return redirect(url_for("home.home"))
    return render_template("staff/code.html", error=error), 401 if error else 200


@bp.route("/signin/enrol", methods=["GET", "POST"])
def enrol() -> Any:
    """First sign-in: scan the QR code, confirm with a code; the recovery codes are shown once."""
    pending = _pending()
    if pending is None:
        return redirect(url_for("home.home" if current_staff() else "signin.signin"))
    if pending.member.second_factor:
        return redirect(url_for("signin.code"))
    error = None
    if request.method == "POST":
        try:
            codes = state().signins.confirm_enrolment(pending, request.form.get("code", "")[:CODE_MAX], _address())
        except SignInRefused:
            error = REFUSED
        else:
            return render_template("staff/recovery_codes.html", codes=codes)
    secret, qr = state().signins.pending_enrolment(pending.member.name)
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return render_template("staff/enrol.html", secret=grouped, qr=qr, error=error), 401 if error else 200


@bp.post("/signout")
def signout() -> Any:
    """End this session (the CSRF token is checked by the app's gate, as for every POST)."""
    pending = current_session()
    if pending is not None:
        state().signins.end(pending, "signed out")
    session.clear()
    return redirect(url_for("signin.signin"))


@bp.route("/account", methods=["GET", "POST"])
@require_signed_in
def account() -> Any:
    """Change one's own password: every other session of the person ends."""
    member = acting_staff()
    error = None
    if request.method == "POST":
        current = request.form.get("current", "")[:MAX_PASSWORD_CHARS]
        new = request.form.get("new", "")[:MAX_PASSWORD_CHARS + 1]
        row = fetch_one(state().book.engine, select(staff_accounts).where(staff_accounts.c.name == member.name))
        if row is None or not verify_password(current, row.password_hash, row.password_salt, row.password_params):
            error = "The current password is not right."
        elif new != request.form.get("repeat", "")[:MAX_PASSWORD_CHARS + 1]:
            error = "The new password and its repetition differ."
        else:
            pending = current_session()
            try:
                state().book.change_own_password(member.name, new, pending.token_hash if pending else None)
            except ValidationError as exc:
                error = f"The new password {exc.reason}."
            else:
                flash("Your password is changed; your other sessions have ended.", "ok")
                return redirect(url_for("signin.account"))
    return render_template("staff/account.html", error=error), 400 if error else 200
