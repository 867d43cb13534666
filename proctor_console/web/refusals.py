"""How the web face answers a refused request: one mapping, from ``proctor_console.errors``.

A form page shows ``Refused: <reason>`` in the page with the refusal's HTTP status; a JSON
endpoint answers ``{"ok": false, "error", "code"}``; anything else plain text. The status and code
come from the error's kind (``errors.http_status``, ``errors.socket_code``), so every page and
endpoint answers the same refusal the same way.
"""

from __future__ import annotations

from flask import Response, jsonify, request

from exam_core.errors import InvigilError
from proctor_console.errors import http_status, socket_code


def refused_message(exc: InvigilError) -> tuple[str, int]:
    """What a form page shows, and the status it is served with."""
    return f"Refused: {exc}", http_status(exc)


def refusal_response(exc: InvigilError) -> Response:
    """The answer to a refusal no view turned into a page (an error handler for the whole app)."""
    status = http_status(exc)
    if request.path.endswith(".json") or request.accept_mimetypes.best == "application/json":
        response = jsonify({"ok": False, "error": str(exc), "code": socket_code(exc)})
    else:
        response = Response(f"Refused: {exc}\n", mimetype="text/plain")
    response.status_code = status
    return response
