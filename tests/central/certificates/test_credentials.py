"""Certificates issued on a pass decision as Open Badges 3.0 VC-JWTs, checked by an independent
verifier: PyJWT (its EdDSA support over pyca/cryptography, a JOSE implementation the product does
not use), given the issuer's JWKS; the status lists decoded as a verifier would (gzip, base64url)."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from datetime import timedelta

import jwt
import pytest

from item_bank_sync.certificates.credential import OB_CONTEXT, VC_CONTEXT, vc_time_epoch
from item_bank_sync.certificates.registry import CertificateRefused, Holder
from item_bank_sync.certificates.status_list import LIST_SIZE, status_list_credential
from exam_core.errors import ValidationError
from exam_core.timestamps import parse_time, utc_now
from item_bank_sync.certificates.schema import certificates
from item_bank_sync.db.sql import write
from tests.support.central_certificates import DECIDER, PUBLIC_URL, Passed, passed_world


@pytest.fixture
def passed(tmp_path) -> Iterator[Passed]:
    p = passed_world(tmp_path / "central")
    yield p
    p.ctx.close()


def verify_with_pyjwt(token: str, jwks: dict) -> dict:
    """What an outside verifier does: the key named by ``kid`` from the JWKS, EdDSA only."""
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWKSet.from_dict(jwks)[kid].key
    return jwt.decode(token, key=key, algorithms=["EdDSA"], options={"verify_aud": False})


def flip_one_byte(token: str) -> str:
    """The token with one byte of its payload changed, still a well-formed credential (so only the
    signature can refuse it)."""
    head, body, sig = token.split(".")
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    forged = raw.replace(b"Test body", b"Test bodz", 1)
    assert sum(a != b for a, b in zip(raw, forged)) == 1
    return f"{head}.{base64.urlsafe_b64encode(forged).rstrip(b'=').decode()}.{sig}"


def bits_of(encoded: str) -> bytes:
    assert encoded.startswith("u")
    return gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))


def is_set(bits: bytes, index: int) -> bool:
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def test_a_pass_issues_an_open_badge_credential_that_an_independent_library_verifies(passed):
    registry = passed.registry()
    cert = registry.issue(passed.attempt_id, DECIDER)
    header = jwt.get_unverified_header(cert.jwt)
    assert header == {"alg": "EdDSA", "typ": "JWT", "kid": header["kid"]}
    jwks = registry.keys.jwks()
    assert jwks["keys"][0]["kty"] == "OKP" and jwks["keys"][0]["crv"] == "Ed25519"
    claims = verify_with_pyjwt(cert.jwt, jwks)
    assert claims["@context"] == [VC_CONTEXT, OB_CONTEXT]
    assert claims["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert claims["iss"] == claims["issuer"]["id"] == f"{PUBLIC_URL}/issuer"
    assert claims["issuer"]["type"] == ["Profile"] and claims["issuer"]["name"] == "Test body"
    assert claims["nbf"] == vc_time_epoch(claims["validFrom"]) and claims["exp"] == vc_time_epoch(claims["validUntil"])
    assert claims["jti"] == claims["id"] == cert.credential_id and "sub" not in claims   # the subject has no id
    subject = claims["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["identifier"][0]["identityHash"] == cert.holder_name
    assert subject["achievement"]["achievementType"] == "Certification"
    assert subject["achievement"]["version"] == "1" and subject["achievement"]["humanCode"] == cert.certificate_id
    purposes = {s["statusPurpose"]: s for s in claims["credentialStatus"]}
    assert set(purposes) == {"revocation", "suspension"}
    assert purposes["suspension"]["type"] == "BitstringStatusListEntry"
    assert purposes["suspension"]["statusListCredential"] == f"{PUBLIC_URL}/status/suspension"
    with pytest.raises(jwt.InvalidSignatureError):
        verify_with_pyjwt(flip_one_byte(cert.jwt), jwks)


def test_the_certificate_has_what_iso_17024_9_4_asks_and_the_holder_agreement(passed):
    cert = passed.registry().issue(passed.attempt_id, DECIDER)
    assert cert.certificate_id.startswith("IC-") and cert.state == "valid"
    assert (cert.scheme_id, cert.scheme_version, cert.scope) == ("S1", 1, ["Scheme"])
    assert cert.valid_until[:4] == str(int(cert.valid_from[:4]) + 3)      # default period: 36 months
    assert cert.holder_name_source == "result" and cert.holder_name == "cand-att-1"
    assert cert.agreement_version == "holder-agreement/1" and cert.agreement_accepted_at == cert.issued_at
    assert passed.registry().issue(passed.attempt_id, DECIDER).certificate_id == cert.certificate_id  # once
    assert [h["action"] for h in passed.registry().history(cert.certificate_id)] == ["issue"]


def test_the_holder_name_comes_from_the_person_record_when_there_is_one(passed):
    lookup = {"cand-att-1": Holder("Ada Lovelace", "person")}.get
    cert = passed.registry(holder_lookup=lookup).issue(passed.attempt_id, DECIDER)
    assert (cert.holder_name, cert.holder_name_source) == ("Ada Lovelace", "person")


def test_no_certificate_without_a_pass_decision(passed):
    with pytest.raises(CertificateRefused, match="not in the results"):
        passed.registry().issue("att-none", DECIDER)


def test_status_actions_refuse_the_proctor_and_the_markers_and_show_in_the_lists(passed):
    registry = passed.registry()
    cert = registry.issue(passed.attempt_id, DECIDER)
    entries = {s["statusPurpose"]: int(s["statusListIndex"])
               for s in verify_with_pyjwt(cert.jwt, registry.keys.jwks())["credentialStatus"]}
    until = utc_now().replace(year=utc_now().year + 1)
    for person in ("Pat Proctor", "mia  MARKER", "Max Marker"):
        with pytest.raises(CertificateRefused, match="impartiality"):
            registry.suspend(cert.certificate_id, person, "complaint under investigation", until)
    assert registry.get(cert.certificate_id).state == "valid"
    registry.suspend(cert.certificate_id, "Sam Supervisor", "complaint under investigation", until)
    assert registry.get(cert.certificate_id).state == "suspended"
    assert registry.status_indexes("suspension") == [entries["suspension"]]
    registry.restore(cert.certificate_id, "Sam Supervisor", "complaint unfounded")
    assert registry.status_indexes("suspension") == []
    registry.withdraw(cert.certificate_id, "Sam Supervisor", "misuse of the certificate")
    assert registry.status_indexes("revocation") == [entries["revocation"]]
    assert registry.get(cert.certificate_id).state == "withdrawn"
    with pytest.raises(CertificateRefused, match="is withdrawn"):
        registry.restore(cert.certificate_id, "Sam Supervisor", "too late")
    actions = [(h["action"], h["decided_by"]) for h in registry.history(cert.certificate_id)]
    assert actions == [("issue", "dana decider"), ("suspend", "sam supervisor"), ("restore", "sam supervisor"),
                       ("withdraw", "sam supervisor")]
    audited = [e.action for e in passed.ctx.audit_log().entries() if e.action.startswith("certificate.")]
    assert audited == ["certificate.issue", "certificate.suspend", "certificate.restore", "certificate.withdraw"]


def test_reducing_the_scope_supersedes_the_credential(passed, tmp_path):
    registry = passed.registry()
    cert = registry.issue(passed.attempt_id, DECIDER)
    old = verify_with_pyjwt(cert.jwt, registry.keys.jwks())
    # The world's scheme has a single scope entry; a scheme with areas is reduced to some of them.
    with pytest.raises(Exception, match="non-empty part"):
        registry.reduce_scope(cert.certificate_id, "Sam Supervisor", "area no longer practised", ["Scheme"])
    with write(passed.ctx.open_bank_db()) as conn:   # as if issued under a scheme with two areas
        conn.execute(certificates.update().values(scope_json=json.dumps(["Safety", "Electrical"])))
    reduced = registry.reduce_scope(cert.certificate_id, "Sam Supervisor", "area no longer practised", ["Safety"])
    assert reduced.state == "scope reduced" and reduced.scope == ["Safety"]
    new = verify_with_pyjwt(reduced.jwt, registry.keys.jwks())
    assert new["credentialSubject"]["achievement"]["tag"] == ["Safety"] and new["jti"] != old["jti"]
    old_revocation = next(int(s["statusListIndex"]) for s in old["credentialStatus"]
                          if s["statusPurpose"] == "revocation")
    assert registry.status_indexes("revocation") == [old_revocation]


def test_expire_due_and_key_rotation_keep_old_credentials_verifiable(passed):
    registry = passed.registry()
    cert = registry.issue(passed.attempt_id, DECIDER)
    registry.keys.rotate("Ivy Admin")
    jwks = registry.keys.jwks()
    assert len(jwks["keys"]) == 2
    verify_with_pyjwt(cert.jwt, jwks)                             # signed by the retired key, still in the set
    assert registry.expire_due("Sam Supervisor") == []
    with write(passed.ctx.open_bank_db()) as conn:
        conn.execute(certificates.update().values(valid_until="2020-01-01T00:00:00Z"))
    assert registry.get(cert.certificate_id).state == "expired"   # by date, before anyone runs expire-due
    assert registry.expire_due("Sam Supervisor") == [cert.certificate_id]
    assert registry.get(cert.certificate_id).status == "expired"


def test_the_status_list_credential_meets_bitstring_status_list_v1(passed):
    registry = passed.registry()
    credential = status_list_credential(registry.issuer(), "suspension", [0, 9, LIST_SIZE - 1], utc_now())
    subject = credential["credentialSubject"]
    assert credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert subject["type"] == "BitstringStatusList" and subject["statusPurpose"] == "suspension"
    bits = bits_of(subject["encodedList"])
    assert len(bits) * 8 == LIST_SIZE == 131_072
    assert [i for i in range(LIST_SIZE) if is_set(bits, i)] == [0, 9, LIST_SIZE - 1]


def test_the_kid_is_a_uri_of_the_served_key_set(passed):
    registry = passed.registry()
    cert = registry.issue(passed.attempt_id, DECIDER)
    kid = jwt.get_unverified_header(cert.jwt)["kid"]
    assert kid.startswith(f"{PUBLIC_URL}/.well-known/jwks.json#")
    assert [k["kid"] for k in registry.keys.jwks()["keys"]] == [kid]


def test_a_renewal_supersedes_the_credential_and_overdue_suspensions_are_listed(passed):
    registry = passed.registry()
    cert = registry.issue(passed.attempt_id, DECIDER)
    old = verify_with_pyjwt(cert.jwt, registry.keys.jwks())
    later = parse_time(cert.valid_until).replace(year=parse_time(cert.valid_until).year + 3)
    with pytest.raises(ValidationError, match="later"):
        registry.renew(cert.certificate_id, "Sam Supervisor", "CPD complete", parse_time(cert.valid_from))
    renewed = registry.renew(cert.certificate_id, "Sam Supervisor", "CPD complete and audited", later)
    new = verify_with_pyjwt(renewed.jwt, registry.keys.jwks())
    assert new["validUntil"][:4] == str(later.year) and new["jti"] != old["jti"]
    assert registry.status_indexes("revocation") == [int(entry["statusListIndex"]) for entry in old["credentialStatus"]
                                                     if entry["statusPurpose"] == "revocation"]
    registry.suspend(cert.certificate_id, "Sam Supervisor", "CPD evidence missing", utc_now() + timedelta(days=1))
    assert registry.suspensions_overdue() == []
    with write(passed.ctx.open_bank_db()) as conn:
        conn.execute(certificates.update().values(suspended_until="2020-01-01T00:00:00Z"))
    assert [c.certificate_id for c in registry.suspensions_overdue()] == [cert.certificate_id]
