"""One mapping from a refusal's kind to its HTTP status, proctor socket code and kiosk ack code."""

from __future__ import annotations

import pytest

from exam_core import protocol
from exam_core.errors import InvigilError, TamperedError, ValidationError
from proctor_console.errors import (Conflict, ConsoleError, Forbidden, InvalidRequest, NotFound, http_status,
                                    kiosk_ack_code, socket_code)


@pytest.mark.parametrize("error, status, code, ack", [
    (InvalidRequest("x"), 400, "invalid", "invalid"),
    (NotFound("x"), 404, "not_found", "invalid"),
    (Forbidden("x"), 403, "forbidden", "unauthorised"),
    (Conflict("x"), 409, "conflict", "conflict"),
    (ValidationError("field", "x"), 400, "invalid", "invalid"),
    (TamperedError("x"), 400, "refused", "invalid"),
])
def test_each_kind_maps_to_one_status_and_code(error: InvigilError, status: int, code: str, ack: str) -> None:
    assert (http_status(error), socket_code(error), kiosk_ack_code(error)) == (status, code, ack)
    assert ack in protocol.ACK_ERRORS  # a kiosk only ever sees codes its protocol knows


def test_every_console_refusal_is_an_invigil_error_of_one_kind() -> None:
    for kind in (InvalidRequest, NotFound, Forbidden, Conflict):
        assert issubclass(kind, ConsoleError) and issubclass(kind, InvigilError)
