"""What the console refuses, by kind, and the one place that maps each kind to its answers.

Every refusal the console makes on purpose is a ``ConsoleError`` (an ``InvigilError``, so a face can
still catch everything at once) of one of five kinds, which is what a caller acts on:

- ``InvalidRequest``: the request itself is wrong (a bad file, a value out of range); asked again
  unchanged it is refused again. HTTP 400, proctor socket ``invalid``, kiosk ack ``invalid``.
- ``NotFound``: it names something the console does not hold. 404, ``not_found``, ``invalid``.
- ``Forbidden``: this actor may not do it (role, declared conflict of interest, a kiosk failing
  release attestation, no pairing code matching). 403, ``forbidden``, ``unauthorised``.
- ``Conflict``: the console's state does not allow it now (exists already, not open, no attempt in
  that state, the centre certificate not installed yet). 409, ``conflict``, ``conflict``.
- ``Throttled``: this client failed too often; it must wait before trying again (a login or a
  pairing after repeated failures, ``throttle.Backoff``). 429, ``throttled``, ``retry``.

``exam_core`` errors keep their own meaning: a ``ValidationError`` (one field of the request) is
``invalid``/400, any other ``InvigilError`` (an artefact refused: tampered, expired, untrusted) is
``invalid``/400 on the web and the kiosk link, and ``refused`` on the proctor socket. The messages
are written for the operator and shown as given.
"""

from __future__ import annotations

from typing import ClassVar

from exam_core.errors import InvigilError, ValidationError


class ConsoleError(InvigilError):
    """A console operation refused for a reason the operator can act on (shown as given)."""

    http_status: ClassVar[int] = 400
    code: ClassVar[str] = "refused"
    kiosk_code: ClassVar[str] = "invalid"


class InvalidRequest(ConsoleError):
    """The request is wrong in itself (a bad upload, a value out of range, an unknown action)."""

    code = "invalid"


class NotFound(ConsoleError):
    """The request names a user, kiosk, package, session, alert or attempt the console does not hold."""

    http_status = 404
    code = "not_found"


class Forbidden(ConsoleError):
    """The acting user or kiosk may not do this (role, conflict of interest, attestation, credentials)."""

    http_status = 403
    code = "forbidden"
    kiosk_code = "unauthorised"


class Conflict(ConsoleError):
    """The console's current state does not allow this (exists already, not open, wrong attempt state)."""

    http_status = 409
    code = "conflict"
    kiosk_code = "conflict"


class Throttled(ConsoleError):
    """This client failed too often (wrong passwords, pairing codes); it must wait before trying again."""

    http_status = 429
    code = "throttled"
    kiosk_code = "retry"


def http_status(exc: InvigilError) -> int:
    """The HTTP status a page or JSON endpoint answers a refusal with."""
    return exc.http_status if isinstance(exc, ConsoleError) else 400


def socket_code(exc: InvigilError) -> str:
    """The ``code`` of a refused proctor action (the dashboard shows the message; tools read the code)."""
    if isinstance(exc, ConsoleError):
        return exc.code
    return "invalid" if isinstance(exc, ValidationError) else "refused"


def kiosk_ack_code(exc: InvigilError) -> str:
    """The ack error code (``exam_core.protocol.ACK_ERRORS``) a kiosk message is refused with."""
    return exc.kiosk_code if isinstance(exc, ConsoleError) else "invalid"
