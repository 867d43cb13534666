"""Login challenges for kiosks: issued over HTTP, answered by the kiosk's signature on connect.

Single use and short-lived: ``consume`` removes the challenge before it returns, so a recorded
login cannot be replayed, and at most ``MAX_PENDING_CHALLENGES`` wait at once.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from datetime import datetime, timedelta, UTC

from exam_core import protocol
from exam_core.errors import ValidationError
from exam_core.jsonio import b64e
from exam_core.timestamps import format_time

MAX_PENDING_CHALLENGES = 10_000


class ChallengeBook:
    """Challenges issued and not yet used. Single use: ``consume`` removes before it returns."""

    def __init__(self, console_id: str) -> None:
        self.console_id = console_id
        self._pending: OrderedDict[str, tuple[float, str]] = OrderedDict()

    def issue(self) -> protocol.Challenge:
        now = time.monotonic()
        while self._pending and (len(self._pending) >= MAX_PENDING_CHALLENGES
                                 or next(iter(self._pending.values()))[0] < now):
            self._pending.popitem(last=False)
        wall = datetime.now(UTC)
        challenge = protocol.Challenge(
            console_id=self.console_id, challenge=b64e(secrets.token_bytes(32)), issued=format_time(wall),
            expires=format_time(wall + timedelta(seconds=protocol.CHALLENGE_TTL_SECONDS)))
        self._pending[challenge.challenge] = (now + protocol.CHALLENGE_TTL_SECONDS, challenge.issued)
        return challenge

    def consume(self, payload: protocol.AuthPayload) -> None:
        entry = self._pending.pop(payload.challenge, None)
        if entry is None:
            raise ValidationError("challenge", "unknown or already used")
        deadline, issued = entry
        if time.monotonic() > deadline:
            raise ValidationError("challenge", "expired")
        if issued != payload.issued or payload.console_id != self.console_id:
            raise ValidationError("challenge", "was issued by another console or at another time")
