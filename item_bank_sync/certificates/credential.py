"""The Open Badges 3.0 ``OpenBadgeCredential`` of a certificate and its VC-JWT (OB 3.0 section 8.2).

The credential is a W3C Verifiable Credential 2.0 (contexts: VC 2.0, then OB 3.0): the issuer's
``Profile``, an ``AchievementSubject`` naming the holder with the ``Achievement`` (the scheme and
version, its scope as the competency areas certified), ``validFrom``/``validUntil`` (the
certification period) and two ``BitstringStatusListEntry`` (revocation and suspension).

Secured as a compact JWS (RFC 7515) whose payload IS the credential, plus the registered claims
OB 3.0 asks for: ``iss`` (the issuer's id), ``nbf`` (``validFrom``), ``exp`` (``validUntil``),
``jti`` (the credential's id) and ``sub`` when the subject has an id. Header: ``alg`` EdDSA,
``typ`` JWT, ``kid`` resolving in ``/.well-known/jwks.json``. The signature is pyca/cryptography's
Ed25519; nothing here is hand-written cryptography, only the JWS framing.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exam_core.errors import InvigilError
from item_bank_sync.certificates.keys import SigningKey, b64url

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
HEADER_TYP = "JWT"
VC_TIME = "%Y-%m-%dT%H:%M:%SZ"


class CredentialError(InvigilError):
    """A VC-JWT that is malformed or whose signature does not verify."""


@dataclass(frozen=True)
class Issuer:
    """The certification body as an OB 3.0 ``Profile``; ``base_url`` is its public site."""

    base_url: str
    name: str

    @property
    def id(self) -> str:
        return f"{self.base_url}/issuer"

    def profile(self) -> dict[str, Any]:
        return {"id": self.id, "type": ["Profile"], "name": self.name, "url": self.base_url}


@dataclass(frozen=True)
class CertificateClaims:
    """What one credential says (ISO/IEC 17024 9.4): holder, certificate id, scheme, scope, dates."""

    credential_id: str            # urn:uuid:..., the JWT's jti
    certificate_id: str
    holder_name: str
    scheme_id: str
    scheme_version: int
    scheme_title: str
    scope: tuple[str, ...]        # competency areas certified
    valid_from: datetime
    valid_until: datetime
    subject_id: str | None = None


def status_entry(list_url: str, purpose: str, index: int) -> dict[str, Any]:
    """A ``BitstringStatusListEntry`` (Bitstring Status List v1.0 section 2.1)."""
    return {"id": f"{list_url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": purpose,
            "statusListIndex": str(index), "statusListCredential": list_url}


def vc_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime(VC_TIME)


def open_badge_credential(issuer: Issuer, claims: CertificateClaims, status: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``OpenBadgeCredential`` document (unsigned)."""
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "identifier": [{"type": "IdentityObject", "identityType": "name", "hashed": False,
                        "identityHash": claims.holder_name}],
        "achievement": achievement(issuer, claims),
    }
    if claims.subject_id:
        subject["id"] = claims.subject_id
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": claims.credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"{claims.scheme_title} (certificate {claims.certificate_id})",
        "issuer": issuer.profile(),
        "validFrom": vc_time(claims.valid_from),
        "validUntil": vc_time(claims.valid_until),
        "credentialSubject": subject,
        "credentialStatus": status,
    }


def achievement(issuer: Issuer, claims: CertificateClaims) -> dict[str, Any]:
    """The scheme and version as an OB 3.0 ``Achievement`` of type Certification, with its scope."""
    scope = ", ".join(claims.scope)
    return {"id": f"{issuer.base_url}/schemes/{claims.scheme_id}/v{claims.scheme_version}",
            "type": ["Achievement"], "achievementType": "Certification", "name": claims.scheme_title,
            "version": str(claims.scheme_version), "humanCode": claims.certificate_id,
            "description": f"Certification {claims.scheme_id} version {claims.scheme_version}; scope: {scope}",
            "criteria": {"narrative": f"Passed the examination of scheme {claims.scheme_id} version "
                                      f"{claims.scheme_version} and certified by {issuer.name}."},
            "tag": list(claims.scope)}


def sign_jwt(payload: dict[str, Any], key: SigningKey) -> str:
    """A compact JWS (``alg`` EdDSA, ``typ`` JWT, ``kid``) over the JSON payload."""
    header = {"alg": "EdDSA", "typ": HEADER_TYP, "kid": key.kid}
    signing_input = ".".join(b64url(json.dumps(part, separators=(",", ":"), ensure_ascii=False).encode())
                             for part in (header, payload))
    return f"{signing_input}.{b64url(key.private.sign(signing_input.encode('ascii')))}"


def vc_jwt(credential: dict[str, Any], key: SigningKey) -> str:
    """The credential as a VC-JWT: the credential's members plus ``iss``, ``nbf``, ``exp``, ``jti``, ``sub``."""
    payload = dict(credential)
    payload["iss"] = credential["issuer"]["id"]
    payload["nbf"] = vc_time_epoch(credential["validFrom"])
    if "validUntil" in credential:
        payload["exp"] = vc_time_epoch(credential["validUntil"])
    payload["jti"] = credential["id"]
    subject_id = credential.get("credentialSubject", {}).get("id")
    if subject_id:
        payload["sub"] = subject_id
    return sign_jwt(payload, key)


def vc_time_epoch(text: str) -> int:
    return int(datetime.strptime(text, VC_TIME).replace(tzinfo=UTC).timestamp())


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def verify_jwt(token: str, public_key_of: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(header, payload)`` of a VC-JWT signed by a key ``public_key_of(kid)`` returns; raises
    :class:`CredentialError` otherwise (the body's own check; tests use an independent library)."""
    try:
        head_b64, body_b64, sig_b64 = token.split(".")
        header = json.loads(_b64decode(head_b64))
        if header.get("alg") != "EdDSA":
            raise CredentialError("not an EdDSA JWS")
        public: Ed25519PublicKey | None = public_key_of(str(header.get("kid", "")))
        if public is None:
            raise CredentialError(f"unknown key id {header.get('kid')!r}")
        public.verify(_b64decode(sig_b64), f"{head_b64}.{body_b64}".encode("ascii"))
        return header, json.loads(_b64decode(body_b64))
    except (ValueError, UnicodeError, InvalidSignature) as exc:
        raise CredentialError(f"credential does not verify: {type(exc).__name__}") from None
