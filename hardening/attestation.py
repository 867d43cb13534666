"""Release attestation: which code and which hardening policy is this kiosk running?

The kiosk measures itself (SHA-256 over a canonical list of its code files, or over the frozen
PyInstaller binary, plus the exact bytes of its hardening policy), signs the measurement with its
device key together with the console's fresh nonce, and sends it in ``hello``. The console checks
the signature, the nonce (no replay) and the measurement against the allow-list of the release it
expects, and refuses to start exams on a kiosk that does not match.

What this proves, and what it cannot (see docs/HARDENING.md): it detects a kiosk that runs
modified or unreleased code *through an honest interpreter*, and a wrong policy. It cannot detect
an attacker who controls the measuring code itself (a patched interpreter, root on the kiosk with
the device key): such an attacker simply reports the released measurement. Only a hardware root
of trust (a TPM quote over measured-boot PCRs and IMA) closes that gap.

``verify_attestation`` depends on ``exam_core`` only, so the console can use the same code once it
moves next to the wire formats; the kiosk side needs nothing from the console.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from exam_core import signing
from exam_core.errors import ExpiredError, MalformedError, UntrustedError, ValidationError
from exam_core.jsonio import b64d, b64e, canonical_dumps
from hardening.policy import Policy

#: Purpose bound into the attestation signature (kiosk-local until exam_core.purposes lists it).
PURPOSE = "kiosk-attestation"
ATTESTATION_FORMAT = "invigil-attestation"
MEASUREMENT_FORMAT = "invigil-measurement-v1"
MEASURED_PACKAGES = ("exam_core", "kiosk", "hardening")
FROZEN_ENTRY = "frozen:executable"
NONCE_MIN_BYTES, NONCE_MAX_BYTES = 16, 64
KIOSK_ID_MAX = 128


class NotAllowlistedError(UntrustedError):
    """The kiosk's measurement is not one of the release's allowed measurements."""


class StaleAttestationError(ExpiredError):
    """The attestation answers another nonce: replayed, or made for another connection."""


@dataclass(frozen=True)
class Measurement:
    digest: str
    kind: str  # "source" or "frozen"
    files: tuple[tuple[str, str], ...]  # (relative path, SHA-256), sorted
    policy_sha256: str

    def to_dict(self) -> dict:
        data = asdict(self)
        data["files"] = [list(entry) for entry in self.files]
        return data


@dataclass(frozen=True)
class AttestationResult:
    kiosk_id: str
    measurement: str
    release: str
    kind: str
    policy_sha256: str


def _file_sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _package_dir(name: str) -> Path | None:
    """Where a package is installed, found without importing it (hardening never imports kiosk)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _tree_files(directory: Path, label: str) -> list[tuple[str, str]]:
    """Every file of a package tree except byte-code caches: the .py files, and also the templates,
    scripts and policies shipped as package data, since a changed candidate page is changed code."""
    return [(f"{label}/{path.relative_to(directory).as_posix()}", _file_sha256(path))
            for path in sorted(directory.rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"]


def code_files(paths: Sequence[str | Path] | None = None) -> tuple[str, list[tuple[str, str]]]:
    """The measured (relative path, SHA-256) list and its kind.

    Without ``paths``: the frozen executable when running from PyInstaller, else every ``.py``
    file (code and package data) of the installed ``exam_core``, ``kiosk`` and ``hardening`` packages (a missing package is
    listed as ``absent`` so it changes the measurement instead of being silently skipped).
    """
    if paths is None and getattr(sys, "frozen", False):
        return "frozen", [(FROZEN_ENTRY, _file_sha256(Path(sys.executable)))]
    files: list[tuple[str, str]] = []
    if paths is None:
        for name in MEASURED_PACKAGES:
            directory = _package_dir(name)
            files += _tree_files(directory, name) if directory else [(f"{name}/", "absent")]
        return "source", files
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += _tree_files(path, path.name)
        elif path.is_file():
            files.append((path.name, _file_sha256(path)))
        else:
            raise ValidationError("paths", f"{path}: no such file or directory")
    return "source", files


def measure(policy: Policy | bytes, paths: Sequence[str | Path] | None = None) -> Measurement:
    """SHA-256 over the canonical JSON of the sorted file list and the policy's SHA-256."""
    policy_bytes = policy.source_bytes if isinstance(policy, Policy) else bytes(policy)
    kind, files = code_files(paths)
    ordered = tuple(sorted(files))
    if len({name for name, _ in ordered}) != len(ordered):
        raise ValidationError("paths", "two measured files share a relative path")
    policy_sha = hashlib.sha256(policy_bytes).hexdigest()
    document = {"format": MEASUREMENT_FORMAT, "kind": kind, "files": [list(f) for f in ordered],
                "policy_sha256": policy_sha}
    return Measurement(hashlib.sha256(canonical_dumps(document)).hexdigest(), kind, ordered, policy_sha)


def _check_nonce(nonce: bytes) -> bytes:
    if not isinstance(nonce, (bytes, bytearray)) or not NONCE_MIN_BYTES <= len(nonce) <= NONCE_MAX_BYTES:
        raise ValidationError("nonce", f"must be {NONCE_MIN_BYTES}-{NONCE_MAX_BYTES} bytes")
    return bytes(nonce)


def make_attestation(device_signing_key: Ed25519PrivateKey, measurement: Measurement, nonce: bytes,
                     kiosk_id: str) -> bytes:
    """A signed document binding the measurement to this kiosk and the console's fresh nonce."""
    if not isinstance(kiosk_id, str) or not 0 < len(kiosk_id) <= KIOSK_ID_MAX:
        raise ValidationError("kiosk_id", f"must be 1-{KIOSK_ID_MAX} characters")
    payload = {"format": ATTESTATION_FORMAT, "v": 1, "kiosk_id": kiosk_id,
               "nonce": b64e(_check_nonce(nonce)), "measurement": measurement.digest,
               "kind": measurement.kind, "policy_sha256": measurement.policy_sha256,
               "files": len(measurement.files)}
    return signing.make_signed(device_signing_key, PURPOSE, payload)


_PAYLOAD_FIELDS = {"format", "v", "kiosk_id", "nonce", "measurement", "kind", "policy_sha256", "files"}


def verify_attestation(data: bytes, device_public: Ed25519PublicKey,
                       allowlist: Mapping[str, str] | Iterable[str], nonce: bytes) -> AttestationResult:
    """Console side: signature, shape, nonce, then the allow-list; each failure has its own error.

    ``allowlist`` maps allowed measurements to release labels (or is a plain collection of them).
    Raises the ``exam_core`` artefact errors for a bad document, ``StaleAttestationError`` for
    another nonce and ``NotAllowlistedError`` (whose message says what was measured) otherwise.
    """
    document = signing.open_signed(data, device_public, PURPOSE)
    payload = document.payload
    if set(payload) != _PAYLOAD_FIELDS or payload["format"] != ATTESTATION_FORMAT or payload["v"] != 1:
        raise MalformedError(f"attestation payload must have exactly {sorted(_PAYLOAD_FIELDS)}")
    for name in ("kiosk_id", "measurement", "kind", "policy_sha256"):
        if not isinstance(payload[name], str) or not 0 < len(payload[name]) <= KIOSK_ID_MAX:
            raise MalformedError("must be a short string", name)
    sent_nonce = b64d(payload["nonce"], "nonce", NONCE_MAX_BYTES)
    if not hmac.compare_digest(sent_nonce, _check_nonce(nonce)):
        raise StaleAttestationError("attestation was made for another nonce (replayed?)", "nonce")
    releases = dict(allowlist) if isinstance(allowlist, Mapping) else {m: m for m in allowlist}
    if payload["measurement"] not in releases:
        raise NotAllowlistedError(
            f"kiosk {payload['kiosk_id']} runs {payload['kind']} measurement {payload['measurement']} "
            f"(policy {payload['policy_sha256'][:12]}), which is not an allowed release measurement",
            "measurement")
    return AttestationResult(payload["kiosk_id"], payload["measurement"], releases[payload["measurement"]],
                             payload["kind"], payload["policy_sha256"])
