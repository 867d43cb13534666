"""The console <-> central protocol (the sync API and air-gap bundles), one source of truth.

A test centre's console and the central body exchange form packages one way and sealed response
envelopes the other, over HTTPS (``python -m proctor_console sync`` against ``python -m
item_bank_sync serve``) or on removable media (bundles). Both ends import this module, as kiosk
and console both import :mod:`exam_core.protocol`, so the paths, shapes, limits, purposes and
format names of this protocol are written once and cannot drift apart. docs/WIRE-FORMATS.md
describes them in prose.

What travels (every HTTP request is signed by the centre, :mod:`exam_core.signed_request`):

``GET  PACKAGES_PATH``          :class:`PackageList`, signed by the central key and bound to the
                                request's nonce (an old list cannot be replayed to the centre).
``GET  package_path(id)``       the package bytes (``exam_core.package``); ``Range`` resumes.
``GET  REVOCATIONS_PATH``       the central revocation list (``exam_core.certs``).
``POST ENVELOPES_PATH``         an :class:`Upload`, answered by an :class:`UploadAnswer`: one
                                :class:`EnvelopeOutcome` (with the signed receipt) per envelope.
bundle to the central body      :class:`EnvelopesBundle`: the upload's content, signed by the
                                centre and sealed to the central results key.
bundle to a centre              :class:`CentreBundle`: packages, revocation list, receipts,
                                the kiosk revocations recorded and the centre's signed session
                                rosters (:mod:`exam_core.roster_wire`), signed by the central key
                                and sealed to the centre's HPKE key.
``GET  roster_wire.ROSTERS_PATH``  the centre's signed session rosters (each verified on its own).
``init`` at a centre            the :class:`CentreEnrolmentRequest` (signed by the centre key).
a centre revokes a kiosk        a :class:`KioskRevocation` (signed by the centre key), carried in
                                the next upload or bundle.

The attempt result inside each envelope is :mod:`exam_core.result`. Readers are strict (unknown
fields refused) and writers produce exactly the bytes the earlier hand-written code produced, so
uploads, bundles and documents written before this module existed still read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from exam_core import limits, purposes, roster_wire, signing
from exam_core.errors import ArtefactError, TamperedError, ValidationError, WrongKeyError
from exam_core.jsonio import b64d, b64e, loads_strict
from exam_core.keys import HpkePrivateKey, HpkePublicKey, public_key_from_dict
from exam_core.model import IDENTIFIER_RE, SEVERITIES, SHA256_RE, TIMESTAMP_RE
from exam_core.protocol import JournalHeadInfo
from exam_core.records import Fields, Record, check_str
from exam_core.sealed_file import open_file, seal_file

#: The ``v`` of every document of this protocol.
SYNC_VERSION = 1

# --- paths of the sync API -----------------------------------------------------------------------

PACKAGES_PATH = "/v1/packages"
#: The package download route as Flask spells it; clients build the path with :func:`package_path`.
PACKAGE_ROUTE = PACKAGES_PATH + "/<package_id>"
REVOCATIONS_PATH = "/v1/revocations"
ENVELOPES_PATH = "/v1/envelopes"

# --- limits ----------------------------------------------------------------------------------------

#: An upload body as received: several envelopes in base64, each below the envelope limit.
UPLOAD_MAX_BYTES = 64 * limits.MIB
UPLOAD_MAX_ENVELOPES = 500
#: The signed package list, and the revocation list, as a centre accepts them.
PACKAGE_LIST_MAX_BYTES = 4 * limits.MIB
#: The central body's answer to an upload (receipts of up to ``UPLOAD_MAX_ENVELOPES`` envelopes).
ANSWER_MAX_BYTES = 64 * limits.MIB
#: Envelopes one bundle to the central body may carry (the console writes at most this many).
BUNDLE_MAX_ENVELOPES = 10_000
#: Packages, receipts or acknowledgements in one bundle to a centre: bounded in practice by
#: ``limits.BUNDLE_MAX_BYTES``; this only stops a list of millions of tiny entries.
BUNDLE_MAX_ENTRIES = 1_000_000
#: What a console says about one envelope: proctors named, incidents, journal heads seen.
MAX_PROCTORS = 20
MAX_INCIDENTS = 1000
MAX_JOURNAL_HEADS = 10_000
INCIDENT_DETAIL_MAX_BYTES = 8 * limits.KIB
#: Kiosk revocations per upload or bundle, and the size of one signed revocation.
MAX_KIOSK_REVOCATIONS = 1000
MAX_KIOSK_REVOCATION_BYTES = 4 * limits.KIB

# --- bundle formats --------------------------------------------------------------------------------

FOR_CENTRE_FORMAT = "invigil-bundle-for-centre"
ENVELOPES_FORMAT = "invigil-bundle-envelopes"

#: What the central body did with an envelope (``EnvelopeOutcome.status``).
ACCEPTED, QUARANTINED, REJECTED = "accepted", "quarantined", "rejected"
STATUSES = (ACCEPTED, QUARANTINED, REJECTED)

_EVENT_KIND_RE = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
_KEY_ID_RE = re.compile(r"^[0-9a-f]{32}$")


def package_path(package_id: str) -> str:
    """The download path of one package (``PACKAGES_PATH/<package_id>``)."""
    return f"{PACKAGES_PATH}/{check_str(package_id, 'package_id', pattern=IDENTIFIER_RE)}"


def _documents(r: Fields, name: str, max_count: int, max_bytes: int) -> tuple[bytes, ...]:
    """A list of base64 binary documents, decoded, bounded in number and size (absent: empty)."""
    values = r.list(name, [], max_len=max_count)
    where = r.where(name)
    try:
        return tuple(b64d(value, f"{where}[{index}]", max_bytes) for index, value in enumerate(values))
    except ArtefactError as exc:  # MalformedError or TooLargeError, reported as a field error
        raise ValidationError(exc.field or where, exc.reason) from None


def _binary(r: Fields, name: str, max_bytes: int, default: Any = ...) -> Any:
    """One base64 field, decoded once (None when the default is None and it is absent or null)."""
    text = r.raw(name, default, nullable=default is None)
    if text is None:
        return None
    try:
        return b64d(text, r.where(name), max_bytes)
    except ArtefactError as exc:  # MalformedError or TooLargeError, reported as a field error
        raise ValidationError(r.where(name), exc.reason) from None


# --- package list ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PackageListEntry(Record):
    """One package the central body published for the calling centre."""

    package_id: str
    form_id: str
    form_version: int
    opens: str
    closes: str
    sha256: str
    size: int

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> PackageListEntry:
        r = Fields(data, path)
        out = cls(
            package_id=r.str("package_id", pattern=IDENTIFIER_RE),
            form_id=r.str("form_id", pattern=IDENTIFIER_RE),
            form_version=r.int("form_version", minimum=1),
            opens=r.str("opens", max_len=40),
            closes=r.str("closes", max_len=40),
            sha256=r.str("sha256", pattern=SHA256_RE),
            size=r.int("size", minimum=1, maximum=limits.PACKAGE_MAX_BYTES),
        )
        r.done()
        return out


@dataclass(frozen=True)
class PackageList(Record):
    """``GET PACKAGES_PATH``: signed by the central key (purpose ``sync-package-list``) over the
    calling centre, the request's nonce and the time, so only this request's answer verifies."""

    centre_id: str
    nonce: str
    at: str
    packages: tuple[PackageListEntry, ...]

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> PackageList:
        r = Fields(data, path)
        out = cls(
            centre_id=r.str("centre_id", pattern=IDENTIFIER_RE),
            nonce=r.str("nonce", max_len=64),
            at=r.str("at", pattern=TIMESTAMP_RE),
            packages=r.records("packages", PackageListEntry),
        )
        r.done()
        return out


def make_package_list(central_key: Ed25519PrivateKey, package_list: PackageList) -> bytes:
    """The signed package list document the sync API answers."""
    return signing.make_signed(central_key, purposes.SYNC_PACKAGE_LIST, package_list.to_dict())


def open_package_list(data: bytes, central: Ed25519PublicKey, centre_id: str, nonce: str) -> PackageList:
    """Verify a package list against the central key, then require it to answer this request."""
    opened = signing.open_signed(data, central, purposes.SYNC_PACKAGE_LIST, max_bytes=PACKAGE_LIST_MAX_BYTES)
    package_list = PackageList.from_dict(opened.payload, "package_list")
    if package_list.centre_id != centre_id or package_list.nonce != nonce:
        raise TamperedError("package list is not the answer to this request (centre or nonce differs)")
    return package_list


# --- upload: envelopes and what the console says about them -----------------------------------------

@dataclass(frozen=True)
class Incident(Record):
    """An alert or a proctor's incident report about the attempt, as the console recorded it."""

    kind: str
    severity: str
    at: str
    rule: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Incident:
        r = Fields(data, path)
        out = cls(
            kind=r.str("kind", pattern=_EVENT_KIND_RE),
            severity=r.str("severity", choices=SEVERITIES),
            at=r.str("at", max_len=40),
            rule=r.str("rule", "", max_len=100),
            detail=r.dict("detail", {}),
        )
        r.done()
        if len(json.dumps(out.detail)) > INCIDENT_DETAIL_MAX_BYTES:
            raise ValidationError(r.where("detail"), f"is larger than {INCIDENT_DETAIL_MAX_BYTES // limits.KIB} KiB")
        return out


@dataclass(frozen=True)
class EnvelopeMeta(Record):
    """What the centre's console says about an envelope: who proctored the attempt, which alerts
    and incidents concern it, and every journal head the kiosk reported in its heartbeats (the
    central body checks each against the journal chain sealed in the envelope).

    Carried in the authenticated upload (or the signed bundle), so attributable to the centre.
    ``journal_heads`` is left out when empty; a single ``journal_head`` (earlier consoles) reads
    as a list of one.
    """

    proctors: tuple[str, ...] = ()
    incidents: tuple[Incident, ...] = ()
    journal_heads: tuple[JournalHeadInfo, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"proctors": list(self.proctors), "incidents": [i.to_dict() for i in self.incidents]}
        if self.journal_heads:
            out["journal_heads"] = [h.to_dict() for h in self.journal_heads]
        return out

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> EnvelopeMeta:
        r = Fields(data, path)
        out = cls.read(r)
        r.done()
        return out

    @classmethod
    def read(cls, r: Fields) -> EnvelopeMeta:
        """The meta fields of an object that may hold others (an upload entry holds the envelope)."""
        proctors = r.list("proctors", [], max_len=MAX_PROCTORS)
        names = tuple(check_str(p, f"{r.where('proctors')}[{i}]", max_len=200) for i, p in enumerate(proctors))
        if not all(names):
            raise ValidationError(r.where("proctors"), "names must not be empty")
        incidents = r.records("incidents", Incident, [], max_len=MAX_INCIDENTS)
        if "journal_head" in r.data:
            if "journal_heads" in r.data:
                raise ValidationError(r.where("journal_head"), "give journal_heads only")
            heads: tuple[JournalHeadInfo, ...] = (r.record("journal_head", JournalHeadInfo),)
        else:
            heads = r.records("journal_heads", JournalHeadInfo, [], max_len=MAX_JOURNAL_HEADS)
        return cls(names, incidents, heads)


@dataclass(frozen=True)
class UploadEntry(Record):
    """One envelope of an upload (its exact bytes) with the console's meta beside it."""

    envelope: bytes
    meta: EnvelopeMeta = EnvelopeMeta()

    def to_dict(self) -> dict[str, Any]:
        return {"envelope": b64e(self.envelope), **self.meta.to_dict()}

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> UploadEntry:
        r = Fields(data, path)
        envelope = _binary(r, "envelope", limits.ENVELOPE_MAX_BYTES)
        out = cls(envelope, EnvelopeMeta.read(r))
        r.done()
        return out


def _kiosk_revocations(r: Fields) -> tuple[bytes, ...]:
    return _documents(r, "kiosk_revocations", MAX_KIOSK_REVOCATIONS, MAX_KIOSK_REVOCATION_BYTES)


@dataclass(frozen=True)
class Upload(Record):
    """``POST ENVELOPES_PATH``: ``{"envelopes": [entry, ...], "kiosk_revocations"?: [base64]}``.

    1 to ``UPLOAD_MAX_ENVELOPES`` envelopes, or none when the upload carries kiosk revocations
    (signed documents, see :class:`KioskRevocation`), which the central body records first, all
    or none, before it judges any envelope of the same upload.
    """

    envelopes: tuple[UploadEntry, ...]
    kiosk_revocations: tuple[bytes, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"envelopes": [e.to_dict() for e in self.envelopes]}
        if self.kiosk_revocations:
            out["kiosk_revocations"] = [b64e(doc) for doc in self.kiosk_revocations]
        return out

    def to_bytes(self) -> bytes:
        """The request body (``json.dumps`` spacing, as consoles have always sent it)."""
        return json.dumps(self.to_dict()).encode()

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> Upload:
        r = Fields(data, path)
        revocations = _kiosk_revocations(r)
        envelopes = r.records("envelopes", UploadEntry, max_len=UPLOAD_MAX_ENVELOPES)
        r.done()
        if not envelopes and not revocations:
            raise ValidationError(r.where("envelopes"), "must hold at least one envelope (or kiosk revocations)")
        return cls(envelopes, revocations)


def parse_upload(body: bytes) -> Upload:
    """An upload body as received, strictly (size, JSON, every field)."""
    return Upload.from_dict(loads_strict(body, max_bytes=UPLOAD_MAX_BYTES))


# --- the answer to an upload ----------------------------------------------------------------------------

@dataclass(frozen=True)
class EnvelopeOutcome(Record):
    """What the central body did with one uploaded envelope, with its signed receipt.

    The same envelope again gets the same receipt bytes (``duplicate`` true). ``flags`` are
    reasons for a person to review an accepted envelope. The console drops its copy only for a
    receipt that verifies for exactly the bytes it holds (``exam_core.receipt``).
    """

    envelope_sha256: str
    status: str
    reason: str
    attempt_id: str | None
    receipt: bytes | None
    duplicate: bool = False
    flags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"envelope_sha256": self.envelope_sha256, "status": self.status, "reason": self.reason,
                "attempt_id": self.attempt_id, "duplicate": self.duplicate, "flags": list(self.flags),
                "receipt": None if self.receipt is None else b64e(self.receipt)}

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> EnvelopeOutcome:
        r = Fields(data, path)
        flags = r.list("flags", [], max_len=100)
        out = cls(
            envelope_sha256=r.str("envelope_sha256", pattern=SHA256_RE),
            status=r.str("status", choices=STATUSES),
            reason=r.str("reason", max_len=10_000),
            attempt_id=r.str("attempt_id", None, max_len=200, nullable=True),
            receipt=_binary(r, "receipt", limits.SIGNED_DOC_MAX_BYTES, None),
            duplicate=r.bool("duplicate", False),
            flags=tuple(check_str(f, f"{r.where('flags')}[{i}]", max_len=1000) for i, f in enumerate(flags)),
        )
        r.done()
        return out


@dataclass(frozen=True)
class UploadAnswer(Record):
    """The answer to an upload: one outcome per envelope, in upload order, and how many of the
    upload's kiosk revocations were recorded (new or already known)."""

    results: tuple[EnvelopeOutcome, ...]
    kiosk_revocations_recorded: int = 0

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> UploadAnswer:
        r = Fields(data, path)
        out = cls(results=r.records("results", EnvelopeOutcome, max_len=UPLOAD_MAX_ENVELOPES),
                  kiosk_revocations_recorded=r.int("kiosk_revocations_recorded", 0, minimum=0,
                                                   maximum=MAX_KIOSK_REVOCATIONS))
        r.done()
        return out


def parse_upload_answer(body: bytes, upload: Upload) -> UploadAnswer:
    """The central body's answer to ``upload``, strictly, with exactly one result per envelope."""
    answer = UploadAnswer.from_dict(loads_strict(body, max_bytes=ANSWER_MAX_BYTES))
    if len(answer.results) != len(upload.envelopes):
        raise ValidationError("results", f"holds {len(answer.results)} results for {len(upload.envelopes)} envelopes")
    return answer


# --- air-gap bundles -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class BundlePackage(Record):
    """A form package carried in a bundle to a centre (its bytes, and their SHA-256)."""

    package_id: str
    sha256: str
    data: bytes

    def to_dict(self) -> dict[str, Any]:
        return {"package_id": self.package_id, "sha256": self.sha256, "data": b64e(self.data)}

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> BundlePackage:
        r = Fields(data, path)
        out = cls(package_id=r.str("package_id", pattern=IDENTIFIER_RE),
                  sha256=r.str("sha256", pattern=SHA256_RE),
                  data=_binary(r, "data", limits.PACKAGE_MAX_BYTES))
        r.done()
        return out


@dataclass(frozen=True)
class RecordedRevocation(Record):
    """A kiosk revocation of the centre that the central body recorded (acknowledged in a bundle)."""

    kiosk_id: str
    key_id: str

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> RecordedRevocation:
        r = Fields(data, path)
        out = cls(kiosk_id=r.str("kiosk_id", pattern=IDENTIFIER_RE), key_id=r.str("key_id", pattern=_KEY_ID_RE))
        r.done()
        return out


@dataclass(frozen=True)
class Bundle(Record):
    """What a bundle says in either direction: its format and version, the centre, when made.
    Each direction has its own purpose (bound into the signature and the sealing) and format."""

    PURPOSE: ClassVar[str]
    FORMAT: ClassVar[str]

    centre_id: str
    created: str

    def _head(self) -> dict[str, Any]:
        return {"format": self.FORMAT, "v": SYNC_VERSION, "centre_id": self.centre_id, "created": self.created}

    @classmethod
    def _read_head(cls, r: Fields) -> dict[str, Any]:
        r.constant("format", cls.FORMAT)
        r.version(SYNC_VERSION)
        return {"centre_id": r.str("centre_id", pattern=IDENTIFIER_RE),
                "created": r.str("created", pattern=TIMESTAMP_RE)}


@dataclass(frozen=True)
class CentreBundle(Bundle):
    """Central -> centre on removable media (purpose ``sync-bundle-to-centre``): the centre's
    packages, the revocation list, every receipt of the centre's envelopes, the centre's kiosk
    revocations recorded centrally (so its console marks them sent), and the signed rosters of its
    sessions (``exam_core.roster_wire``; left out when there is none, so bundles without rosters keep
    their earlier bytes)."""

    PURPOSE: ClassVar[str] = purposes.BUNDLE_TO_CENTRE
    FORMAT: ClassVar[str] = FOR_CENTRE_FORMAT

    packages: tuple[BundlePackage, ...]
    revocations: bytes
    receipts: tuple[bytes, ...]
    kiosk_revocations_recorded: tuple[RecordedRevocation, ...] = ()
    rosters: tuple[bytes, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = {**self._head(), "packages": [p.to_dict() for p in self.packages],
               "revocations": b64e(self.revocations), "receipts": [b64e(r) for r in self.receipts],
               "kiosk_revocations_recorded": [k.to_dict() for k in self.kiosk_revocations_recorded]}
        if self.rosters:
            out["rosters"] = [b64e(doc) for doc in self.rosters]
        return out

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> CentreBundle:
        r = Fields(data, path)
        out = cls(
            **cls._read_head(r),
            packages=r.records("packages", BundlePackage, max_len=BUNDLE_MAX_ENTRIES),
            revocations=_binary(r, "revocations", limits.REVOCATION_MAX_SERIALS * 80),
            receipts=_documents(r, "receipts", BUNDLE_MAX_ENTRIES, limits.SIGNED_DOC_MAX_BYTES),
            kiosk_revocations_recorded=r.records("kiosk_revocations_recorded", RecordedRevocation, [],
                                                 max_len=BUNDLE_MAX_ENTRIES),
            rosters=_documents(r, "rosters", roster_wire.MAX_ROSTERS, roster_wire.ROSTER_MAX_BYTES),
        )
        r.done()
        return out


@dataclass(frozen=True)
class EnvelopesBundle(Bundle):
    """Centre -> central on removable media (purpose ``sync-bundle-to-central``): an upload's
    content (envelopes with their meta, kiosk revocations) from one centre."""

    PURPOSE: ClassVar[str] = purposes.BUNDLE_TO_CENTRAL
    FORMAT: ClassVar[str] = ENVELOPES_FORMAT

    envelopes: tuple[UploadEntry, ...]
    kiosk_revocations: tuple[bytes, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**self._head(), "envelopes": [e.to_dict() for e in self.envelopes],
                "kiosk_revocations": [b64e(doc) for doc in self.kiosk_revocations]}

    def upload(self) -> Upload:
        """The bundle's content as the sync API would have received it."""
        return Upload(self.envelopes, self.kiosk_revocations)

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> EnvelopesBundle:
        r = Fields(data, path)
        out = cls(
            **cls._read_head(r),
            envelopes=r.records("envelopes", UploadEntry, max_len=BUNDLE_MAX_ENVELOPES),
            kiosk_revocations=_kiosk_revocations(r),
        )
        r.done()
        return out


def seal_bundle(bundle: Bundle, signing_key: Ed25519PrivateKey,
                recipient: HpkePublicKey) -> bytes:
    """The bundle file: a signed document over the payload (``json.dumps`` bytes, as always),
    sealed to the recipient for the bundle's purpose (``exam_core.sealed_file``), so a lost
    medium reveals nothing and a modified one is refused."""
    signed = signing.make_signed(signing_key, bundle.PURPOSE, json.dumps(bundle.to_dict()).encode())
    return seal_file(recipient, bundle.PURPOSE, signed, limits.BUNDLE_MAX_BYTES)


def open_centre_bundle(data: bytes, centre_private: HpkePrivateKey, central: Ed25519PublicKey,
                       centre_id: str) -> CentreBundle:
    """A centre opens a bundle from the central body: sealed to it, signed by the central key,
    and addressed to this centre (``WrongKeyError`` otherwise)."""
    signed = open_file(centre_private, CentreBundle.PURPOSE, data, limits.BUNDLE_MAX_BYTES)
    opened = signing.open_signed(signed, central, CentreBundle.PURPOSE, max_bytes=limits.BUNDLE_MAX_BYTES)
    bundle = CentreBundle.from_dict(opened.payload, "bundle")
    if bundle.centre_id != centre_id:
        raise WrongKeyError(f"bundle is for centre {bundle.centre_id!r}, this console is {centre_id!r}")
    return bundle


def open_envelopes_bundle(data: bytes, results_private: HpkePrivateKey,
                          centre_key: Callable[[str], Ed25519PublicKey]) -> EnvelopesBundle:
    """The central body opens a centre's bundle: sealed to its results key, then signed by the
    centre the payload names, whose key ``centre_key(centre_id)`` returns after checking that the
    centre is enrolled and its certificate valid now (it raises otherwise).

    The payload is parsed once, before the signature is checked, only to learn which centre's key
    to check it with; nothing of it is used unless the signature verifies.
    """
    signed = open_file(results_private, EnvelopesBundle.PURPOSE, data, limits.BUNDLE_MAX_BYTES)
    document = signing.read_unverified(signed, limits.BUNDLE_MAX_BYTES)
    payload = signing.parse_payload(document, limits.BUNDLE_MAX_BYTES)
    claimed = payload.get("centre_id")
    if not isinstance(claimed, str) or not IDENTIFIER_RE.match(claimed):
        raise ValidationError("bundle.centre_id", "the bundle names no centre")
    signing.check_signature(document, centre_key(claimed), EnvelopesBundle.PURPOSE)
    return EnvelopesBundle.from_dict(payload, "bundle")


# --- centre enrolment ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class CentreEnrolmentRequest(Record):
    """What a centre's ``init`` writes for the central body (``centres add --request``): signed
    by the centre's own Ed25519 key (proof of possession); the central body answers with a centre
    certificate over these keys."""

    centre_id: str
    name: str
    signing_key: dict[str, Any]     # keys.public_key_to_dict (Ed25519)
    hpke_key: dict[str, Any]        # keys.public_key_to_dict (HPKE)
    created: str
    tls_fingerprint_sha256: str = ""
    v: int = SYNC_VERSION

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> CentreEnrolmentRequest:
        r = Fields(data, path)
        r.version(SYNC_VERSION)
        out = cls(
            centre_id=r.str("centre_id", pattern=IDENTIFIER_RE),
            name=r.str("name", max_len=300),
            signing_key=r.dict("signing_key", max_len=3),
            hpke_key=r.dict("hpke_key", max_len=3),
            created=r.str("created", pattern=TIMESTAMP_RE),
            tls_fingerprint_sha256=r.str("tls_fingerprint_sha256", "", max_len=64),
        )
        r.done()
        return out


def make_enrolment_request(private: Ed25519PrivateKey, request: CentreEnrolmentRequest) -> bytes:
    """The signed enrolment request document (``init`` writes it to ``enrolment-request.json``)."""
    return signing.make_signed(private, purposes.CENTRE_ENROLMENT_REQUEST, request.to_dict())


def open_enrolment_request(data: bytes) -> CentreEnrolmentRequest:
    """Verify an enrolment request against the Ed25519 key it carries (proof of possession).

    This proves only that the requester holds the key; the central body still decides out of band
    whether ``centre_id`` is who it claims to be.
    """
    unverified = signing.read_unverified(data)
    request = CentreEnrolmentRequest.from_dict(
        loads_strict(unverified.payload_bytes, max_bytes=64 * limits.KIB), "payload")
    public = public_key_from_dict(request.signing_key, "signing_key")
    if not isinstance(public, Ed25519PublicKey):
        raise ValidationError("signing_key", "must be an Ed25519 key")
    signing.open_signed(data, public, purposes.CENTRE_ENROLMENT_REQUEST)
    public_key_from_dict(request.hpke_key, "hpke_key")
    return request


# --- kiosk revocations (centre -> central body, in the upload or a bundle) ------------------------------

@dataclass(frozen=True)
class KioskRevocation(Record):
    """A centre's statement that it revoked one kiosk key at ``revoked_at``, signed by the centre key.

    The central body records it and from then on treats envelopes that this kiosk key sealed at or
    after ``revoked_at`` as untrusted, while earlier ones still open. ``key_id`` is the kiosk's
    Ed25519 key id (``exam_core.keys.key_id``), the key that signs envelope headers.
    """

    centre_id: str
    kiosk_id: str
    key_id: str
    cert_serial: str
    revoked_at: str
    revoked_by: str
    reason: str = ""
    v: int = SYNC_VERSION

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> KioskRevocation:
        r = Fields(data, path)
        r.version(SYNC_VERSION)
        out = cls(
            centre_id=r.str("centre_id", pattern=IDENTIFIER_RE),
            kiosk_id=r.str("kiosk_id", pattern=IDENTIFIER_RE),
            key_id=r.str("key_id", pattern=_KEY_ID_RE),
            cert_serial=r.str("cert_serial", pattern=_KEY_ID_RE),
            revoked_at=r.str("revoked_at", pattern=TIMESTAMP_RE),
            revoked_by=r.str("revoked_by", max_len=100),
            reason=r.str("reason", "", max_len=1000),
        )
        r.done()
        if not out.revoked_by.strip():
            raise ValidationError(r.where("revoked_by"), "is required")
        return out


def make_kiosk_revocation(centre_private: Ed25519PrivateKey, revocation: KioskRevocation) -> bytes:
    """The signed revocation document (purpose ``kiosk-revocation``) the console sends in its sync."""
    return signing.make_signed(centre_private, purposes.KIOSK_REVOCATION, revocation.to_dict())


def open_kiosk_revocation(data: bytes, centre_public: Ed25519PublicKey) -> KioskRevocation:
    """Verify a kiosk revocation against the delivering centre's certified key, then parse it strictly."""
    if len(data) > MAX_KIOSK_REVOCATION_BYTES:
        raise ValidationError("kiosk_revocation", f"is larger than {MAX_KIOSK_REVOCATION_BYTES} bytes")
    opened = signing.open_signed(data, centre_public, purposes.KIOSK_REVOCATION,
                                 max_bytes=MAX_KIOSK_REVOCATION_BYTES)
    return KioskRevocation.from_dict(opened.payload, "kiosk_revocation")
