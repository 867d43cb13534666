"""Persons: one record per person across schemes and attempts, with the identity-check photo and consents.

A person is created once (by a registrar, or by the portal on registration through the body actor)
and every application, accommodation request and booking points at them, so the body can show a
person's whole certification history (clause 7.1). The photo the centre compares at admission is
sniffed by content (JPEG or PNG only, whatever the file is called), limited in bytes and pixels,
decoded and re-encoded as a fresh JPEG (no metadata, no trailing bytes, no polyglot survives) and
sealed at rest like evidence; its SHA-256 is what a signed roster carries.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import asdict, dataclass
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import func, insert, select, update

from exam_core.timestamps import utc_text
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import fetch_all, fetch_one, write
from item_bank_sync.registry import fields, sealing
from item_bank_sync.registry.actors import ADMIN, READERS, REGISTRAR, SYSTEM, Actor, require
from item_bank_sync.registry.errors import NotFound, Refused
from item_bank_sync.registry.schema import person_consents, persons

PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_MAX_PIXELS = 24_000_000          # decoded size, checked from the header before decoding
PHOTO_MIN_SIDE, PHOTO_OUT_SIDE = 120, 800
PHOTO_PURPOSE = "person-photo"
SIGNATURES = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}
CONSENT_PURPOSES = ("processing", "photo", "public_register", "marketing", "research")
NAME_MAX = 200


@dataclass(frozen=True)
class Consent:
    purpose: str
    text_version: str
    given: bool
    recorded_at: str
    recorded_by: str


@dataclass(frozen=True)
class Person:
    person_id: str
    given_name: str
    family_name: str
    email: str
    date_of_birth: str | None
    photo_sha256: str | None
    created_at: str
    created_by: str
    consents: tuple[Consent, ...] = ()

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "consents": [asdict(c) for c in self.consents]}


def add(ctx: CentralContext, actor: Actor, *, given_name: str, family_name: str, email: str,
        date_of_birth: str | None = None) -> Person:
    """Register a person; one record per e-mail address (a second one is refused, naming nothing
    about the first, so the portal cannot be used to learn who is registered)."""
    require(actor, "register persons", REGISTRAR, ADMIN, SYSTEM)
    person_id = fields.new_id("P")
    row = {"person_id": person_id, "given_name": fields.text(given_name, "given_name", NAME_MAX),
           "family_name": fields.text(family_name, "family_name", NAME_MAX), "email": fields.email(email),
           "date_of_birth": fields.iso_date(date_of_birth, "date_of_birth") if date_of_birth else None,
           "created_at": utc_text(), "created_by": actor.name}
    with write(ctx.open_bank_db()) as conn:
        taken = conn.execute(select(func.count()).select_from(persons).where(persons.c.email == row["email"]))
        if taken.scalar_one():
            raise Refused("email: already registered")
        conn.execute(insert(persons).values(row))
    ctx.audit_log().append(actor.name, "person.add", {"person_id": person_id})
    return _get(ctx, person_id)


def show(ctx: CentralContext, actor: Actor, person_id: str) -> Person:
    """A person's record, to registry staff or to the person; staff reads are logged (clause 7.3)."""
    require(actor, "see persons", *READERS, person_id=person_id)
    person = _get(ctx, person_id)
    if not actor.is_person(person_id):
        ctx.audit_log().append(actor.name, "person.read", {"person_id": person_id})
    return person


def list_persons(ctx: CentralContext, actor: Actor, *, email: str | None = None, limit: int = 200) -> list[Person]:
    """Persons, newest first (optionally the one with ``email``)."""
    require(actor, "list persons", *READERS)
    query = select(persons.c.person_id).order_by(persons.c.created_at.desc(), persons.c.person_id)
    if email:
        query = query.where(persons.c.email == fields.email(email))
    ids = [r[0] for r in fetch_all(ctx.open_bank_db(), query.limit(max(1, min(limit, 1000))))]
    return [_get(ctx, i) for i in ids]


def exists(ctx: CentralContext, person_id: str) -> bool:
    """Whether ``person_id`` is a registered person (for other services' checks)."""
    query = select(persons.c.person_id).where(persons.c.person_id == person_id)
    return fetch_one(ctx.open_bank_db(), query) is not None


def email_of(ctx: CentralContext, person_id: str | None) -> str | None:
    """The address the body writes to for ``person_id`` (None: no such person, or none kept), for
    the services that mail them (release notices, reminders, case messages); never logged."""
    if person_id is None:
        return None
    row = fetch_one(ctx.open_bank_db(), select(persons.c.email).where(persons.c.person_id == person_id))
    return str(row[0]) if row and row[0] else None


def set_photo(ctx: CentralContext, actor: Actor, person_id: str, data: bytes) -> Person:
    """Store the identity-check photo: sniffed, limited, re-encoded as JPEG, sealed."""
    require(actor, "set a person's photo", REGISTRAR, ADMIN, person_id=person_id)
    _get(ctx, person_id)
    jpeg = reencode_photo(data)
    digest = hashlib.sha256(jpeg).hexdigest()
    key = sealing.load_key(ctx.keys_dir)
    sealed = sealing.seal(key, PHOTO_PURPOSE, person_id, digest, jpeg)
    with write(ctx.open_bank_db()) as conn:
        conn.execute(update(persons).where(persons.c.person_id == person_id)
                     .values(photo_sealed=sealed, photo_sha256=digest, photo_media_type="image/jpeg"))
    ctx.audit_log().append(actor.name, "person.photo", {"person_id": person_id, "sha256": digest})
    return _get(ctx, person_id)


def photo(ctx: CentralContext, actor: Actor, person_id: str) -> bytes:
    """The photo's JPEG bytes, to registry staff, the body's roster builder or the person; logged."""
    require(actor, "see a person's photo", *READERS, SYSTEM, person_id=person_id)
    row = fetch_one(ctx.open_bank_db(), select(persons.c.photo_sealed, persons.c.photo_sha256)
                    .where(persons.c.person_id == person_id))
    if row is None or row[0] is None:
        raise NotFound(f"person {person_id}: no photo")
    jpeg = sealing.unseal(sealing.load_key(ctx.keys_dir), PHOTO_PURPOSE, person_id, row[1], bytes(row[0]))
    ctx.audit_log().append(actor.name, "person.photo.read", {"person_id": person_id})
    return jpeg


def consent(ctx: CentralContext, actor: Actor, person_id: str, *, purpose: str, text_version: str,
            given: bool = True) -> Person:
    """Record consent given (or withdrawn) for ``purpose`` under the consent text ``text_version``."""
    require(actor, "record consent", REGISTRAR, ADMIN, person_id=person_id)
    if purpose not in CONSENT_PURPOSES:
        raise Refused(f"purpose: one of {', '.join(CONSENT_PURPOSES)}")
    version = fields.text(text_version, "text_version", 50)
    _get(ctx, person_id)
    with write(ctx.open_bank_db()) as conn:
        conn.execute(insert(person_consents).values(person_id=person_id, purpose=purpose, text_version=version,
                                                    given=int(given), recorded_at=utc_text(), recorded_by=actor.name))
    ctx.audit_log().append(actor.name, "person.consent", {"person_id": person_id, "purpose": purpose,
                                                          "text_version": version, "given": given})
    return _get(ctx, person_id)


def reencode_photo(data: bytes) -> bytes:
    """A fresh JPEG of the photo, or :class:`Refused` saying which limit it broke."""
    if not isinstance(data, bytes) or not data:
        raise Refused("photo: empty")
    if len(data) > PHOTO_MAX_BYTES:
        raise Refused(f"photo: larger than {PHOTO_MAX_BYTES // (1024 * 1024)} MiB")
    kind = next((k for sig, k in SIGNATURES.items() if data.startswith(sig)), None)
    if kind is None:
        raise Refused("photo: not a JPEG or PNG image (checked by content)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[kind])
            width, height = image.size
            if width * height > PHOTO_MAX_PIXELS:
                raise Refused(f"photo: {width}x{height} pixels is more than {PHOTO_MAX_PIXELS}")
            if min(width, height) < PHOTO_MIN_SIDE:
                raise Refused(f"photo: at least {PHOTO_MIN_SIDE} pixels on each side")
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        raise Refused("photo: the image does not decode") from None
    rgb = (ImageOps.exif_transpose(image) or image).convert("RGB")   # upright before EXIF is dropped
    rgb.thumbnail((PHOTO_OUT_SIDE, PHOTO_OUT_SIDE))
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=88)
    return out.getvalue()


def _get(ctx: CentralContext, person_id: str) -> Person:
    p = persons.c
    row = fetch_one(ctx.open_bank_db(), select(p.person_id, p.given_name, p.family_name, p.email, p.date_of_birth,
                                               p.photo_sha256, p.created_at, p.created_by)
                    .where(p.person_id == person_id))
    if row is None:
        raise NotFound(f"no person {person_id}")
    c = person_consents.c
    consents = fetch_all(ctx.open_bank_db(), select(c.purpose, c.text_version, c.given, c.recorded_at, c.recorded_by)
                         .where(c.person_id == person_id).order_by(c.consent_id))
    return Person(row.person_id, row.given_name, row.family_name, row.email, row.date_of_birth, row.photo_sha256,
                  row.created_at, row.created_by,
                  consents=tuple(Consent(r[0], r[1], bool(r[2]), r[3], r[4]) for r in consents))
