"""The public site over HTTPS as a verifier meets it: the credential checked by an independent
library (PyJWT, its ``PyJWKClient`` fetching ``/.well-known/jwks.json`` from the running site) and
refused after a one-byte change; the status lists decoded as a verifier does, a suspension in them
at the next request; verification by id, API, search by name only for holders who consented; rate
limits per address that a client cannot dodge by sending its own address header."""

from __future__ import annotations

import base64
import gzip
import json

import jwt
import pytest

from exam_core.timestamps import utc_now
from tests.support.public_site import CONSENTING, Site


def jwks_client(site: Site) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(f"{site.url}/.well-known/jwks.json", cache_keys=False, cache_jwk_set=False,
                           ssl_context=site.tls)


def verify(site: Site, token: str) -> dict:
    key = jwks_client(site).get_signing_key_from_jwt(token)
    return jwt.decode(token, key=key.key, algorithms=["EdDSA"], options={"verify_aud": False})


def served_bit(site: Site, purpose: str, index: int) -> bool:
    """Fetch the status-list credential, verify it, decode its bitstring, read one bit."""
    status, headers, body = site.get(f"/status/{purpose}")
    assert status == 200 and headers["Content-Type"] == "application/vc+jwt"
    assert "no-cache" in headers["Cache-Control"] and "max-age=0" in headers["Cache-Control"]
    claims = verify(site, body.decode())
    assert claims["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    subject = claims["credentialSubject"]
    assert subject["statusPurpose"] == purpose and subject["encodedList"].startswith("u")
    raw = subject["encodedList"][1:]
    bits = gzip.decompress(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    assert len(bits) >= 16 * 1024
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def entry(claims: dict, purpose: str) -> dict:
    return next(s for s in claims["credentialStatus"] if s["statusPurpose"] == purpose)


def test_the_credential_verifies_with_the_served_jwks_and_not_after_a_one_byte_change(site: Site):
    claims = verify(site, site.cert.jwt)
    assert claims["iss"] == f"{site.url}/issuer" and claims["jti"] == site.cert.credential_id
    assert entry(claims, "suspension")["statusListCredential"] == f"{site.url}/status/suspension"
    head, body, sig = site.cert.jwt.split(".")
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    forged = raw.replace(b"Test body", b"Test bodz", 1)          # one byte, still a well-formed credential
    assert len(forged) == len(raw) and sum(a != b for a, b in zip(raw, forged)) == 1
    changed = f"{head}.{base64.urlsafe_b64encode(forged).rstrip(b'=').decode()}.{sig}"
    with pytest.raises(jwt.InvalidSignatureError):
        verify(site, changed)
    status, _headers, body_bytes = site.get("/issuer")
    assert status == 200 and json.loads(body_bytes)["type"] == ["Profile"]


def test_a_suspension_is_in_the_served_status_list_at_the_next_request(site: Site):
    claims = verify(site, site.cert.jwt)
    suspension, revocation = int(entry(claims, "suspension")["statusListIndex"]), \
        int(entry(claims, "revocation")["statusListIndex"])
    assert not served_bit(site, "suspension", suspension)
    until = utc_now().replace(year=utc_now().year + 1)
    site.registry.suspend(site.cert.certificate_id, "Sam Supervisor", "complaint under investigation", until)
    assert served_bit(site, "suspension", suspension)
    assert json.loads(site.get(f"/api/v1/certificates/{site.cert.certificate_id}")[2])["status"] == "suspended"
    site.registry.restore(site.cert.certificate_id, "Sam Supervisor", "complaint unfounded")
    assert not served_bit(site, "suspension", suspension)
    assert not served_bit(site, "revocation", revocation)
    site.registry.withdraw(site.cert.certificate_id, "Sam Supervisor", "misuse")
    assert served_bit(site, "revocation", revocation)


def test_verification_by_id_page_and_api_with_strict_headers(site: Site):
    status, headers, body = site.get(f"/verify/{site.cert.certificate_id}")
    page = body.decode()
    assert status == 200 and "Valid" in page and site.cert.holder_name in page and "Scheme" in page
    assert "script-src" not in headers["Content-Security-Policy"]          # no script at all: default-src 'none'
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY" and headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store" and headers["Strict-Transport-Security"].startswith("max-age=")
    status, _h, body = site.get(f"/api/v1/certificates/{site.cert.certificate_id.lower()}")
    data = json.loads(body)
    assert status == 200 and data["status"] == "valid" and data["scope"] == ["Scheme"]
    assert data["scheme"] == {"id": "S1", "version": 1, "title": "Scheme"}
    assert "candidate_id" not in data and "attempt_id" not in data
    assert site.get("/api/v1/certificates/IC-AAAA-AAAA-AAAA-AAAA")[0] == 404
    assert site.get("/verify/not-an-id")[0] == 404
    assert site.get(f"/verify?id={site.cert.certificate_id}")[0] == 200     # the form's redirect, followed


def test_by_name_only_holders_who_consented_and_only_the_full_name(site: Site):
    found = json.loads(site.get("/api/v1/search?name=ada%20%20LOVELACE")[2])["certificates"]
    assert [c["certificate_id"] for c in found] == [site.consenting.certificate_id]
    assert json.loads(site.get("/api/v1/search?name=Ada")[2])["certificates"] == []       # no partial names
    assert json.loads(site.get("/api/v1/search?name=cand-att-1")[2])["certificates"] == []  # did not consent
    assert site.get("/api/v1/search?name=ab")[0] == 400
    status, _h, body = site.get("/search?name=Ada+Lovelace")
    assert status == 200 and CONSENTING in body.decode()


def test_searches_are_rate_limited_per_address_whatever_address_header_the_client_sends(site: Site):
    answers = [site.get("/api/v1/search?name=Nobody+Known", {"X-Invigil-Peer": f"10.0.0.{i}"})[0]
               for i in range(11)]
    assert answers[:10] == [200] * 10 and answers[10] == 429
    status, _headers, _ = site.get(f"/api/v1/certificates/{site.cert.certificate_id}")
    assert status == 200                                # lookups by id have their own, larger allowance


def test_the_listener_writes_its_own_peer_header_and_connection_close():
    from item_bank_sync.public.server import tag_peer

    head = (b"GET /x HTTP/1.1\r\nHost: a\r\nX-Invigil-Peer: s 6.6.6.6\r\nconnection: keep-alive\r\n"
            b"x-invigil-peer: forged\r\n\r\n")
    assert tag_peer(head, "10.0.0.9", "s3") == (b"GET /x HTTP/1.1\r\nX-Invigil-Peer: s3 10.0.0.9\r\n"
                                                b"Connection: close\r\nHost: a\r\n\r\n")
    assert tag_peer(b"GET / HTTP/1.0\r\n\r\n", "::1", "s3") == \
        b"GET / HTTP/1.0\r\nX-Invigil-Peer: s3 ::1\r\nConnection: close\r\n\r\n"


def test_the_site_serves_a_certificate_issued_for_its_name(tmp_path, site: Site, live_server):
    """``--cert``/``--key``: in production a certificate a public CA issued for the site's name."""
    import ssl
    import urllib.request

    from exam_core.tls import make_self_signed
    from tests.support.ports import find_free_port

    cert, key = tmp_path / "site.crt", tmp_path / "site.key"
    make_self_signed(cert, key, "verify.example.test")
    port = find_free_port()
    live_server("item_bank_sync", "--data", str(site.passed.world.data_dir), "public", "--port", "{port}",
                "--cert", str(cert), "--key", str(key), port=port)
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    with urllib.request.urlopen(f"https://127.0.0.1:{port}/api/v1/certificates/{site.cert.certificate_id}",
                                context=context, timeout=10) as response:
        assert json.loads(response.read())["status"] == "valid"
