"""The versioned item bank and its document control (ISO/IEC 17024 asks that every item version
be identified, reviewed, approved before use, and that each change be recorded).

- Every import of an item is compared with its latest version by *content hash* (the canonical
  JSON of the item and its answer key, without the version number): the same content is a no-op,
  changed content becomes the next version with status ``draft``.
- A new version must come from the same *source* as the latest one (the same file, relative to the
  folder or zip imported). Another file with the same identifier and different content is another
  author's item that happens to share a name (``choice``, ``question1``): it is a *clash*, refused
  unless the importer says it really is the next version (``on_clash="new-version"``). Giving each
  source its own ``--namespace`` (stored ids ``NS.ID``) keeps such items apart.
- Status moves ``draft -> reviewed -> approved``, and any version may be ``retired``. Each move
  records who, when and a note in ``item_status`` and in the audit chain. The approver must be a
  different person from the reviewer (four eyes), and only approved versions go on forms.
- Answer keys stay here: :meth:`ItemBank.answer_key` is what scoring reads.

Why an audit *cursor*: a status change and its audit entry cannot share one transaction (the
audit log opens its own), so ``item_status`` acts as an outbox. Every operation commits its rows,
then :meth:`ItemBank.drain_audit` copies every row past the cursor into the chain and moves the
cursor. A crash in between loses nothing: the next operation copies the rows the crash left
behind (at least once; each entry names its ``status_id`` so a repeat is recognisable).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from collections.abc import Iterator

from sqlalchemy import Connection, Engine, Select, and_, func, insert, literal, or_, select, update

from exam_core.audit import HashChain
from exam_core.errors import InvigilError
from exam_core.jsonio import canonical_dumps
from exam_core.model import ITEM_STATUSES, AnswerKey, Item
from exam_core.timestamps import utc_text
from item_bank_sync.bank.media import MediaStore
from item_bank_sync.bank.schema import audit_cursor, item_status, items
from item_bank_sync.db.sql import fetch_all, fetch_one, lock, upsert, write
from item_bank_sync.items.qti.reader import ParsedItem

#: action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "review": (("draft",), "reviewed"),
    "approve": (("reviewed",), "approved"),
    "retire": (("draft", "reviewed", "approved"), "retired"),
}


#: Items stored per transaction and audit entry (keeps one entry well under the audit size limit).
MAX_BATCH = 200


class BankError(InvigilError):
    """A bank operation was refused (unknown item, forbidden status change); the message says why."""


#: What to do when another source's item has the same identifier: refuse it, or store it as the next version.
CLASH_POLICIES = ("refuse", "new-version")


@dataclass(frozen=True)
class StoredItem:
    item_id: str
    version: int
    outcome: str  # "created", "new_version", "unchanged" or "clash" (nothing stored; see reason)
    interaction: str
    content_hash: str = ""
    reason: str = ""


def content_hash(item_doc: dict[str, Any], key_doc: dict[str, Any]) -> str:
    """SHA-256 of what the item *is* (item and key documents), independent of the version number.

    A scorer rubric is part of the key when there is one (it changes how the item is marked);
    keys without one hash exactly as before it existed.
    """
    doc: dict[str, Any] = {"item": {k: v for k, v in item_doc.items() if k != "version"},
                           "key": key_doc["responses"]}
    if key_doc.get("rubric_html"):
        doc["rubric"] = key_doc["rubric_html"]
    return hashlib.sha256(canonical_dumps(doc)).hexdigest()


@dataclass(frozen=True)
class _Latest:
    version: int
    content_hash: str
    source_key: str | None


class ItemBank:
    """Items, their versions and statuses in the bank store; every change also goes to the audit chain."""

    def __init__(self, db: Engine, media: MediaStore, audit: HashChain) -> None:
        self.db = db
        self.media = media
        self.audit = audit

    # --- import ------------------------------------------------------------------------------
    def store(self, parsed: ParsedItem, actor: str) -> StoredItem:
        """Add one parsed item: a new item, a new version, or nothing when the content is unchanged."""
        return self.store_batch([parsed], actor)[0]

    def store_batch(self, batch: list[ParsedItem], actor: str, on_clash: str = "refuse") -> list[StoredItem]:
        """Add many items in one transaction and one audit entry (a commit costs an fsync each).

        The audit entry lists every item version the batch created, with its content hash and
        source; unchanged items are not changes and are not listed, and nor are clashes (no row of
        them is stored). Media go first, so a committed row never names a file not yet written (a
        crash in between leaves at most an unreferenced file).
        """
        if len(batch) > MAX_BATCH:
            raise BankError(f"a batch holds at most {MAX_BATCH} items")
        for parsed in batch:
            for ref, data in parsed.media.values():
                self.media.put(ref, data)
        with write(self.db) as conn:
            for item_id in sorted({parsed.item.item_id for parsed in batch}):
                lock(conn, f"item:{item_id}")  # two imports of one item cannot both take the next version
            results = [self._store_one(conn, parsed, actor, on_clash) for parsed in batch]
        self.drain_audit()
        return results

    def plan_batch(self, batch: list[ParsedItem], planned: dict[str, _Latest] | None = None,
                   on_clash: str = "refuse") -> list[StoredItem]:
        """What :meth:`store_batch` would do, changing nothing (``import --dry-run``).

        ``planned`` carries the versions earlier batches of the same dry run would have stored,
        so a whole import is planned as it would run.
        """
        planned = {} if planned is None else planned
        results = []
        for parsed in batch:
            kinds, digest, _, _ = self._documents(parsed)
            with self.db.connect() as conn:
                latest = planned.get(parsed.item.item_id) or self._latest(conn, parsed.item.item_id)
            stored = self._decide(parsed, latest, kinds, digest, on_clash)
            if stored.outcome in ("created", "new_version"):
                planned[parsed.item.item_id] = _Latest(stored.version, digest, parsed.source_key or None)
            results.append(stored)
        return results

    @staticmethod
    def _documents(parsed: ParsedItem) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
        kinds = ",".join(sorted({i.type for i in parsed.item.interactions}))
        item_doc, key_doc = parsed.item.to_dict(), parsed.key.to_dict()  # validated by the importer
        return kinds, content_hash(item_doc, key_doc), item_doc, key_doc

    @staticmethod
    def _latest(conn: Connection, item_id: str) -> _Latest | None:
        row = conn.execute(select(items.c.version, items.c.content_hash, items.c.source_key)
                           .where(items.c.item_id == item_id).order_by(items.c.version.desc()).limit(1)).first()
        return _Latest(row[0], row[1], row[2]) if row else None

    @staticmethod
    def _decide(parsed: ParsedItem, latest: _Latest | None, kinds: str, digest: str, on_clash: str) -> StoredItem:
        """unchanged / created / new_version, or a clash when another source claims the identifier."""
        item_id = parsed.item.item_id
        if on_clash not in CLASH_POLICIES:
            raise BankError(f"unknown clash policy {on_clash!r}; use one of {', '.join(CLASH_POLICIES)}")
        if latest is None:
            return StoredItem(item_id, 1, "created", kinds, digest)
        if latest.content_hash == digest:
            return StoredItem(item_id, latest.version, "unchanged", kinds, digest)
        if on_clash == "refuse" and latest.source_key and parsed.source_key and latest.source_key != parsed.source_key:
            reason = (f"assessmentItem[{item_id}]: identifier {item_id!r} is already in the bank (version "
                      f"{latest.version}, from {latest.source_key}) with different content; another source may "
                      "reuse the name: import this source with --namespace NAME to keep its items apart, or with "
                      "--on-clash new-version if this file really is the next version of that item")
            return StoredItem(item_id, latest.version, "clash", kinds, digest, reason)
        return StoredItem(item_id, latest.version + 1, "new_version", kinds, digest)

    def _store_one(self, conn: Connection, parsed: ParsedItem, actor: str, on_clash: str) -> StoredItem:
        item_id = parsed.item.item_id
        kinds, digest, item_doc, key_doc = self._documents(parsed)
        stored = self._decide(parsed, self._latest(conn, item_id), kinds, digest, on_clash)
        if stored.outcome in ("unchanged", "clash"):
            return stored
        version = stored.version
        item_doc["version"] = key_doc["version"] = version
        now = utc_text()
        conn.execute(insert(items).values(
            item_id=item_id, version=version, content_hash=digest, status="draft", title=parsed.item.title,
            interaction_types=kinds, competency_area=parsed.item.competency_area, source=parsed.source,
            source_format=parsed.source_format, item_json=canonical_dumps(item_doc).decode(),
            key_json=canonical_dumps(key_doc).decode(), created_at=now, created_by=actor,
            namespace=parsed.namespace, source_key=parsed.source_key or None))
        conn.execute(insert(item_status).values(item_id=item_id, version=version, from_status=None, to_status="draft",
                                                by=actor, at=now, note=f"imported from {parsed.source}"[:1000]))
        return stored

    # --- document control --------------------------------------------------------------------
    def transition(self, action: str, item_id: str, by: str, note: str = "",
                   version: int | None = None) -> dict[str, Any]:
        """Apply review/approve/retire to one version (the latest when ``version`` is None)."""
        if action not in TRANSITIONS:
            raise BankError(f"unknown action {action!r}")
        if not by.strip():
            raise BankError("--by must name the person acting")
        allowed_from, target = TRANSITIONS[action]
        with write(self.db) as conn:
            lock(conn, f"item:{item_id}")
            row = self._version_row(conn, item_id, version)
            version, current = row
            if current not in allowed_from:
                raise BankError(f"item {item_id} version {version} is {current}; {action} needs "
                                f"{' or '.join(allowed_from)}")
            if action == "approve":
                reviewer = conn.execute(
                    select(item_status.c.by).where(item_status.c.item_id == item_id, item_status.c.version == version,
                                                   item_status.c.to_status == "reviewed")
                    .order_by(item_status.c.id.desc()).limit(1)).first()
                if reviewer and reviewer[0] == by:
                    raise BankError(f"item {item_id} version {version} was reviewed by {by}; "
                                    "approval needs a second person (four eyes)")
            now = utc_text()
            conn.execute(update(items).where(items.c.item_id == item_id, items.c.version == version)
                         .values(status=target))
            conn.execute(insert(item_status).values(item_id=item_id, version=version, from_status=current,
                                                    to_status=target, by=by, at=now, note=note[:1000]))
        self.drain_audit()
        return {"item_id": item_id, "version": version, "from": current, "status": target, "by": by, "at": now}

    def drain_audit(self) -> int:
        """Copy every status change past the cursor into the audit chain; returns how many.

        Consecutive imports by one person become one ``item.import`` entry (with content hashes);
        every review, approval and retirement is its own ``item.<action>`` entry.
        """
        row = fetch_one(self.db, select(audit_cursor.c.last_id).where(audit_cursor.c.name == "item_status"))
        last = row[0] if row else 0
        s = item_status.c
        pending = fetch_all(self.db, select(s.id, s.item_id, s.version, s.from_status, s.to_status, s.by, s.note,
                                            items.c.content_hash, items.c.source)
                            .join_from(item_status, items, and_(items.c.item_id == s.item_id,
                                                                items.c.version == s.version))
                            .where(s.id > last).order_by(s.id).limit(1000))
        if not pending:
            return 0
        imports: list[dict[str, Any]] = []
        import_actor = ""  # who imported the batch in ``imports`` (set with its first entry)
        for sid, item_id, version, old, new, by, note, digest, source in pending:
            if imports and (old is not None or by != import_actor or len(imports) == MAX_BATCH):
                self.audit.append(import_actor, "item.import", {"items": imports})
                imports = []
            if old is None:
                import_actor = by
                imports.append({"status_id": sid, "item_id": item_id, "version": version,
                                "content_hash": digest, "source": source[-200:]})
            else:
                verb = {"reviewed": "review", "approved": "approve", "retired": "retire"}[new]
                self.audit.append(by, f"item.{verb}", {"status_id": sid, "item_id": item_id, "version": version,
                                                       "from": old, "to": new, "note": note})
        if imports:
            self.audit.append(import_actor, "item.import", {"items": imports})
        with write(self.db) as conn:
            upsert(conn, audit_cursor, {"name": "item_status", "last_id": pending[-1][0]}, key=["name"])
        return len(pending) + self.drain_audit() if len(pending) == 1000 else len(pending)

    def _version_row(self, conn: Connection, item_id: str, version: int | None) -> tuple[int, str]:
        query = select(items.c.version, items.c.status).where(items.c.item_id == item_id)
        if version is None:
            row = conn.execute(query.order_by(items.c.version.desc()).limit(1)).first()
        else:
            row = conn.execute(query.where(items.c.version == version)).first()
        if row is None:
            raise BankError(f"no item {item_id}" + (f" version {version}" if version else ""))
        return row[0], row[1]

    # --- reading -----------------------------------------------------------------------------
    def list(self, *, status: str | None = None, area: str | None = None, interaction: str | None = None,
             text: str | None = None, all_versions: bool = False) -> list[dict[str, Any]]:
        """Item versions with their status (latest version of each item unless ``all_versions``)."""
        if status and status not in ITEM_STATUSES:
            raise BankError(f"unknown status {status!r}; use one of {', '.join(ITEM_STATUSES)}")
        query = _listing(status, area, interaction, text, all_versions)
        columns = ("item_id", "version", "status", "title", "interaction", "competency_area", "source", "created_at")
        return [dict(zip(columns, row)) for row in fetch_all(self.db, query)]

    def show(self, item_id: str, version: int | None = None) -> dict[str, Any]:
        """One version with its content, key, and the full status history of every version."""
        i, s = items.c, item_status.c
        with self.db.connect() as conn:
            version, status = self._version_row(conn, item_id, version)
            row = conn.execute(select(i.item_json, i.key_json, i.content_hash, i.source, i.source_format,
                                      i.created_at, i.created_by, i.namespace, i.source_key)
                               .where(i.item_id == item_id, i.version == version)).one()
            history = [dict(zip(("version", "from", "to", "by", "at", "note"), r)) for r in conn.execute(
                select(s.version, s.from_status, s.to_status, s.by, s.at, s.note)
                .where(s.item_id == item_id).order_by(s.id))]
            versions = [r[0] for r in conn.execute(select(i.version).where(i.item_id == item_id).order_by(i.version))]
        return {"item_id": item_id, "version": version, "status": status, "versions": versions,
                "content_hash": row[2], "source": row[3], "source_format": row[4], "created_at": row[5],
                "created_by": row[6], "namespace": row[7], "source_key": row[8],
                "item": json.loads(row[0]), "key": json.loads(row[1]), "history": history}

    def item(self, item_id: str, version: int) -> Item:
        return Item.from_dict(json.loads(self._column("item_json", item_id, version)))

    def answer_key(self, item_id: str, version: int) -> AnswerKey:
        """The scoring rules of one item version (for scoring at the central body only)."""
        return AnswerKey.from_dict(json.loads(self._column("key_json", item_id, version)))

    def status(self, item_id: str, version: int) -> str:
        return self._column("status", item_id, version)

    def _column(self, column: str, item_id: str, version: int) -> Any:
        row = fetch_one(self.db, select(items.c[column]).where(items.c.item_id == item_id,
                                                               items.c.version == version))
        if row is None:
            raise BankError(f"no item {item_id} version {version}")
        return row[0]

    def approved_pool(self) -> Iterator[tuple[str, int, str | None]]:
        """(item_id, version, area) of the newest approved version of every item."""
        newest = items.alias("newest")
        latest = (select(func.max(newest.c.version))
                  .where(newest.c.item_id == items.c.item_id, newest.c.status == "approved").scalar_subquery())
        query = (select(items.c.item_id, items.c.version, items.c.competency_area)
                 .where(items.c.status == "approved", items.c.version == latest).order_by(items.c.item_id))
        yield from (tuple(row) for row in fetch_all(self.db, query))


def _listing(status: str | None, area: str | None, interaction: str | None, text: str | None,
             all_versions: bool) -> Select[Any]:
    """The SELECT behind :meth:`ItemBank.list`: filters combined with AND, patterns as parameters,
    matched without regard to case on both engines (SQLite's LIKE always was)."""
    i = items.c
    query = select(i.item_id, i.version, i.status, i.title, i.interaction_types, i.competency_area, i.source,
                   i.created_at)
    if status:
        query = query.where(i.status == status)
    if area:
        query = query.where(i.competency_area == area)
    if interaction:
        query = query.where((literal(",") + i.interaction_types + literal(",")).ilike(f"%,{interaction},%"))
    if text:
        query = query.where(or_(i.title.ilike(f"%{text}%"), i.item_id.ilike(f"%{text}%")))
    if not all_versions:
        newer = items.alias("i2")
        query = query.where(i.version == select(func.max(newer.c.version))
                            .where(newer.c.item_id == i.item_id).scalar_subquery())
    return query.order_by(i.item_id, i.version)
