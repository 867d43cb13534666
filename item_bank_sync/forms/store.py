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

from sqlalchemy import Engine, and_, func, insert, select

from exam_core.errors import InvigilError
from exam_core.jsonio import canonical_dumps
from exam_core.model import Form, FormItemRef
from exam_core.timestamps import utc_text
from item_bank_sync.bank.schema import forms, item_stats, items, versioned_json
from item_bank_sync.db.sql import fetch_all, lock, upsert, write
from item_bank_sync.forms.assembly import AssemblyReport, PoolItem
from item_bank_sync.forms.schemes import Scheme


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

    def save_build(self, scheme: Scheme, report: AssemblyReport, seed: int) -> list[dict[str, Any]]:
        """Store every form of a build; returns one summary per form (id, version, outcome)."""
        build_id = f"{scheme.scheme_id}-v{scheme.version}-s{seed}-n{len(report.forms)}"
        out = []
        for assembled in report.forms:
            form_id = form_id_for(scheme, seed, assembled.index)
            refs = tuple(FormItemRef(i.item_id, i.version, i.area) for i in assembled.items)
            out.append(self._save(scheme, form_id, refs, build_id, seed, assembled.mean_p, assembled.index))
        return out

    def _save(self, scheme: Scheme, form_id: str, refs: tuple[FormItemRef, ...], build_id: str, seed: int,
              mean_p: float | None, index: int) -> dict[str, Any]:
        with write(self.db) as conn:
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


def _same_content(old: dict[str, Any], new: dict[str, Any]) -> bool:
    old = Form.from_dict(old).to_dict()  # a form stored before a field existed reads with its default
    return {k: v for k, v in old.items() if k != "version"} == {k: v for k, v in new.items() if k != "version"}
