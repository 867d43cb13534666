"""Refusing a request body larger than the sender may send, before a view reads any of it.

Why by sender: before sign-in nobody is known, so a stranger may send only a sign-in form's worth
(no one can make the server read megabytes before it knows who they are); a signed-in person gets
what their work needs. A body announced larger is answered 413 at once; Werkzeug stops a body
without a length at the same limit (``request.max_content_length``).
"""

from __future__ import annotations

from flask import Response, request

#: Largest body before a sign-in (a sign-in form, a pairing request).
ANONYMOUS_BODY_BYTES = 64 * 1024


def limit_body(limit: int, *, close: bool = True) -> Response | None:
    """Hold this request to ``limit`` bytes: a 413 answer when it announces more, else None.

    ``close`` asks the server to drop the connection instead of reading the refused body (the
    console's gevent server); waitress has read the body already and refuses hop-by-hop headers
    from an application, so the staff application passes False.
    """
    request.max_content_length = limit
    if (request.content_length or 0) <= limit:
        return None
    response = Response(f"request body larger than {limit} bytes\n", 413, mimetype="text/plain")
    if close:
        response.headers["Connection"] = "close"
    return response
