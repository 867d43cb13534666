"""Evidence documents of an application or an accommodation request: limited, sniffed, sealed, served by role.

Upload: at most :data:`MAX_BYTES`, and only PDF, PNG or JPEG **by content** (the first bytes), whatever
the name or the declared type says; anything else (HTML, SVG, executables, archives, office files
with macros) is refused. The document is sealed with AES-GCM under the body's evidence key
(:mod:`.sealing`), its AAD binding the purpose, format version, application (or request) id and
document id; the SHA-256 of the plaintext is recorded so a registrar can quote it.

Download: decrypted only for registrar, admin and auditor (and the person who owns it, for their
own data), every read on the audit chain; every other role is refused.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Table, func, insert, select

from exam_core.timestamps import utc_text
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import fetch_all, fetch_one, write
from item_bank_sync.registry import fields, sealing
from item_bank_sync.registry.actors import ADMIN, READERS, REGISTRAR, Actor, require
from item_bank_sync.registry.errors import NotFound, Refused
from item_bank_sync.registry.schema import accommodation_requests, applications, evidence_documents

MAX_BYTES = 10 * 1024 * 1024
MAX_PER_SUBJECT = 20
SIGNATURES = ((b"%PDF-", "application/pdf"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))
APPLICATION, ACCOMMODATION = "application", "accommodation"
_SUBJECTS: dict[str, tuple[Table, str, str]] = {
    APPLICATION: (applications, "application_id", "A"),
    ACCOMMODATION: (accommodation_requests, "request_id", "R"),
}
_FILENAME_BAD = re.compile(r"[^A-Za-z0-9._ -]")


@dataclass(frozen=True)
class Document:
    document_id: str
    subject_kind: str
    subject_id: str
    filename: str
    media_type: str
    size: int
    sha256: str
    added_at: str
    added_by: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sniff(data: bytes) -> str:
    """The media type of ``data`` by its first bytes, or :class:`Refused`."""
    for signature, media_type in SIGNATURES:
        if data.startswith(signature):
            return media_type
    raise Refused("evidence: only PDF, PNG or JPEG documents are accepted (checked by content)")


def owner_of(ctx: CentralContext, subject_kind: str, subject_id: str) -> str:
    """The person an application or accommodation request belongs to."""
    if subject_kind not in _SUBJECTS:
        raise Refused(f"subject: one of {', '.join(_SUBJECTS)}")
    table, key, _prefix = _SUBJECTS[subject_kind]
    row = fetch_one(ctx.open_bank_db(), select(table.c.person_id).where(table.c[key] == subject_id))
    if row is None:
        raise NotFound(f"no {subject_kind} {subject_id}")
    return str(row[0])


def add(ctx: CentralContext, actor: Actor, subject_kind: str, subject_id: str, filename: str, data: bytes) -> Document:
    """Seal and store one uploaded document (the owner, or a registrar/admin for them)."""
    person_id = owner_of(ctx, subject_kind, subject_id)
    require(actor, "add evidence", REGISTRAR, ADMIN, person_id=person_id)
    if not isinstance(data, bytes) or not data:
        raise Refused("evidence: empty document")
    if len(data) > MAX_BYTES:
        raise Refused(f"evidence: larger than {MAX_BYTES // (1024 * 1024)} MiB")
    media_type = sniff(data)
    name = _FILENAME_BAD.sub("_", fields.text(filename, "filename", 200))
    document_id = fields.new_id("D")
    key = sealing.load_key(ctx.keys_dir)
    row = {"document_id": document_id, "subject_kind": subject_kind, "subject_id": subject_id, "filename": name,
           "media_type": media_type, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
           "sealed": sealing.seal(key, f"evidence-{subject_kind}", subject_id, document_id, data),
           "added_at": utc_text(), "added_by": actor.name}
    e = evidence_documents.c
    with write(ctx.open_bank_db()) as conn:
        count = conn.execute(select(func.count()).select_from(evidence_documents)
                             .where(e.subject_kind == subject_kind, e.subject_id == subject_id)).scalar_one()
        if count >= MAX_PER_SUBJECT:
            raise Refused(f"evidence: at most {MAX_PER_SUBJECT} documents per {subject_kind}")
        conn.execute(insert(evidence_documents).values(row))
    ctx.audit_log().append(actor.name, "evidence.add", {"subject": subject_kind, "subject_id": subject_id,
                                                        "document_id": document_id, "sha256": row["sha256"],
                                                        "media_type": media_type, "size": len(data)})
    return _document(ctx, document_id)


def list_for(ctx: CentralContext, actor: Actor, subject_kind: str, subject_id: str) -> list[Document]:
    """The documents of one application or request (metadata only)."""
    require(actor, "see evidence", *READERS, person_id=owner_of(ctx, subject_kind, subject_id))
    e = evidence_documents.c
    ids = fetch_all(ctx.open_bank_db(), select(e.document_id).where(e.subject_kind == subject_kind,
                                                                    e.subject_id == subject_id).order_by(e.added_at))
    return [_document(ctx, r[0]) for r in ids]


def get(ctx: CentralContext, actor: Actor, document_id: str) -> tuple[Document, bytes]:
    """A document and its decrypted bytes, to the roles that may see evidence; the read is audited."""
    doc = _document(ctx, fields.record_id(document_id, "document_id", "D"))
    require(actor, "see evidence", *READERS, person_id=owner_of(ctx, doc.subject_kind, doc.subject_id))
    sealed = fetch_one(ctx.open_bank_db(), select(evidence_documents.c.sealed)
                       .where(evidence_documents.c.document_id == document_id))
    if sealed is None:
        raise NotFound(f"no evidence document {document_id}")
    data = sealing.unseal(sealing.load_key(ctx.keys_dir), f"evidence-{doc.subject_kind}", doc.subject_id,
                          document_id, bytes(sealed[0]))
    if hashlib.sha256(data).hexdigest() != doc.sha256:
        raise Refused(f"evidence {document_id}: content does not match its recorded SHA-256")
    ctx.audit_log().append(actor.name, "evidence.read", {"document_id": document_id, "subject_id": doc.subject_id})
    return doc, data


def _document(ctx: CentralContext, document_id: str) -> Document:
    e = evidence_documents.c
    row = fetch_one(ctx.open_bank_db(), select(e.document_id, e.subject_kind, e.subject_id, e.filename, e.media_type,
                                               e.size, e.sha256, e.added_at, e.added_by)
                    .where(e.document_id == document_id))
    if row is None:
        raise NotFound(f"no evidence document {document_id}")
    return Document(*row)
