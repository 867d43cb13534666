"""Release attestation at intake: the central allow-list of kiosk builds, and the verdict per envelope.

A kiosk seals into its result payload the release attestation it last presented to its console
(``exam_core.attestation``: its code measurement signed with its certified device key over that
connection's login challenge). The console judged it live against the centre's allow-list; the
central body judges it again against its **own** list (``release_allowlist`` in ``results.db``,
``python -m item_bank_sync releases allow|remove|list``), so a centre running an unreleased kiosk
build cannot go unnoticed.

What intake can check: the signature, with the kiosk key that signed the envelope header (the
leaf of the verified chain), the exact shape, that it names the envelope's kiosk, and the
measurement against the list. What it cannot: freshness. The nonce is a console's login challenge,
which only that console knew, so here the nonce is taken as the document states it; the console's
own check is where replay is refused.

Policy: while the list is empty nothing is flagged (the verdict is still recorded). Once it holds
a release, an envelope whose attestation is missing, invalid or of an unknown build is **accepted,
scored and flagged for review** with the reason (``attestation_checks``; shown by ``intake list``
and in the intake results), never dropped: the answers are the candidate's, and whether the build
mattered is a human decision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Engine, delete, select

from exam_core import attestation, protocol, signing
from exam_core.errors import ArtefactError, InvigilError, ValidationError
from exam_core.jsonio import b64d, loads_strict
from exam_core.timestamps import format_time, utc_now
from item_bank_sync.db.sql import fetch_all, upsert, write
from item_bank_sync.trust.schema import attestation_checks, release_allowlist

MEASUREMENT_RE = re.compile(r"^[0-9a-f]{64}$")
MAX_ENTRIES = 1000
PASSED, UNKNOWN_BUILD, INVALID, MISSING = "passed", "unknown_build", "invalid", "missing"


class AllowlistError(InvigilError):
    """A refused change to the central release allow-list (the message names the field)."""


@dataclass(frozen=True)
class AttestationVerdict:
    status: str                 # passed, unknown_build, invalid, missing
    measurement: str | None
    release: str | None
    reason: str
    flagged: bool               # the allow-list is in force and the status is not ``passed``

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "measurement": self.measurement, "release": self.release,
                "reason": self.reason, "flagged": self.flagged}


# --- the allow-list ----------------------------------------------------------------------------------

def allow(results: Engine, measurement: str, release: str, by: str) -> dict[str, str]:
    measurement = measurement.strip().lower()
    if not MEASUREMENT_RE.match(measurement):
        raise AllowlistError(f"measurement {measurement[:80]!r}: must be 64 hex digits "
                             "(`python -m hardening measure` on the release build)")
    if not 0 < len(release.strip()) <= 100 or not 0 < len(by.strip()) <= 100:
        raise AllowlistError("release and by: must be 1-100 characters")
    if measurement not in entries(results) and len(entries(results)) >= MAX_ENTRIES:
        raise AllowlistError(f"release allow-list: already {MAX_ENTRIES} measurements; remove old releases first")
    entry = {"measurement": measurement, "release": release.strip(), "added_by": by.strip(),
             "added_at": format_time(utc_now())}
    with write(results) as conn:
        upsert(conn, release_allowlist, entry, key=["measurement"])
    return entry


def remove(results: Engine, measurement: str) -> None:
    with write(results) as conn:
        gone = conn.execute(delete(release_allowlist)
                            .where(release_allowlist.c.measurement == measurement.strip().lower()))
    if gone.rowcount == 0:
        raise AllowlistError(f"measurement {measurement[:80]!r} is not on the release allow-list")


def entries(results: Engine) -> dict[str, dict[str, str]]:
    """measurement -> {release, added_by, added_at}."""
    a = release_allowlist.c
    return {m: {"release": r, "added_by": b, "added_at": t} for m, r, b, t in fetch_all(
        results, select(a.measurement, a.release, a.added_by, a.added_at).order_by(a.added_at, a.measurement))}


def checks(results: Engine, flagged_only: bool = False) -> list[dict[str, Any]]:
    """The verdict on every accepted envelope's attestation (``intake attestations``), oldest first."""
    c = attestation_checks.c
    query = select(c.envelope_sha256, c.attempt_id, c.status, c.measurement, c.release, c.flagged, c.reason,
                   c.checked_at).order_by(c.checked_at, c.envelope_sha256)
    if flagged_only:
        query = query.where(c.flagged == 1)
    return [{**r._mapping, "flagged": bool(r.flagged)} for r in fetch_all(results, query)]


# --- the verdict ---------------------------------------------------------------------------------------

def judge(document_b64: Any, kiosk_public: Ed25519PublicKey | None, kiosk_id: str,
          allowed: dict[str, dict[str, str]]) -> AttestationVerdict:
    """The verdict on the attestation sealed in an envelope (see the module doc)."""
    enforcing = bool(allowed)
    if document_b64 is None:
        return AttestationVerdict(MISSING, None, None, "the envelope carries no release attestation", enforcing)
    if kiosk_public is None:  # opening an envelope with an attestation always yields the kiosk key
        return AttestationVerdict(INVALID, None, None, "no kiosk key to check the release attestation with",
                                  enforcing)
    try:
        found = _open(document_b64, kiosk_public)
    except (ArtefactError, ValidationError) as exc:
        return AttestationVerdict(INVALID, None, None, f"release attestation does not verify: {exc}", enforcing)
    if found.kiosk_id != kiosk_id:
        return AttestationVerdict(INVALID, found.measurement, None,
                                  f"release attestation names kiosk {found.kiosk_id}, the envelope {kiosk_id}",
                                  enforcing)
    entry = allowed.get(found.measurement)
    if entry is None:
        reason = (f"kiosk {kiosk_id} ran {found.kind} build {found.measurement}, which is not on the central "
                  "release allow-list")
        return AttestationVerdict(UNKNOWN_BUILD, found.measurement, None, reason, enforcing)
    return AttestationVerdict(PASSED, found.measurement, entry["release"], "", False)


def _open(document_b64: Any, kiosk_public: Ed25519PublicKey) -> attestation.Attestation:
    """Signature and shape with the kiosk key; the nonce as stated (freshness is the console's check)."""
    data = b64d(document_b64, "payload.attestation", protocol.MAX_ATTESTATION_BYTES)
    stated = loads_strict(signing.read_unverified(data, protocol.MAX_ATTESTATION_BYTES).payload_bytes,
                          max_bytes=protocol.MAX_ATTESTATION_BYTES)
    if not isinstance(stated, dict):
        raise ValidationError("payload.attestation", "payload is not an object")
    nonce = b64d(stated.get("nonce"), "payload.attestation.nonce", attestation.NONCE_MAX_BYTES)
    return attestation.open_attestation(data, kiosk_public, nonce)


def record(conn: Connection, envelope_sha256: str, attempt_id: str, verdict: AttestationVerdict) -> None:
    """Store the verdict with the accepted attempt (same transaction)."""
    upsert(conn, attestation_checks, {
        "envelope_sha256": envelope_sha256, "attempt_id": attempt_id, "status": verdict.status,
        "measurement": verdict.measurement, "release": verdict.release, "reason": verdict.reason,
        "flagged": int(verdict.flagged), "checked_at": format_time(utc_now())}, key=["envelope_sha256"])
