"""CPD records (ISO/IEC 17024 9.6): what holders record, and the body's audit of a sample of them.

The holder (through the portal, as :func:`item_bank_sync.registry.actors.candidate`) or a registrar
or admin for them records an activity against a certificate: category (one the scheme lists, when
it lists any), credits, date (not in the future), description, and an optional evidence document.
The document is checked like the registry's evidence (PDF, PNG or JPEG by content, size limit) and
sealed at rest with the same key and AES-GCM sealing, its AAD binding purpose ``evidence-cpd``,
the certificate and the record, so a database copy holds no readable evidence.

Audit: :func:`sample` draws a share of the records never sampled before with a seeded generator
(``random.Random(seed)`` over the ids in sorted order); the seed and the ids drawn are recorded, so
the same draw can be repeated and checked. An auditor then verifies or rejects each sampled record
with a reason; a sampled record counts towards a renewal only once verified, a rejected one never.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import secrets
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import insert, select, update

from exam_core.timestamps import format_time, utc_now
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import fetch_all, fetch_one, lock, write
from item_bank_sync.recertification.common import held
from item_bank_sync.recertification.schema import cpd_records, cpd_samples
from item_bank_sync.registry import conflicts, fields, sealing
from item_bank_sync.registry.actors import ADMIN, AUDITOR, READERS, REGISTRAR, Actor, require
from item_bank_sync.registry.errors import NotFound, Refused
from item_bank_sync.registry.evidence import MAX_BYTES, sniff

PURPOSE = "evidence-cpd"
MAX_CREDITS = 1000.0
MAX_DESCRIPTION = 2000
MAX_RECORDS_PER_CERTIFICATE = 500
VERDICTS = ("verified", "rejected")
_COLUMNS = ("record_id", "certificate_id", "category", "credits", "activity_date", "description",
            "evidence_filename", "evidence_media_type", "evidence_sha256", "recorded_by", "recorded_at",
            "audit_status", "sample_id", "audited_by", "audited_at", "audit_reason", "renewal_id")


@dataclass(frozen=True)
class CpdRecord:
    """One CPD activity as recorded (without the evidence bytes)."""

    record_id: str
    certificate_id: str
    category: str
    credits: float
    activity_date: str
    description: str
    evidence_filename: str | None
    evidence_media_type: str | None
    evidence_sha256: str | None
    recorded_by: str
    recorded_at: str
    audit_status: str
    sample_id: str | None
    audited_by: str | None
    audited_at: str | None
    audit_reason: str | None
    renewal_id: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Sample:
    """One audit draw: anyone holding the seed and the population can draw it again."""

    sample_id: str
    share: float
    seed: str
    population: int
    drawn: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _credits(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_CREDITS \
            or not math.isfinite(value):
        raise Refused(f"credits: a number above 0 and at most {MAX_CREDITS:g}")
    return float(value)


def _activity_date(value: object) -> str:
    day = fields.iso_date(value, "date")
    if date.fromisoformat(day) > utc_now().date():
        raise Refused("date: an activity cannot be in the future")
    return day


def _category(value: object, listed: dict[str, float]) -> str:
    category = fields.identifier(value, "category")
    if listed and category not in listed:
        raise Refused(f"category: one of {', '.join(sorted(listed))} (the scheme's CPD categories)")
    return category


def _sealed_evidence(ctx: CentralContext, certificate_id: str, record_id: str,
                     evidence: tuple[str, bytes] | None) -> dict[str, Any]:
    if evidence is None:
        return {}
    filename, data = evidence
    if not isinstance(data, bytes) or not data or len(data) > MAX_BYTES:
        raise Refused(f"evidence: a document of 1 byte to {MAX_BYTES // (1024 * 1024)} MiB")
    key = sealing.load_key(ctx.keys_dir)
    return {"evidence_filename": fields.text(filename, "filename", 200), "evidence_media_type": sniff(data),
            "evidence_sha256": hashlib.sha256(data).hexdigest(),
            "evidence_sealed": sealing.seal(key, PURPOSE, certificate_id, record_id, data)}


def add(ctx: CentralContext, actor: Actor, certificate_id: str, *, category: str, credits: float,
        activity_date: str, description: str, evidence: tuple[str, bytes] | None = None) -> CpdRecord:
    """Record one CPD activity against a certificate (its holder, or a registrar or admin for them)."""
    found = held(ctx, certificate_id)
    cert = found.certificate
    require(actor, "record CPD", REGISTRAR, ADMIN, person_id=cert.person_id)
    if cert.status == "withdrawn":
        raise Refused(f"certificate {certificate_id} is withdrawn; CPD cannot be recorded against it")
    listed = found.rules.categories if found.rules is not None else {}
    record_id = fields.new_id("K")
    row = {"record_id": record_id, "certificate_id": cert.certificate_id, "category": _category(category, listed),
           "credits": _credits(credits), "activity_date": _activity_date(activity_date),
           "description": fields.text(description, "description", MAX_DESCRIPTION),
           **_sealed_evidence(ctx, cert.certificate_id, record_id, evidence),
           "recorded_by": actor.name, "recorded_at": format_time(utc_now())}
    r = cpd_records.c
    with write(ctx.open_bank_db()) as conn:
        lock(conn, f"cpd:{cert.certificate_id}")
        count = len(conn.execute(select(r.record_id).where(r.certificate_id == cert.certificate_id)).all())
        if count >= MAX_RECORDS_PER_CERTIFICATE:
            raise Refused(f"at most {MAX_RECORDS_PER_CERTIFICATE} CPD records per certificate")
        conn.execute(insert(cpd_records).values(row))
    ctx.audit_log().append(actor.name, "cpd.add", {"record_id": record_id, "certificate_id": cert.certificate_id,
                                                   "category": row["category"], "credits": row["credits"],
                                                   "evidence_sha256": row.get("evidence_sha256")})
    return get(ctx, record_id)


def get(ctx: CentralContext, record_id: str) -> CpdRecord:
    columns = [cpd_records.c[name] for name in _COLUMNS]
    row = fetch_one(ctx.open_bank_db(), select(*columns).where(cpd_records.c.record_id == record_id))
    if row is None:
        raise NotFound(f"no CPD record {record_id}")
    return CpdRecord(*row)


def records_of(ctx: CentralContext, certificate_id: str) -> list[CpdRecord]:
    """Every CPD record of a certificate, oldest activity first, then in the order recorded (no access
    check: callers check)."""
    r = cpd_records.c
    ids = fetch_all(ctx.open_bank_db(), select(r.record_id).where(r.certificate_id == certificate_id)
                    .order_by(r.activity_date, r.recorded_at, r.record_id))
    return [get(ctx, i[0]) for i in ids]


def list_for(ctx: CentralContext, actor: Actor, certificate_id: str) -> list[CpdRecord]:
    """The CPD records of a certificate, for its holder or the roles that may read personal data."""
    cert = held(ctx, certificate_id).certificate
    require(actor, "see CPD records", *READERS, person_id=cert.person_id)
    return records_of(ctx, cert.certificate_id)


def evidence(ctx: CentralContext, actor: Actor, record_id: str) -> tuple[CpdRecord, bytes]:
    """A record's evidence document, opened for its holder or a reader; every read on the audit chain."""
    record = get(ctx, fields.record_id(record_id, "record_id", "K"))
    cert = held(ctx, record.certificate_id).certificate
    require(actor, "see CPD evidence", *READERS, person_id=cert.person_id)
    sealed = fetch_one(ctx.open_bank_db(), select(cpd_records.c.evidence_sealed)
                       .where(cpd_records.c.record_id == record_id))
    if sealed is None or sealed[0] is None:
        raise NotFound(f"CPD record {record_id} has no evidence document")
    data = sealing.unseal(sealing.load_key(ctx.keys_dir), PURPOSE, record.certificate_id, record_id,
                          bytes(sealed[0]))
    if hashlib.sha256(data).hexdigest() != record.evidence_sha256:
        raise Refused(f"CPD evidence {record_id}: content does not match its recorded SHA-256")
    ctx.audit_log().append(actor.name, "cpd.evidence.read", {"record_id": record_id})
    return record, data


def draw(seed: str, population: list[str], share: float) -> list[str]:
    """The ids a seeded draw of ``share`` takes from ``population`` (sorted first: the order the
    rows came in must not change the draw); at least one when there is any and the share is above 0."""
    ordered = sorted(population)
    count = min(len(ordered), math.ceil(share * len(ordered)))
    # not a secret: the draw must be repeatable from its recorded seed, which is the point
    return sorted(random.Random(seed).sample(ordered, count))  # noqa: S311


def sample(ctx: CentralContext, actor: Actor, share: float, seed: str | None = None) -> Sample:
    """Draw ``share`` of the CPD records never sampled before for audit; recorded and audited."""
    require(actor, "draw a CPD audit sample", AUDITOR, ADMIN)
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share <= 1:
        raise Refused("share: a number above 0 and at most 1")
    seed = fields.text(seed, "seed", 100) if seed is not None else secrets.token_hex(16)
    sample_id, r = fields.new_id("Q"), cpd_records.c
    with write(ctx.open_bank_db()) as conn:
        lock(conn, "cpd-sample")
        population = [x[0] for x in conn.execute(select(r.record_id).where(r.audit_status == "recorded"))]
        drawn = draw(seed, population, float(share))
        conn.execute(insert(cpd_samples).values(sample_id=sample_id, share=float(share), seed=seed,
                                                population=len(population), drawn_json=json.dumps(drawn),
                                                drawn_by=actor.name, drawn_at=format_time(utc_now())))
        if drawn:
            conn.execute(update(cpd_records).where(r.record_id.in_(drawn))
                         .values(audit_status="sampled", sample_id=sample_id))
    ctx.audit_log().append(actor.name, "cpd.sample", {"sample_id": sample_id, "share": float(share), "seed": seed,
                                                      "population": len(population), "drawn": drawn})
    return Sample(sample_id, float(share), seed, len(population), drawn)


def audit(ctx: CentralContext, actor: Actor, record_id: str, verdict: str, reason: str) -> CpdRecord:
    """An auditor's verdict on a sampled record: ``verified`` or ``rejected``, with the reason."""
    require(actor, "audit CPD records", AUDITOR)
    if verdict not in VERDICTS:
        raise Refused(f"verdict: one of {', '.join(VERDICTS)}")
    text = fields.text(reason, "reason", MAX_DESCRIPTION)
    record = get(ctx, fields.record_id(record_id, "record_id", "K"))
    cert = held(ctx, record.certificate_id).certificate
    if cert.person_id is not None:
        conflicts.check(ctx, actor, cert.person_id, "audit this holder's CPD")
    r = cpd_records.c
    with write(ctx.open_bank_db()) as conn:
        done = conn.execute(update(cpd_records).where(r.record_id == record_id, r.audit_status == "sampled")
                            .values(audit_status=verdict, audited_by=actor.name, audited_at=format_time(utc_now()),
                                    audit_reason=text))
        if done.rowcount != 1:
            raise Refused(f"CPD record {record_id} is {record.audit_status}; only a sampled record is audited")
    ctx.audit_log().append(actor.name, "cpd.audit", {"record_id": record_id, "verdict": verdict})
    return get(ctx, record_id)
