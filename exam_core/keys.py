"""Ed25519 signing keys, HPKE keys, key ids and key files.

Signing keys are plain ``cryptography`` Ed25519 objects. HPKE keys are wrapped in
``HpkePrivateKey`` / ``HpkePublicKey`` because the hybrid ML-KEM-768 + X25519 key objects of
``cryptography.hazmat.primitives.hpke`` have no serialisation of their own: we keep the component
keys' raw bytes (ML-KEM seed and public key, X25519 raw) and rebuild the hybrid object on use.

Key files are small JSON documents. Private key files are written 0600 atomically and refused
when group or others can read them; a passphrase, when given, derives an AES-256-GCM key with
Argon2id and the file's identity (format, kind, key id) is bound in the AAD.
"""

from __future__ import annotations

import functools
import hashlib
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, overload

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke as _hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from exam_core import limits, purposes
from exam_core.errors import (ArtefactError, KeyFileError, MalformedError, UnknownVersionError,
                              ValidationError, WrongPassphraseError)
from exam_core.files import write_atomic
from exam_core.jsonio import b64d, b64e, canonical_dumps, loads_strict

SUITE_HYBRID = "mlkem768-x25519"
SUITE_X25519 = "x25519"
DEFAULT_SUITE = SUITE_HYBRID
SUITES = (SUITE_HYBRID, SUITE_X25519)

KIND_ED25519 = "ed25519"
PRIVATE_KEY_FORMAT = "invigil-private-key"
PUBLIC_KEY_FORMAT = "invigil-public-key"

_MLKEM_SEED = 64
_MLKEM_PUBLIC = 1184
_X25519_RAW = 32

#: Argon2id parameters for new passphrase-protected files (OWASP's first recommendation).
ARGON2_ITERATIONS = 2
ARGON2_LANES = 1
ARGON2_MEMORY_KIB = 19 * 1024


def _check_suite(suite: str) -> None:
    if suite not in SUITES:
        raise UnknownVersionError(f"unknown HPKE suite {suite!r}; known: {', '.join(SUITES)}")


@dataclass(frozen=True)
class HpkePublicKey:
    """An HPKE recipient public key: suite name plus raw public bytes.

    For ``mlkem768-x25519`` the raw bytes are ML-KEM-768 public (1184) || X25519 public (32).
    """

    suite: str
    raw: bytes
    _native: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_suite(self.suite)
        expected = _MLKEM_PUBLIC + _X25519_RAW if self.suite == SUITE_HYBRID else _X25519_RAW
        if len(self.raw) != expected:
            raise MalformedError(f"{self.suite} public key must be {expected} bytes, got {len(self.raw)}")
        try:
            if self.suite == SUITE_HYBRID:
                native: Any = _hpke.MLKEM768X25519PublicKey(
                    mlkem.MLKEM768PublicKey.from_public_bytes(self.raw[:_MLKEM_PUBLIC]),
                    x25519.X25519PublicKey.from_public_bytes(self.raw[_MLKEM_PUBLIC:]))
            else:
                native = x25519.X25519PublicKey.from_public_bytes(self.raw)
        except ValueError as exc:
            raise MalformedError(f"invalid {self.suite} public key: {exc}") from None
        object.__setattr__(self, "_native", native)

    kind = property(lambda self: f"hpke:{self.suite}", doc="``hpke:<suite>``, hashed into the key id.")
    native = property(lambda self: self._native, doc="The ``cryptography`` key ``hpke.Suite`` accepts.")


class HpkePrivateKey:
    """An HPKE recipient private key; raw form is ML-KEM seed (64) || X25519 raw (32) for the hybrid."""

    def __init__(self, suite: str, raw: bytes) -> None:
        _check_suite(suite)
        expected = _MLKEM_SEED + _X25519_RAW if suite == SUITE_HYBRID else _X25519_RAW
        if len(raw) != expected:
            raise MalformedError(f"{suite} private key must be {expected} bytes, got {len(raw)}")
        self.suite = suite
        self._raw = bytes(raw)
        try:
            if suite == SUITE_HYBRID:
                kem = mlkem.MLKEM768PrivateKey.from_seed_bytes(raw[:_MLKEM_SEED])
                xkey = x25519.X25519PrivateKey.from_private_bytes(raw[_MLKEM_SEED:])
                self._native: Any = _hpke.MLKEM768X25519PrivateKey(kem, xkey)
                public_raw = kem.public_key().public_bytes_raw() + xkey.public_key().public_bytes_raw()
            else:
                self._native = x25519.X25519PrivateKey.from_private_bytes(raw)
                public_raw = self._native.public_key().public_bytes_raw()
        except ValueError as exc:
            raise MalformedError(f"invalid {suite} private key: {exc}") from None
        self._public = HpkePublicKey(suite, public_raw)

    def __repr__(self) -> str:  # never show key material
        return f"HpkePrivateKey(suite={self.suite!r}, key_id={key_id(self._public)!r})"

    kind = HpkePublicKey.kind
    native = HpkePublicKey.native

    def public_key(self) -> HpkePublicKey:
        return self._public

    def private_bytes_raw(self) -> bytes:
        return self._raw


PublicKey = Ed25519PublicKey | HpkePublicKey
PrivateKey = Ed25519PrivateKey | HpkePrivateKey


def generate_signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def generate_hpke_key(suite: str = DEFAULT_SUITE) -> HpkePrivateKey:
    _check_suite(suite)
    if suite == SUITE_HYBRID:
        return HpkePrivateKey(suite, secrets.token_bytes(_MLKEM_SEED) + secrets.token_bytes(_X25519_RAW))
    return HpkePrivateKey(suite, x25519.X25519PrivateKey.generate().private_bytes_raw())


def public_of(key: PrivateKey | PublicKey) -> PublicKey:
    """The public half of a private key; a public key is returned as is."""
    if isinstance(key, (Ed25519PrivateKey, HpkePrivateKey)):
        return key.public_key()
    if isinstance(key, (Ed25519PublicKey, HpkePublicKey)):
        return key
    raise ValidationError("key", f"not an Invigil key: {type(key).__name__}")


def key_kind(key: PrivateKey | PublicKey) -> str:
    """``ed25519``, ``hpke:mlkem768-x25519`` or ``hpke:x25519``."""
    public = public_of(key)
    return KIND_ED25519 if isinstance(public, Ed25519PublicKey) else public.kind


def public_bytes(key: PrivateKey | PublicKey) -> bytes:
    public = public_of(key)
    return public.public_bytes_raw() if isinstance(public, Ed25519PublicKey) else public.raw


def key_id(key: PrivateKey | PublicKey) -> str:
    """First 16 bytes (32 hex digits) of SHA-256(kind NUL raw public bytes).

    The kind is hashed in so that an Ed25519 key and an X25519 key with the same 32 bytes never
    share an id.
    """
    public = public_of(key)
    if isinstance(public, Ed25519PublicKey):
        return _key_id(KIND_ED25519, public.public_bytes_raw())
    return _key_id(public.kind, public.raw)


@functools.lru_cache(maxsize=1024)
def _key_id(kind: str, raw: bytes) -> str:
    return hashlib.sha256(kind.encode("ascii") + b"\x00" + raw).digest()[:16].hex()


@overload
def _from_raw(kind: object, raw: bytes, private: Literal[False]) -> PublicKey: ...
@overload
def _from_raw(kind: object, raw: bytes, private: Literal[True]) -> PrivateKey: ...
def _from_raw(kind: object, raw: bytes, private: bool) -> PublicKey | PrivateKey:
    if kind == KIND_ED25519:
        if len(raw) != 32:
            raise MalformedError(f"ed25519 key must be 32 bytes, got {len(raw)}")
        try:
            if private:
                return Ed25519PrivateKey.from_private_bytes(raw)
            return Ed25519PublicKey.from_public_bytes(raw)
        except ValueError as exc:
            raise MalformedError(f"invalid ed25519 key: {exc}") from None
    if isinstance(kind, str) and kind.startswith("hpke:"):
        return (HpkePrivateKey if private else HpkePublicKey)(kind[5:], raw)
    raise UnknownVersionError(f"unknown key kind {kind!r}")


def public_from_raw(kind: str, raw: bytes) -> PublicKey:
    """Rebuild a public key from its kind and raw bytes (as stored in files and certificates)."""
    return _from_raw(kind, raw, private=False)


def private_from_raw(kind: str, raw: bytes) -> PrivateKey:
    """Rebuild a private key from its kind and raw bytes (Ed25519 raw, or the HPKE raw form)."""
    return _from_raw(kind, raw, private=True)


def ed25519_public_from_raw(raw: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from its 32 raw bytes (a certificate's ``signing_key``)."""
    key = _from_raw(KIND_ED25519, raw, private=False)
    if not isinstance(key, Ed25519PublicKey):  # cannot happen: the kind was Ed25519
        raise MalformedError("not an Ed25519 key")
    return key


def public_key_to_dict(key: PublicKey) -> dict[str, str]:
    """``{"kind", "key_id", "public"}``: the form public keys take in files and documents."""
    return {"kind": key_kind(key), "key_id": key_id(key), "public": b64e(public_bytes(key))}


def public_key_from_dict(data: Any, field_name: str = "key") -> PublicKey:
    """Inverse of ``public_key_to_dict``; checks the stated key id against the key."""
    if not isinstance(data, dict) or set(data) != {"kind", "key_id", "public"}:
        raise MalformedError("expected an object with kind, key_id, public", field_name)
    public = public_from_raw(data["kind"], b64d(data["public"], f"{field_name}.public", 4096))
    if key_id(public) != data["key_id"]:
        raise MalformedError("key_id does not match the key", field_name)
    return public


def signing_public_from_dict(data: Any, field_name: str = "key") -> Ed25519PublicKey:
    """``public_key_from_dict`` for a field that must hold an Ed25519 signing key."""
    public = public_key_from_dict(data, field_name)
    if not isinstance(public, Ed25519PublicKey):
        raise MalformedError(f"must be an Ed25519 signing key, not {key_kind(public)}", field_name)
    return public


def hpke_public_from_dict(data: Any, field_name: str = "key") -> HpkePublicKey:
    """``public_key_from_dict`` for a field that must hold an HPKE (encryption) key."""
    public = public_key_from_dict(data, field_name)
    if not isinstance(public, HpkePublicKey):
        raise MalformedError(f"must be an HPKE key, not {key_kind(public)}", field_name)
    return public


# ----- files -----------------------------------------------------------------------------------

def _read_limited(path: Path, private: bool) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot open: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError(f"{path}: not a regular file")
        mode = stat.S_IMODE(info.st_mode)
        if private and mode & 0o077:
            raise KeyFileError(f"{path}: private key file has mode {mode:04o}; "
                               f"group/others must have no access (chmod 600)")
        data = handle.read(limits.KEY_FILE_MAX_BYTES + 1)
    if len(data) > limits.KEY_FILE_MAX_BYTES:
        raise KeyFileError(f"{path}: larger than {limits.KEY_FILE_MAX_BYTES} bytes")
    return data


def _private_raw(key: PrivateKey) -> bytes:
    if not isinstance(key, (Ed25519PrivateKey, HpkePrivateKey)):
        raise ValidationError("key", f"not an Invigil private key: {type(key).__name__}")
    return key.private_bytes_raw()


def _file_aad(kind: str, kid: str) -> bytes:
    identity = canonical_dumps({"format": PRIVATE_KEY_FORMAT, "v": 1, "kind": kind, "key_id": kid})
    return purposes.bind(purposes.PRIVATE_KEY_FILE, identity)


def _argon2(passphrase: str, salt: bytes, iterations: int, lanes: int, memory_kib: int) -> bytes:
    return Argon2id(salt=salt, length=32, iterations=iterations, lanes=lanes,
                    memory_cost=memory_kib).derive(passphrase.encode("utf-8"))


def private_key_document(key: PrivateKey, passphrase: str | None = None) -> bytes:
    """The JSON bytes of a private key file (see docs/WIRE-FORMATS.md)."""
    kind, kid, raw = key_kind(key), key_id(key), _private_raw(key)
    doc: dict[str, Any] = {"format": PRIVATE_KEY_FORMAT, "v": 1, "kind": kind, "key_id": kid,
                           "public": b64e(public_bytes(key))}
    if passphrase is None:
        doc["private"] = b64e(raw)
    else:
        if not passphrase:
            raise ValidationError("passphrase", "must not be empty")
        salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
        secret = _argon2(passphrase, salt, ARGON2_ITERATIONS, ARGON2_LANES, ARGON2_MEMORY_KIB)
        doc["encryption"] = {"kdf": "argon2id", "salt": b64e(salt), "iterations": ARGON2_ITERATIONS,
                             "lanes": ARGON2_LANES, "memory_kib": ARGON2_MEMORY_KIB,
                             "aead": "aes-256-gcm", "nonce": b64e(nonce)}
        doc["ciphertext"] = b64e(AESGCM(secret).encrypt(nonce, raw, _file_aad(kind, kid)))
    return canonical_dumps(doc) + b"\n"


def save_private_key(path: str | os.PathLike[str], key: PrivateKey, passphrase: str | None = None) -> None:
    """Write a private key file with mode 0600, atomically (temp file, fsync, rename)."""
    write_atomic(Path(path), private_key_document(key, passphrase), 0o600)


def _bounded_int(params: dict[str, Any], name: str, low: int, high: int) -> int:
    value = params.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise KeyFileError(f"encryption.{name}: must be an integer in [{low}, {high}]")
    return value


def parse_private_key_document(data: bytes, passphrase: str | None = None, source: str = "key file") -> PrivateKey:
    """Parse the bytes of a private key file; see ``load_private_key``."""
    try:
        doc = loads_strict(data, max_bytes=limits.KEY_FILE_MAX_BYTES)
    except ArtefactError as exc:
        raise KeyFileError(f"{source}: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != PRIVATE_KEY_FORMAT:
        raise KeyFileError(f"{source}: not an Invigil private key file")
    if doc.get("v") != 1:
        raise KeyFileError(f"{source}: unknown private key file version {doc.get('v')!r}")
    kind, kid = doc.get("kind"), doc.get("key_id")
    try:
        if "encryption" in doc:
            if set(doc) != {"format", "v", "kind", "key_id", "public", "encryption", "ciphertext"}:
                raise KeyFileError(f"{source}: unexpected fields")
            if passphrase is None:
                raise KeyFileError(f"{source}: key file is passphrase-protected; a passphrase is required")
            params = doc["encryption"]
            if not isinstance(params, dict) or params.get("kdf") != "argon2id" or params.get("aead") != "aes-256-gcm":
                raise KeyFileError(f"{source}: unsupported key file encryption")
            secret = _argon2(passphrase, b64d(params.get("salt"), "encryption.salt", 64),
                             _bounded_int(params, "iterations", 1, limits.ARGON2_MAX_ITERATIONS),
                             _bounded_int(params, "lanes", 1, limits.ARGON2_MAX_LANES),
                             _bounded_int(params, "memory_kib", 8 * 1024, limits.ARGON2_MAX_MEMORY_KIB))
            nonce = b64d(params.get("nonce"), "encryption.nonce", 12)
            if len(nonce) != 12:
                raise KeyFileError(f"{source}: encryption.nonce must be 12 bytes")
            try:
                raw = AESGCM(secret).decrypt(nonce, b64d(doc["ciphertext"], "ciphertext", 4096),
                                             _file_aad(str(kind), str(kid)))
            except InvalidTag:
                raise WrongPassphraseError(f"{source}: wrong passphrase (or the file was modified)") from None
        else:
            if set(doc) != {"format", "v", "kind", "key_id", "public", "private"}:
                raise KeyFileError(f"{source}: unexpected fields")
            if passphrase is not None:
                raise KeyFileError(f"{source}: a passphrase was given but the key file is not encrypted")
            raw = b64d(doc["private"], "private", 4096)
        key = _from_raw(kind, raw, private=True)  # an unknown or missing kind is refused there
    except ArtefactError as exc:
        raise KeyFileError(f"{source}: {exc}") from None
    if key_id(key) != kid or b64e(public_bytes(key)) != doc["public"]:
        raise KeyFileError(f"{source}: key_id/public do not match the private key")
    return key


def load_private_key(path: str | os.PathLike[str], passphrase: str | None = None) -> PrivateKey:
    """Load a private key file, refusing files that group or others can access.

    Raises ``KeyFileError`` (unsafe mode, symlink, bad content, passphrase missing or given for an
    unencrypted file) or ``WrongPassphraseError``.
    """
    return parse_private_key_document(_read_limited(Path(path), private=True), passphrase, str(path))


def public_key_document(key: PublicKey | PrivateKey, label: str | None = None) -> bytes:
    """The JSON bytes of a public key file; ``label`` is an informational name (not trusted)."""
    doc: dict[str, Any] = {"format": PUBLIC_KEY_FORMAT, "v": 1, **public_key_to_dict(public_of(key))}
    if label is not None:
        doc["label"] = str(label)
    return canonical_dumps(doc) + b"\n"


def save_public_key(path: str | os.PathLike[str], key: PublicKey | PrivateKey, label: str | None = None) -> None:
    write_atomic(Path(path), public_key_document(key, label), 0o644)


def parse_public_key_document(data: bytes, source: str = "public key file") -> PublicKey:
    try:
        doc = loads_strict(data, max_bytes=limits.KEY_FILE_MAX_BYTES)
        if not isinstance(doc, dict) or doc.get("format") != PUBLIC_KEY_FORMAT:
            raise MalformedError("not an Invigil public key file")
        if doc.get("v") != 1:
            raise UnknownVersionError(f"unknown public key file version {doc.get('v')!r}")
        if not set(doc) <= {"format", "v", "kind", "key_id", "public", "label"}:
            raise MalformedError("unexpected fields")
        return public_key_from_dict({k: doc.get(k) for k in ("kind", "key_id", "public")})
    except ArtefactError as exc:
        raise KeyFileError(f"{source}: {exc}") from None


def load_public_key(path: str | os.PathLike[str]) -> PublicKey:
    return parse_public_key_document(_read_limited(Path(path), private=False), str(path))


# Typed loaders for files whose kind of key is known: a file holding the other kind is refused
# with KeyFileError instead of failing later where the key is used.

def load_signing_key(path: str | os.PathLike[str], passphrase: str | None = None) -> Ed25519PrivateKey:
    key = load_private_key(path, passphrase)
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: not an Ed25519 signing key ({key_kind(key)})")
    return key


def load_hpke_key(path: str | os.PathLike[str], passphrase: str | None = None) -> HpkePrivateKey:
    key = load_private_key(path, passphrase)
    if not isinstance(key, HpkePrivateKey):
        raise KeyFileError(f"{path}: not an HPKE key ({key_kind(key)})")
    return key


def load_signing_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    public = load_public_key(path)
    if not isinstance(public, Ed25519PublicKey):
        raise KeyFileError(f"{path}: not an Ed25519 signing key ({key_kind(public)})")
    return public


def load_hpke_public_key(path: str | os.PathLike[str]) -> HpkePublicKey:
    public = load_public_key(path)
    if not isinstance(public, HpkePublicKey):
        raise KeyFileError(f"{path}: not an HPKE key ({key_kind(public)})")
    return public
