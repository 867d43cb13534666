"""Purpose strings bound into every signature, HPKE ``info`` and AEAD AAD.

A purpose says what a signature or ciphertext is for. Each is bound together with the format
version (``invigil/v1``) into the exact bytes that are signed or authenticated, so a signature
made for a receipt can never be presented as a certificate, and a key sealed for one kiosk
release cannot be replayed as a form content key.

A purpose is 1-64 characters of ``a-z``, ``0-9`` and ``-``, starting with a letter; tiers may
use their own purposes (``check_purpose`` enforces the syntax), but shared ones live here.
"""

from __future__ import annotations

import json
import re

from exam_core.errors import ValidationError

#: Format version prefix of every signed message, HPKE info and AEAD AAD.
DOMAIN = b"invigil/v1"

CERTIFICATE = "certificate"
REVOCATION_LIST = "revocation-list"
FORM_MANIFEST = "form-manifest"
FORM_CONTENT = "form-content"
FORM_CONTENT_KEY = "form-content-key"
FORM_KEY_CHECK = "form-key-check"
FORM_RELEASE_CODE = "form-release-code"
CONTENT_KEY_RELEASE = "content-key-release"
ENVELOPE_HEADER = "envelope-header"
RESPONSE_ENVELOPE = "response-envelope"
RECEIPT = "receipt"
AUDIT_CHECKPOINT = "audit-checkpoint"
KIOSK_CHALLENGE = "kiosk-challenge"
KIOSK_ATTESTATION = "kiosk-attestation"
PRIVATE_KEY_FILE = "private-key-file"
KIOSK_REVOCATION = "kiosk-revocation"
SYNC_REQUEST = "sync-request"
#: The console <-> central documents of ``exam_core.sync_wire``.
SYNC_PACKAGE_LIST = "sync-package-list"
BUNDLE_TO_CENTRE = "sync-bundle-to-centre"
BUNDLE_TO_CENTRAL = "sync-bundle-to-central"
CENTRE_ENROLMENT_REQUEST = "centre-enrolment-request"
#: A session's signed roster (``exam_core.roster_wire``), central body -> centre.
SESSION_ROSTER = "session-roster"

ALL = frozenset({
    CERTIFICATE, REVOCATION_LIST, FORM_MANIFEST, FORM_CONTENT, FORM_CONTENT_KEY,
    FORM_KEY_CHECK, FORM_RELEASE_CODE, CONTENT_KEY_RELEASE, ENVELOPE_HEADER,
    RESPONSE_ENVELOPE, RECEIPT, AUDIT_CHECKPOINT, KIOSK_CHALLENGE, KIOSK_ATTESTATION, PRIVATE_KEY_FILE,
    KIOSK_REVOCATION, SYNC_REQUEST, SYNC_PACKAGE_LIST, BUNDLE_TO_CENTRE, BUNDLE_TO_CENTRAL,
    CENTRE_ENROLMENT_REQUEST, SESSION_ROSTER,
})

_PURPOSE_RE = re.compile(r"[a-z][a-z0-9-]{0,63}")


def check_purpose(purpose: str) -> bytes:
    """Return the purpose as bytes, refusing anything that could blur the NUL-separated framing."""
    if not isinstance(purpose, str) or not _PURPOSE_RE.fullmatch(purpose):
        raise ValidationError("purpose", f"{purpose!r} is not 1-64 of [a-z0-9-] starting with a letter")
    return purpose.encode("ascii")


def bind(purpose: str, context: bytes = b"") -> bytes:
    """The domain-separated prefix ``invigil/v1 NUL purpose NUL context`` used as info/AAD/message."""
    return DOMAIN + b"\x00" + check_purpose(purpose) + b"\x00" + bytes(context)


def context(*parts: str) -> bytes:
    """Several identifiers as one unambiguous context: the compact JSON array of the strings.

    ``context("a", "b")`` can never equal ``context("a\\x00b")`` or ``context("ab")``, unlike naive
    concatenation.
    """
    for part in parts:
        if not isinstance(part, str):
            raise ValidationError("context", f"parts must be strings, got {type(part).__name__}")
    return json.dumps(list(parts), separators=(",", ":"), ensure_ascii=True).encode("ascii")
