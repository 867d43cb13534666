"""The two HTTP endpoints a kiosk calls without a session: a login challenge, and pairing.

They are the only routes open without a login, and they can do nothing but issue a challenge or
answer a sealed pairing request (authenticated both ways by the one-time code, see
``KioskRegistry.pair``); a refused pairing answers with the status of its kind (403 no code
matches, 400 malformed, 409 paired with other keys).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, request

from exam_core import pairing, protocol
from exam_core.errors import InvigilError
from exam_core.jsonio import loads_strict
from proctor_console.errors import http_status
from proctor_console.link.challenges import ChallengeBook
from proctor_console.registry import KioskRegistry

MAX_PAIRING_BYTES = 64 * 1024


def kiosk_http_blueprint(challenges: ChallengeBook, registry: KioskRegistry) -> Blueprint:
    bp = Blueprint("kiosk_http", __name__)

    @bp.get(protocol.CHALLENGE_PATH)
    def kiosk_challenge() -> Any:
        return jsonify(challenges.issue().to_dict())

    @bp.post(pairing.PAIR_PATH)
    def kiosk_pair() -> Any:
        if request.content_length is None or request.content_length > MAX_PAIRING_BYTES:
            abort(413)
        try:
            message = loads_strict(request.get_data(), max_bytes=MAX_PAIRING_BYTES)
            return jsonify(registry.pair(message, request.remote_addr or "?"))
        except InvigilError as exc:
            return jsonify({"ok": False, "reason": str(exc)}), http_status(exc)

    return bp
