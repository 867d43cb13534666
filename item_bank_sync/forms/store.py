"""Assembled forms in the bank store, and the item statistics that assembly reads.

``forms build`` turns an :class:`~item_bank_sync.forms.assembly.AssemblyReport` into
``exam_core.model.Form`` records. A form id names its scheme, seed and position
(``SCHEME-v1-s42-f03``), so rebuilding with the same seed against an unchanged bank is a no-op,
and against a changed bank yields a new *version* of the same form id.

``item_stats`` is the hand-over point with item analysis (issue 8): analysis writes classical
statistics per item version with :func:`record_item_stats`; assembly reads them with
:func:`load_pool`.
"""

from __future__ import annotations

import json
from typing import Any

from collections.abc import Callable

from sqlalchemy import Connection, Engine, and_, func, insert, select

from exam_core.errors import InvigilError
from exam_core.jsonio import canonical_dumps
from exam_core.model import AnswerKey, Form, FormItemRef, Item
from exam_core.timestamps import utc_text
from item_bank_sync.bank.schema import forms, item_instances, item_stats, items, versioned_json
from item_bank_sync.db.sql import fetch_all, lock, upsert, write
from item_bank_sync.forms.assembly import AssemblyReport, PoolItem
from item_bank_sync.forms.schemes import Scheme
from item_bank_sync.items.qti.families import draw_instance

#: Returns a media file's bytes by its SHA-256 (the bank's media store).
MediaBytes = Callable[[str], bytes]


class FormError(InvigilError):
    """A form request was refused (unknown form, item no longer approved)."""


def record_item_stats(db: Engine, item_id: str, version: int, p: float, n: int,
                      point_biserial: float | None = None, source: str = "") -> None:
    """Store (replace) the classical statistics of one item version: p in [0, 1], n responses."""
    if not 0.0 <= p <= 1.0 or n < 0:
        raise InvigilError(f"item_stats for {item_id} v{version}: p must be in [0, 1] and n >= 0")
    with write(db) as conn:
        upsert(conn, item_stats, {"item_id": item_id, "version": version, "p": float(p), "n": int(n),
                                  "point_biserial": point_biserial, "updated_at": utc_text(), "source": source},
               key=["item_id", "version"])


def load_pool(db: Engine) -> list[PoolItem]:
    """The newest approved version of every item, with its p-value when statistics exist."""
    newest = items.alias("j")
    latest = (select(func.max(newest.c.version))
              .where(newest.c.item_id == items.c.item_id, newest.c.status == "approved").scalar_subquery())
    rows = fetch_all(db, select(items.c.item_id, items.c.version, items.c.competency_area, item_stats.c.p)
                     .outerjoin_from(items, item_stats, and_(item_stats.c.item_id == items.c.item_id,
                                                             item_stats.c.version == items.c.version))
                     .where(items.c.status == "approved", items.c.version == latest).order_by(items.c.item_id))
    return [PoolItem(item_id, version, area or "", p) for item_id, version, area, p in rows]


def form_id_for(scheme: Scheme, seed: int, index: int) -> str:
    return f"{scheme.scheme_id}-v{scheme.version}-s{seed}-f{index:02d}"


class FormStore:
    def __init__(self, db: Engine) -> None:
        self.db = db

    def save_build(self, scheme: Scheme, report: AssemblyReport, seed: int,
                   media: MediaBytes) -> list[dict[str, Any]]:
        """Store every form of a build; returns one summary per form (id, version, outcome).

        All forms are stored in one transaction: when an item family cannot be drawn for one form
        (an unmet templateConstraint), no form of the build is stored. ``media`` returns a media
        file's bytes by SHA-256 (used only by families that show media).
        """
        build_id = f"{scheme.scheme_id}-v{scheme.version}-s{seed}-n{len(report.forms)}"
        out = []
        with write(self.db) as conn:
            for assembled in report.forms:
                form_id = form_id_for(scheme, seed, assembled.index)
                refs = tuple(FormItemRef(i.item_id, i.version, i.area) for i in assembled.items)
                out.append(self._save(conn, scheme, form_id, refs, (build_id, seed), assembled.mean_p,
                                      assembled.index, media))
        return out

    def _save(self, conn: Connection, scheme: Scheme, form_id: str, refs: tuple[FormItemRef, ...],
              build: tuple[str, int], mean_p: float | None, index: int, media: MediaBytes) -> dict[str, Any]:
        build_id, seed = build
        lock(conn, f"form:{form_id}")  # two builds of one form id cannot both take the next version
        row = conn.execute(select(forms.c.version, forms.c.form_json).where(forms.c.form_id == form_id)
                           .order_by(forms.c.version.desc()).limit(1)).first()
        version = (row[0] + 1) if row else 1
        form = Form(form_id=form_id, version=version, scheme_id=scheme.scheme_id,
                    scheme_version=scheme.version, title=f"{scheme.title} (form {index})",
                    duration_seconds=scheme.duration_minutes * 60, items=refs,
                    instructions_html=scheme.instructions, agreement_html=scheme.agreement,
                    tools=scheme.candidate_tools)
        summary = {"form_id": form_id, "items": len(refs), "mean_p": mean_p}
        if row and _same_content(json.loads(row[1]), form.to_dict()):
            return {**summary, "version": row[0], "outcome": "unchanged"}
        Form.from_dict(form.to_dict())  # never store a form the wire model would refuse
        conn.execute(insert(forms).values(
            form_id=form_id, version=version, scheme_id=scheme.scheme_id, scheme_version=scheme.version,
            build_id=build_id, seed=seed, form_json=canonical_dumps(form.to_dict()).decode(), mean_p=mean_p,
            created_at=utc_text()))
        _draw_families(conn, form, media)
        return {**summary, "version": version, "outcome": "created" if version == 1 else "new_version"}

    def get(self, form_id: str, version: int | None = None) -> Form:
        doc = versioned_json(self.db, "forms", form_id, version)
        if doc is None:
            raise FormError(f"no form {form_id}" + (f" version {version}" if version else ""))
        return Form.from_dict(doc)

    def list(self, scheme_id: str | None = None) -> list[dict[str, Any]]:
        f = forms.c
        query = select(f.form_id, f.version, f.scheme_id, f.scheme_version, f.seed, f.mean_p, f.created_at, f.form_json)
        if scheme_id:
            query = query.where(f.scheme_id == scheme_id)
        rows = fetch_all(self.db, query.order_by(f.form_id, f.version))
        return [{"form_id": r[0], "version": r[1], "scheme_id": r[2], "scheme_version": r[3], "seed": r[4],
                 "mean_p": r[5], "created_at": r[6], "items": len(json.loads(r[7])["items"])} for r in rows]


def _draw_families(conn: Connection, form: Form, media: MediaBytes) -> None:
    """Draw and store the instance of every item family on a new form version (seeded by the
    form's id and version and the item's id and version, so a rebuild draws the same instance)."""
    for ref in form.items:
        row = conn.execute(select(items.c.item_json, items.c.key_json)
                           .where(items.c.item_id == ref.item_id, items.c.version == ref.version)).one()
        key = AnswerKey.from_dict(json.loads(row[1]))
        if key.family is None:
            continue
        item, inst_key, seed = draw_instance(Item.from_dict(json.loads(row[0])), key, form.form_id, form.version,
                                             media)
        conn.execute(insert(item_instances).values(
            form_id=form.form_id, form_version=form.version, item_id=ref.item_id, item_version=ref.version,
            seed=seed, item_json=canonical_dumps(item.to_dict()).decode(),
            key_json=canonical_dumps(inst_key.to_dict()).decode(), created_at=utc_text()))


def form_instances(db: Engine, form_id: str, version: int) -> dict[str, tuple[Item, AnswerKey, str]]:
    """The drawn family instances of one form version by item id: (item, key, seed)."""
    c = item_instances.c
    rows = fetch_all(db, select(c.item_id, c.item_json, c.key_json, c.seed)
                     .where(c.form_id == form_id, c.form_version == version))
    return {r[0]: (Item.from_dict(json.loads(r[1])), AnswerKey.from_dict(json.loads(r[2])), r[3]) for r in rows}


def _same_content(old: dict[str, Any], new: dict[str, Any]) -> bool:
    old = Form.from_dict(old).to_dict()  # a form stored before a field existed reads with its default
    return {k: v for k, v in old.items() if k != "version"} == {k: v for k, v in new.items() if k != "version"}
