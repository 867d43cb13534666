"""A complete, real trust world for kiosk tests: central body, centre, a paired kiosk, a package.

Every artefact is made with exam_core as the central body and the console would make it (root and
centre certificates, a signed and encrypted form package, a content key re-wrapped to the kiosk's
HPKE key for one attempt), so the kiosk is tested against real packages and real envelopes.
The console's side of each command (``Command`` records) is built with exam_core.protocol.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, UTC
from pathlib import Path
from typing import Any

from exam_core import certs, envelope, formcontent, keys, package, protocol
from exam_core.jsonio import b64e
from exam_core.tls import make_self_signed

from kiosk.device import Device

from tests.kiosk.forms import make_attempt, make_content

T0 = datetime(2020, 1, 1, tzinfo=UTC)


class World:
    def __init__(self, data_dir: Path, kiosk_id: str = "K01", attempt_id: str = "ATT1",
                 content: Any = None, **accommodations: Any) -> None:
        self.central_key = keys.generate_signing_key()
        self.results_key = keys.generate_hpke_key(keys.SUITE_X25519)
        self.root_cert = certs.make_root_certificate(self.central_key, "central", self.results_key.public_key())
        self.centre_key = keys.generate_signing_key()
        self.centre_hpke = keys.generate_hpke_key(keys.SUITE_X25519)
        self.centre_cert = certs.issue_certificate(self.central_key, "central", "CENTRE1", certs.ROLE_CENTRE,
                                                   self.centre_key.public_key(), self.centre_hpke.public_key())
        self.device = Device.load_or_create(data_dir, kiosk_id)
        kiosk_cert = certs.issue_certificate(self.centre_key, "CENTRE1", kiosk_id, certs.ROLE_KIOSK,
                                             self.device.signing_key.public_key(), self.device.hpke_key.public_key())
        self.device.save_pairing({"console_url": "http://127.0.0.1:9", "console_id": "console1",
                                  "centre_id": "CENTRE1", "tls_fingerprint_sha256": None},
                                 {"kiosk.cert": kiosk_cert, "centre.cert": self.centre_cert})
        self.device.install_central_certificate(self.root_cert)
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
        self.device.save_pairing(dict(self.device.pairing, tls_fingerprint_sha256=fingerprint),
                                 {"console-tls.pem": cert.read_bytes()})
        return cert, key

    def command(self, kind: str, args: dict[str, Any], attempt_id: str | None = None) -> protocol.Command:
        self._n += 1
        return protocol.Command.from_dict({
            "v": 1, "command_id": hashlib.md5(f"{kind}{self._n}{id(self)}".encode()).hexdigest(),
            "type": kind, "issued": "2026-01-01T00:00:00Z",
            "attempt_id": attempt_id or self.attempt.attempt_id, "args": args, "issued_by": "proctor1"})

    def admit(self) -> protocol.Command:
        return self.command("admit", {"attempt": self.attempt.to_dict(), "package_sha256": self.package_sha,
                                      "package_size": len(self.package_bytes), "identity_checked_by": "proctor1"})

    def release(self, kind: str = "start") -> protocol.Command:
        wrapped = package.wrap_key_for_kiosk(self.content_key, self.device.hpke_key.public_key(), "P1",
                                             self.attempt.attempt_id)
        return self.command(kind, {"package_id": "P1", "package_sha256": self.package_sha,
                                   "wrapped_key": b64e(wrapped)})

    def open_envelope(self, data: bytes) -> dict[str, Any]:
        opened = envelope.open_envelope(data, self.results_key, self.central_key.public_key())
        return opened


def make_runtime(world: World, data_dir: Path, **kwargs: Any):
    from kiosk.runtime import KeyOpener, KioskRuntime
    return KioskRuntime(data_dir, world.device.kiosk_id, KeyOpener(world.device.unwrap, world.device.decrypt),
                        world.device, **kwargs)


def start_exam(runtime: Any, world: World) -> Any:
    """Admit, cache the package, confirm identity, release the key, accept and begin: the live session."""
    assert runtime.handle_command(world.admit()).ok
    runtime.store_package("P1", world.package_bytes)
    runtime.confirm_identity()
    ack = runtime.handle_command(world.release())
    assert ack.ok, ack.reason
    session = runtime.require_session()
    session.accept_agreement()
    session.begin()
    return session
