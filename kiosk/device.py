"""The kiosk's device identity and trust: keys, certificates, the pinned console certificate.

Layout of ``DIR/device/`` (0700; private keys 0600, written atomically by ``exam_core.keys``)::

    kiosk.json          {"kiosk_id": ...}
    signing.key         Ed25519 device key: login challenges, envelope signatures, attestation
    hpke.key            HPKE key: the console wraps released content keys to it
    pairing.json        console URL and id, centre id, pinned TLS fingerprint (after pairing)
    kiosk.cert          kiosk certificate (signed by the centre) -- from pairing
    centre.cert         centre certificate (signed by the central body) -- from pairing
    central.cert        the central body's root certificate: manifest signatures and results key
    console-tls.pem     the console's TLS certificate, pinned at pairing

Why the central root certificate is a file: the pairing response carries the kiosk and centre
certificates but not the root; the kiosk needs the root's signing key (to check form manifests)
and its HPKE results key (to seal envelopes). It is provisioned with ``--central-cert`` (or by a
later pairing response that carries it).

Why its validity window is checked only when it is installed: installation is the one moment a
person (the technician with the root file, the console's pairing code) stands at the kiosk and its
clock can be compared with the world. After that the kiosk's wall clock is not evidence of anything:
NTP steps it, a candidate or a failing CMOS battery sets it back. A kiosk that re-checked the window
at every seal would refuse a candidate's submission because its clock says 2019. So
``central.cert`` is written only after a full check (signature, role, validity now), and from then
on the kiosk trusts the file it wrote: loading it re-checks the self-signature and role (pure
functions of the bytes) but never the clock. Validity is decided where the envelope is received
(console and central body check the enclosed chain); see :meth:`Device.seal_time` for the one
place the kiosk's clock meets a certificate.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exam_core import certs, envelope, keys, package
from exam_core.errors import InvigilError, KeyFileError, UntrustedError
from exam_core.files import write_atomic
from exam_core.jsonio import b64d
from exam_core.model import Attempt
from exam_core.result import SealStamp
from exam_core.timestamps import format_time, parse_time, utc_now

from kiosk.session import Sealed, receipt_code

KIOSK_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,127}$")
CENTRAL_CERT = "central.cert"


class NotPairedError(InvigilError):
    """The kiosk has no pairing with a console yet (run ``kiosk pair`` or ``kiosk run --pair-code``)."""


def _root_from(data: bytes) -> certs.VerifiedCertificate:
    """A central body's self-signed certificate, its signature and role checked; no time check."""
    unverified = certs.read_unverified_certificate(data)
    if unverified.role != certs.ROLE_CENTRAL:
        raise UntrustedError("not a central body certificate")
    public = keys.ed25519_public_from_raw(b64d(unverified.signing_key, "signing_key", 32))
    verified = certs.read_certificate(data, public)
    if verified.key_id != keys.key_id(public) or verified.cert.issuer_key_id != verified.key_id:
        raise UntrustedError("not the central body's self-signed certificate")
    return verified


@dataclass
class Device:
    """Loaded device identity. ``pairing`` is None until the kiosk is paired."""

    directory: Path
    kiosk_id: str
    signing_key: Ed25519PrivateKey
    hpke_key: keys.HpkePrivateKey
    pairing: dict[str, Any] | None = None
    _central: certs.VerifiedCertificate | None = field(default=None, repr=False)

    # --- loading and creation ------------------------------------------------------------------

    @classmethod
    def load_or_create(cls, data_dir: str | Path, kiosk_id: str | None = None) -> Device:
        directory = Path(data_dir) / "device"
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        info_path = directory / "kiosk.json"
        if info_path.exists():
            info = json.loads(info_path.read_text())
            if kiosk_id and kiosk_id != info["kiosk_id"]:
                raise KeyFileError(f"{info_path}: this kiosk is {info['kiosk_id']}, not {kiosk_id}")
        else:
            chosen = kiosk_id or f"kiosk-{secrets.token_hex(4)}"
            if not KIOSK_ID_RE.match(chosen):
                raise KeyFileError(f"kiosk id {chosen!r} must match {KIOSK_ID_RE.pattern}")
            keys.save_private_key(directory / "signing.key", keys.generate_signing_key())
            keys.save_private_key(directory / "hpke.key", keys.generate_hpke_key())
            info = {"kiosk_id": chosen}
            write_atomic(info_path, json.dumps(info).encode(), 0o600)
        pairing_path = directory / "pairing.json"
        pairing = json.loads(pairing_path.read_text()) if pairing_path.exists() else None
        return cls(directory, info["kiosk_id"], keys.load_signing_key(directory / "signing.key"),
                   keys.load_hpke_key(directory / "hpke.key"), pairing)

    def file(self, name: str) -> Path:
        return self.directory / name

    @property
    def paired(self) -> bool:
        return self.pairing is not None

    def save_pairing(self, pairing: dict[str, Any], documents: dict[str, bytes]) -> None:
        for name, data in documents.items():
            write_atomic(self.file(name), data, 0o600)
        write_atomic(self.file("pairing.json"), json.dumps(pairing, indent=1).encode(), 0o600)
        self.pairing = pairing

    def install_central_certificate(self, data: bytes) -> certs.VerifiedCertificate:
        """Install the central body's root certificate after checking it is a valid root *now*.

        Installing the very bytes already installed is a no-op that checks no clock: ``kiosk run
        --central-cert`` repeats the installation at every start, including the restart after a
        crash mid-exam, when the kiosk's clock may be anything (see the module docstring).
        """
        path = self.file(CENTRAL_CERT)
        if path.exists() and path.read_bytes() == bytes(data):
            return self.central()
        verified = _root_from(bytes(data))
        verified.check_valid_at(utc_now())
        if verified.hpke_public is None:
            raise UntrustedError("the central certificate carries no results key: envelopes could not be sealed")
        write_atomic(path, bytes(data), 0o600)
        self._central = verified
        return verified

    # --- trust ---------------------------------------------------------------------------------

    def central(self) -> certs.VerifiedCertificate:
        """The installed root, verified when installed; cached, and never checked against the clock."""
        if self._central is None:
            path = self.file(CENTRAL_CERT)
            if not path.exists():
                raise NotPairedError(f"{path}: the central body's certificate is not installed "
                                     "(kiosk run --central-cert FILE)")
            self._central = _root_from(path.read_bytes())
        return self._central

    def check_pairing_chain(self, centre_cert: bytes, kiosk_cert: bytes) -> None:
        """At pairing, while someone is at the console: the certificates the console issued must
        chain to the installed central root and certify this kiosk's own keys, or every envelope
        sealed under them would be refused at the central body much later.

        The chain is checked at the kiosk certificate's own issue time (``not_before``), when it
        must have been valid: again a decision that does not hang on this kiosk's clock. Without
        an installed root there is nothing to check against yet (the envelope checks remain).
        """
        if not self.file(CENTRAL_CERT).exists():
            return
        issued = parse_time(certs.read_unverified_certificate(kiosk_cert).not_before, "not_before")
        *_, leaf = certs.verify_chain([centre_cert, kiosk_cert], self.central().signing_public, at=issued,
                                      leaf_role=certs.ROLE_KIOSK)
        mine = (keys.key_id(self.signing_key.public_key()), keys.key_id(self.hpke_key.public_key()))
        hpke = keys.key_id(leaf.hpke_public) if leaf.hpke_public is not None else None
        if leaf.cert.subject != self.kiosk_id or (leaf.key_id, hpke) != mine:
            raise UntrustedError(f"the console certified {leaf.cert.subject} with other keys than this kiosk's")

    def chain(self) -> list[bytes]:
        """``[centre certificate, kiosk certificate]`` as the envelope carries them."""
        if not self.paired:
            raise NotPairedError("the kiosk is not paired with a console")
        return [self.file("centre.cert").read_bytes(), self.file("kiosk.cert").read_bytes()]

    def seal_time(self, chain: list[bytes]) -> datetime:
        """The envelope header's ``created``: the kiosk's clock, but never before its certificates.

        The console and the central body check the enclosed chain at ``created``. A kiosk clock
        that reads earlier than the issue time of the certificates this very envelope is signed
        under is provably wrong (they did not exist yet), and would get a finished attempt refused;
        the newest ``not_before`` is the earliest true time the kiosk can prove, so ``created`` is
        raised to it. The clock's own reading travels in the sealed payload (``sealed``).
        """
        floor = max(certs.read_unverified_certificate(doc).not_before for doc in chain)
        return max(utc_now(), parse_time(floor, "not_before"), self.central().not_before)

    # --- what the runtime needs ------------------------------------------------------------------

    def unwrap(self, wrapped: bytes, package_id: str, attempt_id: str) -> bytes:
        return package.unwrap_released_key(wrapped, self.hpke_key, package_id, attempt_id)

    def decrypt(self, package_bytes: bytes, content_key: bytes) -> bytes:
        """Check the manifest signature against the central body's key, then decrypt the content."""
        opened = package.read_form_package(package_bytes, self.central().signing_public)
        return package.decrypt_content(opened, content_key)

    def stamp(self) -> SealStamp:
        """The moment of sealing: this kiosk's clock, and the envelope header's ``created``
        (:meth:`seal_time`); both go into the result, ``created`` into the header too."""
        return SealStamp(kiosk_clock=format_time(utc_now()), header_created=format_time(self.seal_time(self.chain())))

    def seal(self, attempt: Attempt, result: bytes, stamp: SealStamp) -> Sealed:
        """Seal an attempt result's bytes (``exam_core.result``) into an envelope: signed by this
        kiosk, encrypted to the central body's results key, under the attempt's ids."""
        central = self.central()
        if central.hpke_public is None:
            raise UntrustedError("the central certificate carries no results key")
        data = envelope.seal_envelope_bytes(
            result, attempt_id=attempt.attempt_id, centre_id=attempt.centre_id, kiosk_id=self.kiosk_id,
            form_id=attempt.form_id, form_version=attempt.form_version, package_id=attempt.package_id,
            kiosk_signing_key=self.signing_key, chain=self.chain(), results_public=central.hpke_public,
            created=parse_time(stamp.header_created, "header_created"))
        sha = envelope.envelope_hash(data)
        return Sealed(data, sha, receipt_code(sha))
