"""A central body and a test centre for one real kiosk: certificates, a package, and the commands.

Every artefact is made with exam_core as the central body and the console would make it (root and
centre certificates, a signed and encrypted form package, a content key re-wrapped to the kiosk's
HPKE key for one attempt), so the kiosk is tested, benchmarked and demonstrated against real
packages and real envelopes. The console's side of each command (``Command`` records) is built
with exam_core.protocol.

The kiosk's device is handed in (``kiosk.device.Device`` or anything with its pairing surface,
:class:`PairableDevice`): like every simulator this module imports only ``exam_core``, and the
world pairs the device as a console would, by certifying its public keys and storing the pairing.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from exam_core import certs, envelope, formcontent, keys, package, protocol
from exam_core.jsonio import b64e
from exam_core.tls import make_self_signed
from simulators.forms import make_attempt, make_content

T0 = datetime(2020, 1, 1, tzinfo=UTC)


class PairableDevice(Protocol):
    """What the world needs of a kiosk's device (``kiosk.device.Device``): its identity and keys,
    and where pairing and the central root are stored."""

    kiosk_id: str
    signing_key: Any
    hpke_key: keys.HpkePrivateKey
    pairing: dict[str, Any] | None

    def save_pairing(self, pairing: dict[str, Any], documents: dict[str, bytes]) -> None: ...

    def install_central_certificate(self, data: bytes) -> object: ...


DeviceT = TypeVar("DeviceT", bound=PairableDevice)


class TrustWorld(Generic[DeviceT]):
    """Central keys and root, centre ``CENTRE1``, package ``P1`` of form ``F1``, and one attempt,
    with ``device`` paired to the centre (console URL ``http://127.0.0.1:9`` until a test sets one)."""

    def __init__(self, device: DeviceT, attempt_id: str = "ATT1", content: Any = None,
                 **accommodations: Any) -> None:
        self.central_key = keys.generate_signing_key()
        self.results_key = keys.generate_hpke_key(keys.SUITE_X25519)
        self.root_cert = certs.make_root_certificate(self.central_key, "central", self.results_key.public_key())
        self.centre_key = keys.generate_signing_key()
        self.centre_hpke = keys.generate_hpke_key(keys.SUITE_X25519)
        self.centre_cert = certs.issue_certificate(self.central_key, "central", "CENTRE1", certs.ROLE_CENTRE,
                                                   self.centre_key.public_key(), self.centre_hpke.public_key())
        self.device = device
        kiosk_cert = certs.issue_certificate(self.centre_key, "CENTRE1", device.kiosk_id, certs.ROLE_KIOSK,
                                             device.signing_key.public_key(), device.hpke_key.public_key())
        device.save_pairing({"console_url": "http://127.0.0.1:9", "console_id": "console1",
                             "centre_id": "CENTRE1", "tls_fingerprint_sha256": None},
                            {"kiosk.cert": kiosk_cert, "centre.cert": self.centre_cert})
        device.install_central_certificate(self.root_cert)
        form, media = content or make_content()
        self.content_bytes = formcontent.encode(form.to_dict(), media)
        self.package_bytes, _ = package.build_form_package(
            self.content_bytes, package_id="P1", form_id="F1", form_version=1, scheme_id="S1",
            centre_id="CENTRE1", opens=T0, closes=datetime.now(UTC) + timedelta(days=1),
            signing_key=self.central_key, centre_hpke_public=self.centre_hpke.public_key())
        self.package_sha = hashlib.sha256(self.package_bytes).hexdigest()
        opened = package.read_form_package(self.package_bytes, self.central_key.public_key())
        self.content_key = package.unwrap_content_key(opened, self.centre_hpke)
        self.attempt = make_attempt(attempt_id, **accommodations)
        self._n = 0

    def console_tls(self, directory: Path) -> tuple[Path, Path]:
        """A console TLS certificate and key (exam_core.tls, as the console makes them), pinned on
        this kiosk as pairing pins it: for a FakeConsole(tls=...)."""
        cert, key = directory / "console-tls.pem", directory / "console-tls.key"
        fingerprint = make_self_signed(cert, key, "fake-console")
        self.device.save_pairing(dict(self.device.pairing or {}, tls_fingerprint_sha256=fingerprint),
                                 {"console-tls.pem": cert.read_bytes()})
        return cert, key

    def command(self, kind: str, args: dict[str, Any], attempt_id: str | None = None) -> protocol.Command:
        """A console command as the console issues it, with a fresh command id (an id, not a secret)."""
        self._n += 1
        command_id = hashlib.md5(f"{kind}{self._n}{id(self)}".encode(), usedforsecurity=False).hexdigest()
        return protocol.Command.from_dict({
            "v": 1, "command_id": command_id,
            "type": kind, "issued": "2026-01-01T00:00:00Z",
            "attempt_id": attempt_id or self.attempt.attempt_id, "args": args, "issued_by": "proctor1"})

    def admit(self) -> protocol.Command:
        """Admit the world's attempt, naming the package the kiosk must hold."""
        return self.command("admit", {"attempt": self.attempt.to_dict(), "package_sha256": self.package_sha,
                                      "package_size": len(self.package_bytes), "identity_checked_by": "proctor1"})

    def release(self, kind: str = "start") -> protocol.Command:
        """Start (or ``kind``) with the content key re-wrapped to this kiosk for this attempt."""
        wrapped = package.wrap_key_for_kiosk(self.content_key, self.device.hpke_key.public_key(), "P1",
                                             self.attempt.attempt_id)
        return self.command(kind, {"package_id": "P1", "package_sha256": self.package_sha,
                                   "wrapped_key": b64e(wrapped)})

    def open_envelope(self, data: bytes) -> tuple[envelope.EnvelopeHeader, dict[str, Any]]:
        """Open a sealed envelope as the central body does (header, payload)."""
        return envelope.open_envelope(data, self.results_key, self.central_key.public_key())
