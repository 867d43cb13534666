"""The security headers of every answer of an Invigil web face (console, staff application).

Why this strict: both serve pages to people whose session can change exam content or results, so
a script injected through any text field must not run. ``script-src 'self'`` and ``style-src
'self'`` forbid inline script and style outright (no nonces to leak); framing is refused, nothing
is loaded from another origin, and responses are never cached (they show candidates' data).
"""

from __future__ import annotations

from flask import Response, request

#: A year, renewed by every answer: a browser that once reached the server over HTTPS refuses a
#: downgraded or intercepted plain-HTTP one (no includeSubDomains: the host's neighbours are not ours).
HSTS = "max-age=31536000"

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")

SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cache-Control": "no-store",
}


def security_headers(response: Response) -> Response:
    """Add the headers (an ``after_request`` hook); a view may set a stricter value of its own."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:  # browsers ignore it over plain HTTP (--insecure-dev)
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if response.mimetype in ("text/html", "application/json"):
        response.headers["Cache-Control"] = "no-store"
    return response
