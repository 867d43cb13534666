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

import sqlite_utils
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exam_core import attestation, protocol, signing
from exam_core.errors import ArtefactError, InvigilError, ValidationError
from exam_core.jsonio import b64d, loads_strict
from exam_core.timestamps import format_time, utc_now
from exam_core.store import immediate_transaction

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

def allow(results: sqlite_utils.Database, measurement: str, release: str, by: str) -> dict[str, str]:
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
    with immediate_transaction(results) as conn:
        conn.execute("INSERT OR REPLACE INTO release_allowlist (measurement, release, added_by, added_at)"
                     " VALUES (:measurement, :release, :added_by, :added_at)", entry)
    return entry


def remove(results: sqlite_utils.Database, measurement: str) -> None:
    with immediate_transaction(results) as conn:
        gone = conn.execute("DELETE FROM release_allowlist WHERE measurement = ?", (measurement.strip().lower(),))
    if gone.rowcount == 0:
        raise AllowlistError(f"measurement {measurement[:80]!r} is not on the release allow-list")


def entries(results: sqlite_utils.Database) -> dict[str, dict[str, str]]:
    """measurement -> {release, added_by, added_at}."""
    return {m: {"release": r, "added_by": b, "added_at": a} for m, r, b, a in results.conn.execute(
        "SELECT measurement, release, added_by, added_at FROM release_allowlist ORDER BY added_at")}


# --- the verdict ---------------------------------------------------------------------------------------

def judge(document_b64: Any, kiosk_public: Ed25519PublicKey, kiosk_id: str,
          allowed: dict[str, dict[str, str]]) -> AttestationVerdict:
    """The verdict on the attestation sealed in an envelope (see the module doc)."""
    enforcing = bool(allowed)
    if document_b64 is None:
        return AttestationVerdict(MISSING, None, None, "the envelope carries no release attestation", enforcing)
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


def record(conn: Any, envelope_sha256: str, attempt_id: str, verdict: AttestationVerdict) -> None:
    """Store the verdict with the accepted attempt (same transaction)."""
    conn.execute("INSERT OR REPLACE INTO attestation_checks (envelope_sha256, attempt_id, status, measurement,"
                 " release, reason, flagged, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (envelope_sha256, attempt_id, verdict.status, verdict.measurement, verdict.release,
                  verdict.reason, int(verdict.flagged), format_time(utc_now())))
