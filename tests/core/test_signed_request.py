"""exam_core.signed_request: the exact signed bytes (wire compatibility) and the headers."""

import pytest

from exam_core import signing
from exam_core.errors import TamperedError
from exam_core.jsonio import b64d
from exam_core.timestamps import parse_time
from exam_core.signed_request import (HEADER_CENTRE, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIME, PURPOSE,
                                      request_message, sign_request)

NONCE = "0123456789abcdef0123456789abcdef"


def test_message_bytes_are_the_documented_canonical_json():
    message = request_message("c1", "post", "/v1/envelopes", "a=1", b"body", "2026-01-02T03:04:05Z", NONCE)
    assert message == (b'{"body_sha256":"230d8358dc8e8890b4c58deeb62912ee2f20357ae92a5cc861b98e68fe31acb5",'
                       b'"centre":"c1","method":"POST","nonce":"0123456789abcdef0123456789abcdef",'
                       b'"path":"/v1/envelopes","query":"a=1","time":"2026-01-02T03:04:05Z","v":1}')


def test_headers_verify_over_the_rebuilt_message(signing_key):
    headers = sign_request(signing_key, "c1", "GET", "/v1/packages", "", b"")
    assert headers[HEADER_CENTRE] == "c1" and len(headers[HEADER_NONCE]) == 32
    parse_time(headers[HEADER_TIME], "time")
    message = request_message("c1", "GET", "/v1/packages", "", b"", headers[HEADER_TIME], headers[HEADER_NONCE])
    signing.verify(signing_key.public_key(), PURPOSE, message, b64d(headers[HEADER_SIGNATURE], "sig", 64))


def test_fresh_nonce_each_time(signing_key):
    first = sign_request(signing_key, "c1", "GET", "/", "", b"")
    assert first[HEADER_NONCE] != sign_request(signing_key, "c1", "GET", "/", "", b"")[HEADER_NONCE]


@pytest.mark.parametrize("change", [
    ("c2", "GET", "/v1/packages", "", b""), ("c1", "POST", "/v1/packages", "", b""),
    ("c1", "GET", "/v1/packageS", "", b""), ("c1", "GET", "/v1/packages", "x=1", b""),
    ("c1", "GET", "/v1/packages", "", b"x")])
def test_any_changed_field_fails(signing_key, change: tuple[str, str, str, str, bytes]):
    headers = sign_request(signing_key, "c1", "GET", "/v1/packages", "", b"", nonce=NONCE)
    with pytest.raises(TamperedError):
        signing.verify(signing_key.public_key(), PURPOSE, request_message(*change, headers[HEADER_TIME], NONCE),
                       b64d(headers[HEADER_SIGNATURE], "sig", 64))
