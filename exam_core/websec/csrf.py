"""CSRF tokens: one random token per session cookie, sent back with every change.

Why a token and not only ``SameSite=Strict``: an older browser or a same-site page on the body's
network could still send a cookie with a forged form; the token is unknown to them. Compared in
constant time so its bytes cannot be learnt by timing.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from flask import request, session

SESSION_KEY = "csrf"
FORM_FIELD = "csrf"
HEADER = "X-CSRF-Token"


def new_csrf_token() -> str:
    """Put a fresh token in the session (at sign-in: a token from before it is worthless after)."""
    session[SESSION_KEY] = secrets.token_urlsafe(32)
    return str(session[SESSION_KEY])


def csrf_token() -> str:
    """This session's token (made on first use)."""
    if SESSION_KEY not in session:
        return new_csrf_token()
    return str(session[SESSION_KEY])


def csrf_valid(token: Any) -> bool:
    """True when ``token`` is this session's token."""
    expected = session.get(SESSION_KEY)
    if not isinstance(expected, str) or not expected or not isinstance(token, str):
        return False
    return hmac.compare_digest(token.encode(), expected.encode())


def request_csrf_valid() -> bool:
    """True when this request carries the session's token (form field or header)."""
    return csrf_valid(request.form.get(FORM_FIELD) or request.headers.get(HEADER))
