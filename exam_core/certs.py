"""Signed JSON certificates, chain verification and signed revocation lists.

A certificate is a signed document (``exam_core.signing``, purpose ``certificate``) whose payload
is ``{"format": "invigil-cert", "v": 1, ...}`` plus the fields of ``exam_core.model.Certificate``.
Trust flows one way: the central body's Ed25519 key (the root, distributed out of band or as a
self-signed root certificate) certifies test centres; a centre's key certifies its kiosks.

Revocation lists are signed documents (purpose ``revocation-list``). A list signed by the root
may revoke any certificate; a list signed by a centre revokes only certificates that centre
issued. Lists signed by keys outside the chain being verified cannot concern it and are skipped;
a list that claims a relevant signer but fails verification is an error (fail closed).
"""

from __future__ import annotations

import functools
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from collections.abc import Iterable, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from exam_core import limits, model, purposes, signing
from exam_core.errors import (ExpiredError, MalformedError, RevokedError,
                              TooLargeError, UnknownVersionError, UntrustedError, ValidationError,
                              WrongKeyError, WrongPurposeError)
from exam_core.jsonio import b64d, b64e, loads_strict
from exam_core.timestamps import format_time, parse_time, utc_now
from exam_core.keys import HpkePublicKey, key_id

CERT_FORMAT = "invigil-cert"
REVOCATION_FORMAT = "invigil-revocations"
ROLE_CENTRAL, ROLE_CENTRE, ROLE_KIOSK = "central", "centre", "kiosk"
#: Which role may issue which: the root (central) issues centres, centres issue kiosks.
ISSUES = {ROLE_CENTRAL: ROLE_CENTRE, ROLE_CENTRE: ROLE_KIOSK}

DEFAULT_VALIDITY = {ROLE_CENTRAL: timedelta(days=3650), ROLE_CENTRE: timedelta(days=400),
                    ROLE_KIOSK: timedelta(days=120)}


@dataclass(frozen=True)
class VerifiedCertificate:
    """A certificate whose signature has been checked, with its keys rebuilt."""

    cert: model.Certificate
    signing_public: Ed25519PublicKey
    hpke_public: HpkePublicKey | None
    document: bytes

    @property
    def key_id(self) -> str:
        return key_id(self.signing_public)

    @functools.cached_property
    def not_before(self) -> datetime:
        """Parsed once per verified certificate: cached chains check their window on every use."""
        return parse_time(self.cert.not_before, "not_before")

    @functools.cached_property
    def not_after(self) -> datetime:
        return parse_time(self.cert.not_after, "not_after")

    def check_valid_at(self, at: datetime) -> None:
        if at < self.not_before:
            raise ExpiredError(f"certificate {self.cert.serial} ({self.cert.subject}) is not valid "
                               f"before {self.cert.not_before}")
        if at >= self.not_after:
            raise ExpiredError(f"certificate {self.cert.serial} ({self.cert.subject}) expired "
                               f"at {self.cert.not_after}")


@dataclass(frozen=True)
class RevocationList:
    """A verified revocation list."""

    issuer_key_id: str
    issuer_subject: str
    sequence: int
    issued: str
    serials: frozenset[str]


# ----- issuing -------------------------------------------------------------------------------

def issue_certificate(issuer_key: Ed25519PrivateKey, issuer_subject: str, subject: str, role: str,
                      signing_public: Ed25519PublicKey, hpke_public: HpkePublicKey | None = None,
                      not_before: datetime | None = None, not_after: datetime | None = None,
                      serial: str | None = None) -> bytes:
    """Sign a certificate; returns the signed document bytes (what travels and is verified)."""
    if role not in model.CERT_ROLES:
        raise ValidationError("role", f"must be one of {', '.join(model.CERT_ROLES)}")
    start = not_before or utc_now().replace(microsecond=0)
    end = not_after or start + DEFAULT_VALIDITY[role]
    if end <= start:
        raise ValidationError("not_after", "must be after not_before")
    payload = {
        "format": CERT_FORMAT, "v": 1, "serial": serial or secrets.token_hex(16),
        "subject": subject, "role": role, "signing_key": b64e(signing_public.public_bytes_raw()),
        "hpke_key": None if hpke_public is None else {"suite": hpke_public.suite, "public": b64e(hpke_public.raw)},
        "not_before": format_time(start), "not_after": format_time(end),
        "issuer_key_id": key_id(issuer_key), "issuer_subject": issuer_subject,
    }
    _parse_payload(payload)  # the issuer never signs what a verifier would refuse
    return signing.make_signed(issuer_key, purposes.CERTIFICATE, payload)


def make_root_certificate(central_key: Ed25519PrivateKey, subject: str, hpke_public: HpkePublicKey | None = None,
                          not_before: datetime | None = None, not_after: datetime | None = None) -> bytes:
    """The central body's self-signed certificate (carries its results HPKE key, if given)."""
    return issue_certificate(central_key, subject, subject, ROLE_CENTRAL, central_key.public_key(),
                             hpke_public, not_before, not_after)


# ----- reading -------------------------------------------------------------------------------

def _parse_payload(payload: dict[str, Any]) -> tuple[model.Certificate, Ed25519PublicKey, HpkePublicKey | None]:
    if payload.get("format") != CERT_FORMAT:
        raise MalformedError("not an Invigil certificate")
    if payload.get("v") != 1:
        raise UnknownVersionError(f"unknown certificate version {payload.get('v')!r}")
    body = {k: v for k, v in payload.items() if k not in ("format", "v")}
    try:
        cert = model.Certificate.from_dict(body, "certificate")
    except ValidationError as exc:
        raise MalformedError(exc.reason, exc.field) from None
    raw = b64d(cert.signing_key, "certificate.signing_key", 32)
    if len(raw) != 32:
        raise MalformedError("must be 32 bytes", "certificate.signing_key")
    signing_public = Ed25519PublicKey.from_public_bytes(raw)
    hpke_public = None
    if cert.hpke_key is not None:
        hpke_public = HpkePublicKey(cert.hpke_key.suite,
                                    b64d(cert.hpke_key.public, "certificate.hpke_key.public", 4096))
    if parse_time(cert.not_after, "not_after") <= parse_time(cert.not_before, "not_before"):
        raise MalformedError("not_after must be after not_before", "certificate")
    return cert, signing_public, hpke_public


def read_certificate(data: bytes, issuer: signing.KeySource) -> VerifiedCertificate:
    """Verify a certificate's signature by ``issuer`` (key or resolver); no time or chain checks."""
    if isinstance(issuer, Ed25519PublicKey):
        return _read_certificate_cached(bytes(data), issuer.public_bytes_raw())
    return _read_certificate(bytes(data), issuer)


def _read_certificate(data: bytes, issuer: signing.KeySource) -> VerifiedCertificate:
    opened = signing.open_signed(data, issuer, purposes.CERTIFICATE)
    cert, signing_public, hpke_public = _parse_payload(opened.payload)
    if cert.issuer_key_id != opened.signer:
        raise MalformedError("issuer_key_id differs from the document's signer", "certificate")
    return VerifiedCertificate(cert, signing_public, hpke_public, data)


@functools.lru_cache(maxsize=4096)
def _read_certificate_cached(data: bytes, issuer_raw: bytes) -> VerifiedCertificate:
    """Signature checks are pure functions of (bytes, key), so successes are cached: the central
    body verifies the same few hundred kiosk chains on every envelope. Validity windows and
    revocation are evaluated on every call by ``verify_chain``; failures are never cached."""
    return _read_certificate(data, Ed25519PublicKey.from_public_bytes(issuer_raw))


def read_unverified_certificate(data: bytes) -> model.Certificate:
    """The certificate fields without any trust decision (for display and routing only)."""
    doc = signing.read_unverified(data)
    if doc.purpose != purposes.CERTIFICATE:
        raise WrongPurposeError(f"signed for {doc.purpose!r}, not a certificate")
    payload = loads_strict(doc.payload_bytes)
    if not isinstance(payload, dict):
        raise MalformedError("certificate payload must be an object")
    return _parse_payload(payload)[0]


def verify_root_certificate(data: bytes, root_public: Ed25519PublicKey,
                            at: datetime | None = None) -> VerifiedCertificate:
    """Verify the central body's self-signed certificate against its known public key."""
    verified = read_certificate(data, root_public)
    if verified.cert.role != ROLE_CENTRAL or verified.key_id != key_id(root_public):
        raise UntrustedError("not the central body's self-signed certificate")
    verified.check_valid_at(at or utc_now())
    return verified


# ----- revocation ------------------------------------------------------------------------------

def issue_revocation_list(issuer_key: Ed25519PrivateKey, issuer_subject: str, serials: Iterable[str],
                          sequence: int, issued: datetime | None = None) -> bytes:
    """Sign a revocation list; ``sequence`` must grow with each list an issuer publishes."""
    serial_list = sorted(set(serials))
    if len(serial_list) > limits.REVOCATION_MAX_SERIALS:
        raise TooLargeError(f"more than {limits.REVOCATION_MAX_SERIALS} serials")
    if not isinstance(sequence, int) or sequence < 0:
        raise ValidationError("sequence", "must be a non-negative integer")
    payload = {"format": REVOCATION_FORMAT, "v": 1, "issuer_key_id": key_id(issuer_key),
               "issuer_subject": issuer_subject, "sequence": sequence,
               "issued": format_time(issued or utc_now()), "serials": serial_list}
    return signing.make_signed(issuer_key, purposes.REVOCATION_LIST, payload)


def _parse_revocations(payload: dict[str, Any], signer: str) -> RevocationList:
    if payload.get("format") != REVOCATION_FORMAT:
        raise MalformedError("not an Invigil revocation list")
    if payload.get("v") != 1:
        raise UnknownVersionError(f"unknown revocation list version {payload.get('v')!r}")
    fields = {"format", "v", "issuer_key_id", "issuer_subject", "sequence", "issued", "serials"}
    if set(payload) != fields:
        raise MalformedError(f"fields must be exactly {sorted(fields)}", "revocation list")
    serials, sequence = payload["serials"], payload["sequence"]
    if not isinstance(serials, list) or not all(isinstance(s, str) for s in serials):
        raise MalformedError("must be a list of strings", "serials")
    if len(serials) > limits.REVOCATION_MAX_SERIALS:
        raise TooLargeError(f"more than {limits.REVOCATION_MAX_SERIALS} serials", "serials")
    if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 0:
        raise MalformedError("must be a non-negative integer", "sequence")
    if payload["issuer_key_id"] != signer or not isinstance(payload["issuer_subject"], str):
        raise MalformedError("issuer does not match the signer", "issuer_key_id")
    parse_time(payload["issued"], "issued")
    return RevocationList(signer, payload["issuer_subject"], sequence, payload["issued"], frozenset(serials))


def read_revocation_list(data: bytes, issuer: signing.KeySource) -> RevocationList:
    """Verify and parse a revocation list signed by ``issuer``."""
    opened = signing.open_signed(data, issuer, purposes.REVOCATION_LIST,
                                 max_bytes=limits.REVOCATION_MAX_SERIALS * 80)
    return _parse_revocations(opened.payload, signing.read_unverified(data, limits.REVOCATION_MAX_SERIALS * 80).signer)


def _relevant_revocations(revocations: Iterable[bytes | RevocationList],
                          issuers: dict[str, Ed25519PublicKey]) -> list[RevocationList]:
    """Verify the lists whose signer is one of ``issuers``; skip lists from other signers."""
    relevant = []
    for item in revocations:
        if isinstance(item, RevocationList):
            if item.issuer_key_id in issuers:
                relevant.append(item)
            continue
        signer = signing.read_unverified(item, limits.REVOCATION_MAX_SERIALS * 80).signer
        if signer in issuers:
            relevant.append(read_revocation_list(item, issuers[signer]))
    return relevant


# ----- chains --------------------------------------------------------------------------------

def verify_chain(chain: Sequence[bytes], root_public: Ed25519PublicKey, at: datetime | None = None,
                 revocations: Iterable[bytes | RevocationList] = (),
                 leaf_role: str | None = None) -> list[VerifiedCertificate]:
    """Verify ``[centre_cert, kiosk_cert, ...]`` from the central root key down.

    Each certificate must be signed by the previous one's key (the first by ``root_public``),
    hold the role the issuer may issue (central -> centre -> kiosk), name its issuer's subject,
    be valid at ``at`` (default now) and not be revoked by the root or by its issuer.
    Raises ``UntrustedError`` (wrong issuer, role or shape of chain), ``ExpiredError``,
    ``RevokedError``, or the signature errors of ``signing.open_signed``.

    Successful verifications are cached (see ``_ChainCache``); validity at ``at`` is checked on
    every call, so a cached chain still expires.
    """
    if not chain:
        raise UntrustedError("empty certificate chain")
    if len(chain) > limits.CHAIN_MAX_CERTS:
        raise TooLargeError(f"chain longer than {limits.CHAIN_MAX_CERTS}")
    moment = at or utc_now()
    revocation_list = list(revocations)
    cache_key = _CHAIN_CACHE.key(chain, root_public, revocation_list, leaf_role)
    cached = None if cache_key is None else _CHAIN_CACHE.get(cache_key)
    if cached is not None:
        for cert in cached:
            cert.check_valid_at(moment)
        return list(cached)
    verified = _verify_chain_uncached(chain, root_public, moment, revocation_list, leaf_role)
    if cache_key is not None:
        _CHAIN_CACHE.put(cache_key, tuple(verified))
    return verified


def _verify_chain_uncached(chain: Sequence[bytes], root_public: Ed25519PublicKey, moment: datetime,
                           revocation_list: list[bytes | RevocationList],
                           leaf_role: str | None) -> list[VerifiedCertificate]:
    issuer_public, issuer_role, issuer_subject = root_public, ROLE_CENTRAL, None
    verified: list[VerifiedCertificate] = []
    for position, data in enumerate(chain):
        try:
            cert = read_certificate(data, issuer_public)
        except WrongKeyError as exc:
            raise UntrustedError(f"chain[{position}] is not issued by the expected key: {exc}") from None
        if cert.cert.role != ISSUES.get(issuer_role):
            raise UntrustedError(f"chain[{position}]: a {issuer_role} cannot certify a {cert.cert.role}")
        if issuer_subject is not None and cert.cert.issuer_subject != issuer_subject:
            raise UntrustedError(f"chain[{position}]: issuer_subject {cert.cert.issuer_subject!r} "
                                 f"is not {issuer_subject!r}")
        cert.check_valid_at(moment)
        verified.append(cert)
        issuer_public, issuer_role, issuer_subject = cert.signing_public, cert.cert.role, cert.cert.subject
    _check_revocations(verified, root_public, revocation_list)
    if leaf_role is not None and verified[-1].cert.role != leaf_role:
        raise UntrustedError(f"chain ends in a {verified[-1].cert.role}, expected a {leaf_role}")
    return verified


#: What a verified chain is cached under: the chain's bytes, the root key, the leaf role, the lists.
CacheKey = tuple[tuple[bytes, ...], bytes, str | None, tuple[bytes | RevocationList, ...]]


class _ChainCache:
    """A small LRU of verified chains, because the central body checks the same few hundred kiosk
    chains (and the same revocation lists, whose signatures and parsing cost more than the chain's)
    on every envelope.

    The key is everything the time-independent checks depend on: the exact certificate bytes, the
    root key's raw bytes, the required leaf role, and each revocation list's identity (its exact
    signed bytes, or the verified ``RevocationList`` value). A different list, even a newer one
    from the same issuer, is a different key. Only successes are stored; the validity window is
    checked again at each call's moment. Bounded, thread-safe.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[CacheKey, tuple[VerifiedCertificate, ...]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(chain: Sequence[bytes], root_public: Ed25519PublicKey, revocations: list[bytes | RevocationList],
            leaf_role: str | None) -> CacheKey | None:
        if not isinstance(root_public, Ed25519PublicKey):
            return None  # not cacheable: verified uncached (and refused there)
        lists = tuple(item if isinstance(item, RevocationList) else bytes(item) for item in revocations)
        return tuple(bytes(c) for c in chain), root_public.public_bytes_raw(), leaf_role, lists

    def get(self, key: CacheKey) -> tuple[VerifiedCertificate, ...] | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: CacheKey, verified: tuple[VerifiedCertificate, ...]) -> None:
        with self._lock:
            self._entries[key] = verified
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


#: Verified chains kept (a few hundred kiosks per central body; each entry is a few kB).
CHAIN_CACHE_ENTRIES = 512
_CHAIN_CACHE = _ChainCache(CHAIN_CACHE_ENTRIES)


def _check_revocations(verified: list[VerifiedCertificate], root_public: Ed25519PublicKey,
                       revocations: list[bytes | RevocationList]) -> None:
    if not revocations:
        return
    issuers = {key_id(root_public): root_public, **{c.key_id: c.signing_public for c in verified}}
    lists = _relevant_revocations(revocations, issuers)
    root_id = key_id(root_public)
    for cert in verified:
        for rl in lists:
            if cert.cert.serial in rl.serials and rl.issuer_key_id in (root_id, cert.cert.issuer_key_id):
                raise RevokedError(f"certificate {cert.cert.serial} ({cert.cert.role} "
                                   f"{cert.cert.subject}) revoked by list #{rl.sequence} of {rl.issuer_subject}")


def chain_to_b64(chain: Sequence[bytes]) -> list[str]:
    return [b64e(c) for c in chain]


def chain_from_b64(values: Any, field: str = "chain") -> list[bytes]:
    if not isinstance(values, list) or not values:
        raise MalformedError("must be a non-empty list", field)
    if len(values) > limits.CHAIN_MAX_CERTS:
        raise TooLargeError(f"more than {limits.CHAIN_MAX_CERTS} certificates", field)
    return [b64d(v, f"{field}[{i}]", limits.SIGNED_DOC_MAX_BYTES) for i, v in enumerate(values)]

