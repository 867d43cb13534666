"""Release attestation: which code and which hardening policy is this kiosk running?

The kiosk measures itself (SHA-256 over a canonical list of its code files, or over the frozen
PyInstaller binary, plus the exact bytes of its hardening policy), signs the measurement with its
device key together with the console's login challenge of that connection, and sends it in
``hello``. The console checks the signature, the nonce (no replay) and the measurement against the
allow-list of released builds (``exam_core.attestation``, which also holds the document format),
and refuses to start exams on a kiosk that does not match.

What this proves, and what it cannot (see docs/HARDENING.md): it detects a kiosk that runs
modified or unreleased code *through an honest interpreter*, and a wrong policy. It cannot detect
an attacker who controls the measuring code itself (a patched interpreter, root on the kiosk with
the device key): such an attacker simply reports the released measurement. Only a hardware root
of trust (a TPM quote over measured-boot PCRs and IMA) closes that gap.

Only the measuring lives here (it reads the kiosk's own files); the wire format and its
verification are in ``exam_core.attestation`` so the console can use them without importing a
kiosk-side package.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exam_core.attestation import make_attestation_document
from exam_core.errors import ValidationError
from exam_core.jsonio import canonical_dumps
from hardening.policy import Policy

__all__ = ["Measurement", "code_files", "make_attestation", "measure"]

MEASUREMENT_FORMAT = "invigil-measurement-v1"
MEASURED_PACKAGES = ("exam_core", "kiosk", "hardening")
FROZEN_ENTRY = "frozen:executable"


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
    file (code and package data) of the installed ``exam_core``, ``kiosk`` and ``hardening``
    packages (a missing package is listed as ``absent`` so it changes the measurement instead of
    being silently skipped).
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


def make_attestation(device_signing_key: Ed25519PrivateKey, measurement: Measurement, nonce: bytes,
                     kiosk_id: str) -> bytes:
    """A signed document (``exam_core.attestation`` format) binding the measurement to this kiosk
    and the nonce: the login challenge of the connection it is sent on. Cheap (one signature), so
    the kiosk measures once at start and attests once per connection."""
    return make_attestation_document(device_signing_key, kiosk_id=kiosk_id, nonce=nonce,
                                     measurement=measurement.digest, kind=measurement.kind,
                                     policy_sha256=measurement.policy_sha256, files=len(measurement.files))
