"""Content keys released to one kiosk for one attempt, and the release codes that may guard them.

A form package's content key is wrapped to the centre; the console unwraps it (within the
package's window, with the release code when the package needs one) and wraps it again to the
kiosk's certified HPKE key for that attempt alone, only if the kiosk passes release attestation on
its current connection (when enforced). Every release and every refusal is in the audit chain.
Release codes entered by a centre admin are kept in memory only, never written.
"""

from __future__ import annotations

from typing import Any

from exam_core import package as form_package
from exam_core import protocol
from exam_core.audit import AuditLog
from exam_core.errors import InvigilError, ReleaseCodeError
from exam_core.jsonio import b64e
from exam_core.keys import HpkePrivateKey
from proctor_console.accounts import User
from proctor_console.attestation import AttestationGate
from proctor_console.errors import Conflict, ConsoleError, Forbidden
from proctor_console.packages import Packages
from proctor_console.registry import KioskRegistry


class KeyRelease:
    def __init__(self, registry: KioskRegistry, packages: Packages, gate: AttestationGate, hpke_key: HpkePrivateKey,
                 audit: AuditLog) -> None:
        self.registry = registry
        self.packages = packages
        self.gate = gate
        self.hpke_key = hpke_key
        self.audit = audit
        #: Release codes entered this run, by package id: kept in memory only, never written.
        self.release_codes: dict[str, str] = {}

    def release(self, by: str, kiosk_id: str, attempt_id: str, package_id: str) -> protocol.KeyReleaseArgs:
        """Unwrap the content key (window, centre key, release code) and wrap it to this kiosk."""
        kiosk = self.registry.active(kiosk_id)
        try:
            self.gate.require(kiosk_id)
        except ConsoleError as exc:
            self._refused(by, kiosk_id, attempt_id, str(exc))
            raise
        package, stored = self.packages.load(package_id)
        try:
            content_key = form_package.unwrap_content_key(package, self.hpke_key,
                                                          self.release_codes.get(package.package_id))
        except ReleaseCodeError as exc:
            raise Conflict(f"{exc}: a centre admin enters it on the Packages page") from None
        except InvigilError as exc:
            self._refused(by, kiosk_id, attempt_id, str(exc))
            raise Conflict(f"key release refused: {exc}") from None
        wrapped = form_package.wrap_key_for_kiosk(content_key, kiosk.hpke_public, package.package_id, attempt_id)
        self.audit.append(by, "key.release", {"kiosk_id": kiosk_id, "attempt_id": attempt_id,
                                              "package_id": package.package_id, "kiosk_cert_serial": kiosk.serial})
        return protocol.KeyReleaseArgs(package_id=package.package_id, package_sha256=stored["sha256"],
                                       wrapped_key=b64e(wrapped))

    def enter_code(self, user: User, package_id: str, code: str) -> dict[str, Any]:
        """A centre admin enters a package's release code; kept for this run if it unwraps the key."""
        if not user.is_admin:
            raise Forbidden("only a centre admin enters release codes")
        package, _ = self.packages.load(package_id)
        try:
            form_package.unwrap_content_key(package, self.hpke_key, code)
        except InvigilError as exc:
            self.audit.append(user.name, "package.release_code_refused", {"package_id": package_id,
                                                                          "reason": type(exc).__name__})
            raise Forbidden(f"release code refused: {exc}") from None
        self.release_codes[package_id] = code
        self.audit.append(user.name, "package.release_code", {"package_id": package_id})
        return {"package_id": package_id, "accepted": True}

    def _refused(self, by: str, kiosk_id: str, attempt_id: str, reason: str) -> None:
        self.audit.append(by, "key.release_refused", {"kiosk_id": kiosk_id, "attempt_id": attempt_id,
                                                      "reason": reason})
