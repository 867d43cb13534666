"""A session's signed roster: who may sit, in which seat, with which photo and accommodations.

The central body publishes a session (``item_bank_sync sessions publish``) by signing one
:class:`SessionRoster` with its signing key (purpose ``session-roster``, bound with the format
version into the exact bytes signed, :mod:`exam_core.signing`). The centre's console pulls it with
its packages (``GET ROSTERS_PATH`` of the sync API) or takes it from an air-gap bundle, and
imports it only after :func:`open_roster` has checked, in this order: the signature against the
central key, the format and its version, the centre (a roster for another centre is refused), the
session (when the caller names one), and every entry strictly. The console then refuses a roster
whose ``version`` is not newer than the one it holds for that session, so an old roster replayed
from a stale bundle can never replace a newer one.

Why a document of its own (not rows in the package list): a roster carries personal data and
photos, changes after packages are built (bookings move until the cut-off) and is kept by the
centre as evidence of who was entitled to sit, so it is signed on its own and kept as signed.

The reader re-checks what the signer should already have guaranteed: each photo's SHA-256 and
that it is a JPEG (the console serves it as ``image/jpeg``), unique candidates and seats, and
each candidate's accommodations against the scheme's policy the roster carries: a roster can never
grant what the scheme does not allow, even if the central body's own check were bypassed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from exam_core import limits, purposes, signing
from exam_core.errors import ArtefactError, ValidationError, WrongKeyError
from exam_core.jsonio import b64d, b64e, loads_strict
from exam_core.model import IDENTIFIER_RE, SHA256_RE, TIMESTAMP_RE, AccommodationPolicy, Accommodations
from exam_core.records import Fields, Record, check_str

FORMAT = "invigil-session-roster"
VERSION = 1
#: The sync API path a centre fetches its rosters from: ``{"rosters": [base64 signed roster, ...]}``.
ROSTERS_PATH = "/v1/rosters"

#: Candidates on one roster (a session's capacity is at most 10 000 seats).
MAX_CANDIDATES = 10_000
#: One identity photo (the central body re-encodes photos to JPEG of at most 800 px a side).
PHOTO_MAX_BYTES = 1 * limits.MIB
#: A signed roster document as a centre accepts it (photos in base64 included).
ROSTER_MAX_BYTES = 128 * limits.MIB
#: The sync API's answer listing a centre's rosters.
ROSTER_LIST_MAX_BYTES = 4 * ROSTER_MAX_BYTES
#: Rosters in one answer or bundle (sessions of one centre not yet started).
MAX_ROSTERS = 500
JPEG_MAGIC = b"\xff\xd8\xff"


@dataclass(frozen=True)
class RosterCandidate(Record):
    """One booked candidate: the identifier the attempt will carry, name, seat, identity photo
    (JPEG bytes, or None when the body holds none) and the accommodations approved for them."""

    candidate_id: str
    name: str
    seat: str
    photo: bytes | None = None
    accommodations: Accommodations = field(default_factory=Accommodations)

    @property
    def photo_sha256(self) -> str | None:
        return None if self.photo is None else hashlib.sha256(self.photo).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {"candidate_id": self.candidate_id, "name": self.name, "seat": self.seat,
                "photo": None if self.photo is None else b64e(self.photo), "photo_sha256": self.photo_sha256,
                "accommodations": self.accommodations.to_dict()}

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> RosterCandidate:
        r = Fields(data, path)
        text = r.raw("photo", None, nullable=True)
        digest = r.str("photo_sha256", None, pattern=SHA256_RE, nullable=True)
        out = cls(candidate_id=r.str("candidate_id", pattern=IDENTIFIER_RE),
                  name=r.str("name", max_len=300),
                  seat=r.str("seat", max_len=50),
                  photo=None if text is None else _photo(text, r.where("photo")),
                  accommodations=r.record("accommodations", Accommodations))
        r.done()
        if not out.name.strip():
            raise ValidationError(r.where("name"), "is required")
        if out.photo_sha256 != digest:
            raise ValidationError(r.where("photo_sha256"), "does not match the photo")
        return out


def _decoded(text: Any, where: str, max_bytes: int) -> bytes:
    """One base64 field decoded, its size bounded; any error reported as a field error."""
    try:
        return b64d(text, where, max_bytes)
    except ArtefactError as exc:  # MalformedError or TooLargeError
        raise ValidationError(exc.field or where, exc.reason) from None


def _photo(text: Any, where: str) -> bytes:
    data = _decoded(text, where, PHOTO_MAX_BYTES)
    if not data.startswith(JPEG_MAGIC):
        raise ValidationError(where, "must be a JPEG image")
    return data


@dataclass(frozen=True)
class SessionRoster(Record):
    """The signed roster of one session at one centre (see the module docstring)."""

    centre_id: str
    session_id: str
    version: int
    issued_at: str
    scheme_id: str
    scheme_version: int
    starts_at: str
    window_minutes: int
    forms: tuple[str, ...]
    accommodation_policy: AccommodationPolicy
    candidates: tuple[RosterCandidate, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "v": VERSION, "centre_id": self.centre_id, "session_id": self.session_id,
                "version": self.version, "issued_at": self.issued_at, "scheme_id": self.scheme_id,
                "scheme_version": self.scheme_version, "starts_at": self.starts_at,
                "window_minutes": self.window_minutes, "forms": list(self.forms),
                "accommodation_policy": self.accommodation_policy.to_dict(),
                "candidates": [c.to_dict() for c in self.candidates]}

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> SessionRoster:
        r = Fields(data, path)
        r.constant("format", FORMAT)
        r.version(VERSION)
        forms = r.list("forms", max_len=50)
        out = cls(centre_id=r.str("centre_id", pattern=IDENTIFIER_RE),
                  session_id=r.str("session_id", pattern=IDENTIFIER_RE),
                  version=r.int("version", minimum=1, maximum=2**53),
                  issued_at=r.str("issued_at", pattern=TIMESTAMP_RE),
                  scheme_id=r.str("scheme_id", pattern=IDENTIFIER_RE),
                  scheme_version=r.int("scheme_version", minimum=1, maximum=2**31),
                  starts_at=r.str("starts_at", pattern=TIMESTAMP_RE),
                  window_minutes=r.int("window_minutes", minimum=1, maximum=24 * 60),
                  forms=tuple(check_str(f, f"{r.where('forms')}[{i}]", pattern=IDENTIFIER_RE)
                              for i, f in enumerate(forms)),
                  accommodation_policy=r.record("accommodation_policy", AccommodationPolicy),
                  candidates=r.records("candidates", RosterCandidate, max_len=MAX_CANDIDATES))
        r.done()
        out.check(r.where("candidates"))
        return out

    def check(self, where: str = "candidates") -> None:
        """Unique candidates and seats, and nothing granted beyond the scheme's policy."""
        for name, values in (("candidate_id", [c.candidate_id for c in self.candidates]),
                             ("seat", [c.seat for c in self.candidates if c.seat])):
            if len(set(values)) != len(values):
                raise ValidationError(where, f"a {name} appears twice")
        for index, candidate in enumerate(self.candidates):
            refused = self.accommodation_policy.refusals(candidate.accommodations)
            if refused:
                raise ValidationError(f"{where}[{index}].accommodations",
                                      f"beyond what scheme {self.scheme_id} allows: " + "; ".join(refused))


def make_roster(central_key: Ed25519PrivateKey, roster: SessionRoster) -> bytes:
    """The signed roster document (canonical JSON payload; the exact bytes are signed)."""
    roster.check()
    return signing.make_signed(central_key, purposes.SESSION_ROSTER, roster.to_dict())


def open_roster(data: bytes, central: Ed25519PublicKey, centre_id: str, session_id: str | None = None
                ) -> SessionRoster:
    """Verify a signed roster against the central key, then require it to be for ``centre_id`` (and
    ``session_id`` when given): ``TamperedError``/``WrongPurposeError``/``WrongKeyError`` for the
    signature, ``ValidationError`` for a payload that breaks the format, ``WrongKeyError`` for a
    roster addressed to another centre or session."""
    opened = signing.open_signed(data, central, purposes.SESSION_ROSTER, max_bytes=ROSTER_MAX_BYTES)
    roster = SessionRoster.from_dict(opened.payload, "roster")
    if roster.centre_id != centre_id:
        raise WrongKeyError(f"roster is for centre {roster.centre_id!r}, this console is {centre_id!r}")
    if session_id is not None and roster.session_id != session_id:
        raise WrongKeyError(f"roster is for session {roster.session_id!r}, expected {session_id!r}")
    return roster


def roster_list_bytes(documents: list[bytes]) -> bytes:
    """The sync API's answer to ``GET ROSTERS_PATH``: the centre's signed rosters, each verified
    on its own by the console (no list signature: freshness is each roster's version)."""
    return b'{"rosters":[' + b",".join(b'"' + b64e(d).encode() + b'"' for d in documents) + b"]}"


def parse_roster_list(body: bytes) -> tuple[bytes, ...]:
    """The signed roster documents of a ``GET ROSTERS_PATH`` answer, strictly (not yet verified)."""
    r = Fields(loads_strict(body, max_bytes=ROSTER_LIST_MAX_BYTES), "answer")
    values = r.list("rosters", max_len=MAX_ROSTERS)
    r.done()
    return tuple(_decoded(v, f"rosters[{i}]", ROSTER_MAX_BYTES) for i, v in enumerate(values))
