"""Form packages: encrypted form content with a signed manifest, keyed to one test centre.

A package is a canonical zip (``exam_core.safezip``) of exactly three stored members:

* ``manifest.json``: canonical JSON, the fields of ``model.FormPackageManifest`` plus
  ``format``/``v`` (2), ``content_sha256`` and the key material (``issuer_key_id``,
  ``centre_key_id``, ``wrapped_key``, ``key_check``, ``release_code``);
* ``manifest.sig``: a detached Ed25519 signature (purpose ``form-manifest``) over the exact
  manifest bytes;
* ``content.bin``: ``nonce (12) || AES-256-GCM(content)`` with AAD
  ``invigil/v1 NUL form-content NUL sha256(canonical manifest without content_sha256)``, so
  content cannot be moved under another manifest.

Why the manifest signs ``content_sha256`` (version 2). Version 1 signed only the size of
``content.bin``: AES-GCM catches a changed byte, but only when the content is decrypted, which
happens at the kiosk when the exam starts. A corrupted package was therefore accepted at import,
then failed in front of the candidates, and the genuine copy could not replace it (issue 13, M1).
With the digest signed, every reader (console import, sync, bundle import, ``inspect``, the
kiosk) refuses a changed ``content.bin`` from the manifest alone, without any key. Version 1
packages are refused by name (``UnknownVersionError``, saying to publish the form again): they
carry nothing that would let an import tell a corrupted copy from the genuine one.

The content key is ``HKDF-SHA256(secret || code_factor, info=invigil/v1 NUL form-content NUL
package_id)``. ``secret`` (32 random bytes) is HPKE-sealed to the centre (purpose
``form-content-key``, context ``package_id``). With a release code, ``code_factor`` is
``Argon2id(code, salt)``; without one it is empty. Knowing the wrapped secret therefore does not
give the key without the code, which the central body hands to the centre out of band.
``key_check`` (16 bytes of HKDF output under purpose ``form-key-check``) tells a wrong release
code apart from tampered content.

At start time the console re-wraps the content key to one kiosk (``wrap_key_for_kiosk``, purpose
``content-key-release``, context ``[package_id, attempt_id]``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from exam_core import hpke, limits, model, purposes, signing
from exam_core.errors import (ExpiredError, MalformedError, ReleaseCodeError, TamperedError,
                              TooLargeError, UnknownVersionError, ValidationError, WrongKeyError)
from exam_core.jsonio import b64d, b64e, canonical_dumps, loads_strict
from exam_core.timestamps import format_time, parse_time, utc_now
from exam_core.keys import HpkePrivateKey, HpkePublicKey, key_id
from exam_core.safezip import ZipPolicy, read_canonical, write_canonical

PACKAGE_FORMAT = "invigil-form-package"
#: The manifest version written and read; 1 (no signed content digest) is refused by name.
PACKAGE_VERSION = 2
MANIFEST, SIGNATURE, CONTENT = "manifest.json", "manifest.sig", "content.bin"
_NONCE = 12
_TAG = 16
#: The outer zip of a form package: exactly these three members, within the package limits.
ZIP_POLICY = ZipPolicy(max_members=limits.PACKAGE_MAX_MEMBERS, max_member_bytes=limits.CONTENT_MAX_BYTES,
                       max_total_bytes=limits.PACKAGE_MAX_BYTES, names=frozenset({MANIFEST, SIGNATURE, CONTENT}),
                       required=frozenset({MANIFEST, SIGNATURE, CONTENT}))
_KEY_FIELDS = ("issuer_key_id", "centre_key_id", "wrapped_key", "key_check", "release_code")
#: Manifest fields of the package format itself, not of ``model.FormPackageManifest``.
_FORMAT_FIELDS = ("format", "v", "content_sha256", *_KEY_FIELDS)

#: Release codes: 16 characters from an alphabet without look-alikes (no 0/O, 1/I/L), ~79 bits.
RELEASE_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RELEASE_CODE_GROUPS = 4
#: Argon2id cost for release codes: run once per package at the console, so it can be generous.
_CODE_KDF = {"kdf": "argon2id", "iterations": 3, "lanes": 1, "memory_kib": 64 * 1024}


@dataclass(frozen=True)
class FormPackage:
    """A package whose manifest signature has been verified; the content is still encrypted."""

    manifest: model.FormPackageManifest
    manifest_bytes: bytes
    manifest_fields: dict[str, Any]
    signer_key_id: str
    ciphertext: memoryview  # content.bin: nonce || AES-GCM ciphertext

    @property
    def package_id(self) -> str:
        return self.manifest.package_id

    @property
    def release_code_required(self) -> bool:
        return self.manifest_fields["release_code"] is not None

    @property
    def content_sha256(self) -> str:
        """The SHA-256 (hex) of ``content.bin`` that the central body signed in the manifest."""
        return str(self.manifest_fields["content_sha256"])

    def check_window(self, at: datetime | None = None) -> None:
        """Raise ``ExpiredError`` unless ``at`` (default now) lies in ``[opens, closes)``."""
        moment = at or utc_now()
        if moment < parse_time(self.manifest.opens, "opens"):
            raise ExpiredError(f"package {self.package_id} opens at {self.manifest.opens}")
        if moment >= parse_time(self.manifest.closes, "closes"):
            raise ExpiredError(f"package {self.package_id} closed at {self.manifest.closes}")


# ----- release codes -----------------------------------------------------------------------------

def generate_release_code() -> str:
    chars = "".join(secrets.choice(RELEASE_CODE_ALPHABET) for _ in range(4 * RELEASE_CODE_GROUPS))
    return "-".join(chars[i:i + 4] for i in range(0, len(chars), 4))


def normalise_release_code(code: str) -> str:
    """Upper-case, without separators; raises ``ValidationError`` naming the bad character."""
    if not isinstance(code, str):
        raise ValidationError("release_code", "must be text")
    compact = code.upper().replace("-", "").replace(" ", "")
    bad = sorted({c for c in compact if c not in RELEASE_CODE_ALPHABET})
    if bad:
        raise ValidationError("release_code", f"invalid character(s) {''.join(bad)!r}")
    if len(compact) != 4 * RELEASE_CODE_GROUPS:
        raise ValidationError("release_code", f"must have {4 * RELEASE_CODE_GROUPS} characters, got {len(compact)}")
    return compact


def _code_factor(code: str, params: dict[str, Any]) -> bytes:
    return Argon2id(salt=b64d(params["salt"], "release_code.salt", 64), length=32,
                    iterations=params["iterations"], lanes=params["lanes"],
                    memory_cost=params["memory_kib"]).derive(normalise_release_code(code).encode("ascii"))


def _derive(secret: bytes, factor: bytes, purpose: str, package_id: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=purposes.bind(purpose, package_id.encode("utf-8"))).derive(secret + factor)


def content_aad(fields: dict[str, Any]) -> bytes:
    """AAD of ``content.bin``: the manifest as signed less its ``content_sha256`` (which is the
    digest of this very ciphertext, so it cannot be inside its own AAD)."""
    without_digest = canonical_dumps({k: v for k, v in fields.items() if k != "content_sha256"})
    return purposes.bind(purposes.FORM_CONTENT, hashlib.sha256(without_digest).digest())


# ----- building ----------------------------------------------------------------------------------

def build_form_package(content: bytes, *, package_id: str, form_id: str, form_version: int,
                       scheme_id: str, centre_id: str, opens: datetime, closes: datetime,
                       signing_key: Ed25519PrivateKey, centre_hpke_public: HpkePublicKey,
                       with_release_code: bool = False, title: str = "", duration_seconds: int = 0,
                       item_count: int = 0, created: datetime | None = None,
                       accommodation_policy: model.AccommodationPolicy | None = None) -> tuple[bytes, str | None]:
    """Encrypt ``content`` for one centre and sign the manifest (with the scheme's accommodation
    policy when given, so the centre can check its roster against it).

    Returns ``(package bytes, release code or None)``; the code is shown once to the central
    administrator and never stored in the package.
    """
    if len(content) > limits.CONTENT_MAX_BYTES - _NONCE - _TAG:
        raise TooLargeError(f"content of {len(content)} bytes exceeds the package limit")
    secret = secrets.token_bytes(32)
    code = generate_release_code() if with_release_code else None
    code_params = None
    factor = b""
    if code is not None:
        code_params = {**_CODE_KDF, "salt": b64e(secrets.token_bytes(16))}
        factor = _code_factor(code, code_params)
    fields: dict[str, Any] = {
        "format": PACKAGE_FORMAT, "v": PACKAGE_VERSION, "package_id": package_id, "form_id": form_id,
        "form_version": form_version, "scheme_id": scheme_id, "centre_id": centre_id,
        "opens": format_time(opens), "closes": format_time(closes),
        "created": format_time(created or utc_now()), "content_size": _NONCE + len(content) + _TAG,
        "title": title, "duration_seconds": duration_seconds, "item_count": item_count,
        "release_code_required": code is not None,
        "issuer_key_id": key_id(signing_key), "centre_key_id": key_id(centre_hpke_public),
        "wrapped_key": b64e(hpke.seal(centre_hpke_public, purposes.FORM_CONTENT_KEY, secret,
                                      package_id.encode("utf-8"))),
        "key_check": b64e(_derive(secret, factor, purposes.FORM_KEY_CHECK, package_id)[:16]),
        "release_code": code_params,
    }
    if accommodation_policy is not None:
        fields["accommodation_policy"] = accommodation_policy.to_dict()
    content_key = _derive(secret, factor, purposes.FORM_CONTENT, package_id)
    nonce = secrets.token_bytes(_NONCE)
    ciphertext = nonce + AESGCM(content_key).encrypt(nonce, content, content_aad(fields))
    fields["content_sha256"] = hashlib.sha256(ciphertext).hexdigest()
    _parse_manifest(fields)  # never sign what a reader would refuse
    manifest_bytes = canonical_dumps(fields)
    signature = signing.make_detached(signing_key, purposes.FORM_MANIFEST, manifest_bytes)
    package = write_canonical([(MANIFEST, manifest_bytes), (SIGNATURE, signature), (CONTENT, ciphertext)])
    return package, code


# ----- reading -----------------------------------------------------------------------------------

def _parse_manifest(fields: Any) -> model.FormPackageManifest:
    if not isinstance(fields, dict) or fields.get("format") != PACKAGE_FORMAT:
        raise MalformedError("not an Invigil form package manifest", MANIFEST)
    version = fields.get("v")
    if type(version) is int and version == 1:
        raise UnknownVersionError("form package format v1 signs no digest of its content, so a corrupted copy "
                                  "cannot be told from the genuine one: ask the central body to publish the form "
                                  "again (it writes format v2)")
    if type(version) is not int or version != PACKAGE_VERSION:
        raise UnknownVersionError(f"unknown form package version {version!r}")
    missing = [k for k in ("content_sha256", *_KEY_FIELDS) if k not in fields]
    if missing:
        raise MalformedError(f"{missing[0]}: is required", MANIFEST)
    if not _is_sha256_hex(fields["content_sha256"]):
        raise MalformedError("content_sha256: must be 64 lower-case hex digits", MANIFEST)
    for name in ("issuer_key_id", "centre_key_id"):
        value = fields[name]
        if not isinstance(value, str) or len(value) != 32 or value.strip("0123456789abcdef"):
            raise MalformedError(f"{name}: must be 32 lower-case hex digits", MANIFEST)
    b64d(fields["wrapped_key"], "wrapped_key", 4096)
    if len(b64d(fields["key_check"], "key_check", 16)) != 16:
        raise MalformedError("key_check: must be 16 bytes", MANIFEST)
    _check_code_params(fields["release_code"])
    body = {k: v for k, v in fields.items() if k not in _FORMAT_FIELDS}
    try:
        manifest = model.FormPackageManifest.from_dict(body, "manifest")
    except ValidationError as exc:
        raise MalformedError(exc.reason, exc.field) from None
    if manifest.release_code_required != (fields["release_code"] is not None):
        raise MalformedError("release_code_required disagrees with release_code", MANIFEST)
    if parse_time(manifest.closes, "closes") <= parse_time(manifest.opens, "opens"):
        raise MalformedError("closes must be after opens", MANIFEST)
    return manifest


def parse_manifest_fields(fields: Any) -> model.FormPackageManifest:
    """Check a manifest's fields as a reader does, signature aside (``MalformedError``,
    ``UnknownVersionError``, a version 1 package by name): for ``inspect`` without an issuer."""
    return _parse_manifest(fields)


def _is_sha256_hex(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and not value.strip("0123456789abcdef")


def check_content_digest(fields: dict[str, Any], content: bytes | memoryview) -> None:
    """``TamperedError`` unless ``content`` (``content.bin``) hashes to the manifest's ``content_sha256``.

    Also for readers that have no issuer key (``inspect`` without ``--issuer``): the digest then
    only says the two members belong together, not who made them."""
    digest = hashlib.sha256(content).hexdigest()
    if not hmac.compare_digest(digest, str(fields.get("content_sha256", ""))):
        raise TamperedError(f"{CONTENT} does not match the content_sha256 the manifest states "
                            f"(package {str(fields.get('package_id'))[:80]!r}): the copy is corrupted")


def _check_code_params(params: Any) -> None:
    if params is None:
        return
    if not isinstance(params, dict) or set(params) != {"kdf", "salt", "iterations", "lanes", "memory_kib"}:
        raise MalformedError("release_code: must be null or {kdf, salt, iterations, lanes, memory_kib}", MANIFEST)
    if params["kdf"] != "argon2id":
        raise UnknownVersionError(f"release_code.kdf {params['kdf']!r} is not supported")
    bounds = {"iterations": (1, limits.ARGON2_MAX_ITERATIONS), "lanes": (1, limits.ARGON2_MAX_LANES),
              "memory_kib": (8 * 1024, limits.ARGON2_MAX_MEMORY_KIB)}
    for name, (low, high) in bounds.items():
        value = params[name]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise MalformedError(f"release_code.{name}: must be an integer in [{low}, {high}]", MANIFEST)
    if len(b64d(params["salt"], "release_code.salt", 64)) < 16:
        raise MalformedError("release_code.salt: must be at least 16 bytes", MANIFEST)


def read_form_package(data: bytes, issuer: signing.KeySource) -> FormPackage:
    """Check a package's layout and manifest signature; the content stays encrypted.

    ``issuer`` is the central body's public key (or a resolver). Raises ``TooLargeError``,
    ``MalformedError`` (layout, manifest fields), ``UnknownVersionError`` (a version 1 package,
    by name), the signature errors of ``signing``, and ``TamperedError`` when ``content.bin`` is
    not the size or the SHA-256 the signed manifest states.
    """
    if len(data) > limits.PACKAGE_MAX_BYTES:
        raise TooLargeError(f"package of {len(data)} bytes exceeds {limits.PACKAGE_MAX_BYTES}")
    members = read_canonical(data, ZIP_POLICY)
    manifest_bytes, signature = bytes(members[MANIFEST]), bytes(members[SIGNATURE])
    if len(manifest_bytes) > limits.MANIFEST_MAX_BYTES:
        raise TooLargeError(f"{MANIFEST} larger than {limits.MANIFEST_MAX_BYTES} bytes")
    signer = signing.verify_detached(signature, manifest_bytes, issuer, purposes.FORM_MANIFEST)
    fields = loads_strict(manifest_bytes, max_bytes=limits.MANIFEST_MAX_BYTES)
    manifest = _parse_manifest(fields)
    if fields["issuer_key_id"] != signer:
        raise MalformedError("issuer_key_id differs from the signer", MANIFEST)
    ciphertext = members[CONTENT]
    if len(ciphertext) != manifest.content_size or len(ciphertext) < _NONCE + _TAG:
        raise TamperedError(f"{CONTENT} is {len(ciphertext)} bytes; the manifest says {manifest.content_size}")
    check_content_digest(fields, ciphertext)
    return FormPackage(manifest, manifest_bytes, fields, signer, ciphertext)


def unwrap_content_key(package: FormPackage, centre_hpke_private: HpkePrivateKey,
                       release_code: str | None = None, at: datetime | None = None) -> bytes:
    """The content key, for the centre that holds the package's HPKE key (and code, if required).

    Checks the delivery window first (``ExpiredError``; pass ``at`` to decide the time), then the
    centre key (``WrongKeyError``), then the release code (``ReleaseCodeError``).
    """
    package.check_window(at)
    fields = package.manifest_fields
    if key_id(centre_hpke_private.public_key()) != fields["centre_key_id"]:
        raise WrongKeyError(f"package {package.package_id} is for centre key {fields['centre_key_id']}")
    secret = hpke.open_sealed(centre_hpke_private, purposes.FORM_CONTENT_KEY,
                              b64d(fields["wrapped_key"], "wrapped_key"), package.package_id.encode("utf-8"))
    factor = b""
    if fields["release_code"] is not None:
        if release_code is None:
            raise ReleaseCodeError(f"package {package.package_id} needs its release code", missing=True)
        factor = _code_factor(release_code, fields["release_code"])
    check = _derive(secret, factor, purposes.FORM_KEY_CHECK, package.package_id)[:16]
    if not hmac.compare_digest(check, b64d(fields["key_check"], "key_check")):
        if fields["release_code"] is not None:
            raise ReleaseCodeError(f"wrong release code for package {package.package_id}")
        raise TamperedError("content key does not match the manifest's key check")
    return _derive(secret, factor, purposes.FORM_CONTENT, package.package_id)


def decrypt_content(package: FormPackage, content_key: bytes) -> bytes:
    """Decrypt ``content.bin``; ``TamperedError`` if it, or the manifest, was changed."""
    if len(content_key) != 32:
        raise ValidationError("content_key", "must be 32 bytes")
    ciphertext = package.ciphertext
    try:
        return AESGCM(content_key).decrypt(ciphertext[:_NONCE], ciphertext[_NONCE:],
                                           content_aad(package.manifest_fields))
    except InvalidTag:
        raise TamperedError(f"{CONTENT} of package {package.package_id} fails authentication") from None


def open_form_package(data: bytes, issuer: signing.KeySource, centre_hpke_private: HpkePrivateKey,
                      release_code: str | None = None, at: datetime | None = None) -> tuple[FormPackage, bytes]:
    """Read, unwrap and decrypt in one call: ``(package, content)``."""
    package = read_form_package(data, issuer)
    return package, decrypt_content(package, unwrap_content_key(package, centre_hpke_private, release_code, at))


# ----- release to a kiosk ------------------------------------------------------------------------

def wrap_key_for_kiosk(content_key: bytes, kiosk_hpke_public: HpkePublicKey, package_id: str, attempt_id: str) -> bytes:
    """Seal the content key to one kiosk for one attempt (purpose ``content-key-release``)."""
    if len(content_key) != 32:
        raise ValidationError("content_key", "must be 32 bytes")
    return hpke.seal(kiosk_hpke_public, purposes.CONTENT_KEY_RELEASE, content_key,
                     purposes.context(package_id, attempt_id))


def unwrap_released_key(sealed: bytes, kiosk_hpke_private: HpkePrivateKey, package_id: str, attempt_id: str) -> bytes:
    """The kiosk's side of ``wrap_key_for_kiosk``; a key released for another attempt is refused."""
    key = hpke.open_sealed(kiosk_hpke_private, purposes.CONTENT_KEY_RELEASE, sealed,
                           purposes.context(package_id, attempt_id))
    if len(key) != 32:
        raise MalformedError("released content key must be 32 bytes")
    return key
