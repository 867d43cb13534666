"""The home page: what waits for the signed-in person, by their roles (counts with links)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for

from item_bank_sync.web.access import acting_staff, current_session, current_staff, require_signed_in
from item_bank_sync.web.waiting import waiting_for

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> Any:
    if current_staff() is None:
        return redirect(url_for("signin.code" if current_session() else "signin.signin"))
    return redirect(url_for("home.home"))


@bp.get("/home")
@require_signed_in
def home() -> Any:
    return render_template("staff/home.html", waiting=waiting_for(acting_staff()))
