"""Who is signed in, and what they may see: the checks every page of the staff application uses.

``current_staff()`` is the person of this request, once both sign-in steps are done (None before).
``require_role(*roles)`` guards a view: signed out goes to the sign-in page; signed in without one of
``roles`` gets the 403 page. The auditor sees every page (a GET passes for them) and changes
nothing: a POST needs one of ``roles`` themselves, which the auditor role never is.
``csrf_field()`` is the hidden input every form carries (the app refuses a POST without it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import abort, current_app, g, redirect, request, url_for
from markupsafe import Markup, escape

from exam_core.websec.csrf import FORM_FIELD, csrf_token
from item_bank_sync.context import CentralContext
from item_bank_sync.staff.accounts import StaffBook, StaffMember
from item_bank_sync.staff.duties import Verdict, may
from item_bank_sync.staff.roles import (ADMIN, APPROVER, AUDITOR, DECISION_MAKER, ITEM_WRITER, MARKER,
                                        PSYCHOMETRICIAN, REGISTRAR, REVIEWER, ROLES)
from item_bank_sync.staff.signins import Session, SignIns

__all__ = ["ADMIN", "APPROVER", "AUDITOR", "DECISION_MAKER", "ITEM_WRITER", "MARKER", "PSYCHOMETRICIAN", "REGISTRAR",
           "REVIEWER", "ROLES", "WebState", "acting_staff", "client_address", "csrf_field", "current_session",
           "current_staff", "may_do", "require_role", "require_signed_in", "state"]

EXTENSION = "invigil_staff"


@dataclass
class WebState:
    """What every view of one app shares: the body's context, its staff accounts and sign-ins."""

    ctx: CentralContext
    book: StaffBook
    signins: SignIns
    zone_name: str
    body_name: str


def state() -> WebState:
    """The staff application's shared state (``app.extensions``)."""
    state_: WebState = current_app.extensions[EXTENSION]
    return state_


def client_address() -> str:
    """The address of the client of this request (the TLS front's, see :mod:`item_bank_sync.web.server`)."""
    return str(g.get("client_address") or "unknown")


def current_session() -> Session | None:
    """This request's session (also one whose second factor is still to do)."""
    return g.get("staff_session")


def current_staff() -> StaffMember | None:
    """The signed-in person (name, roles), once password and code are both done."""
    session = current_session()
    return session.member if session is not None and session.second_factor else None


def acting_staff() -> StaffMember:
    """The signed-in person in a view behind ``require_role`` (403 if somehow none)."""
    member = current_staff()
    if member is None:
        abort(403)
    return member


def require_role(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """View decorator: signed in, holding one of ``roles`` (the auditor passes for reading only)."""
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            member = current_staff()
            if member is None:
                return redirect(url_for("signin.signin"))
            reading = request.method in ("GET", "HEAD")
            if not member.has(*roles) and not (reading and member.has(AUDITOR)):
                abort(403)
            return view(*args, **kwargs)
        wrapper.staff_roles = frozenset(roles)  # type: ignore[attr-defined]  # read by the navigation (nav.py)
        return wrapper
    return decorate


def require_signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """Any signed-in person (any role) may see this page; POSTs need a role that changes things."""
    return require_role(*ROLES)(view)


def may_do(action: str) -> Verdict:
    """May the signed-in person do ``action`` (the role table of ``staff/duties.py``)? Call it
    before showing a button; pages add the object's own check (four eyes, ...)."""
    member = current_staff()
    if member is None:
        return Verdict(False, "sign in first")
    return may(member.name, member.roles, member.enabled, action)


def csrf_field() -> Markup:
    """The hidden CSRF input of a form."""
    # the only value is escaped here; the rest is a constant
    return Markup(f'<input type="hidden" name="{FORM_FIELD}" value="{escape(csrf_token())}">')  # noqa: S704
