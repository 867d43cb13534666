"""Assembled forms in bank.db, and the item statistics that assembly reads.

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

import sqlite_utils

from exam_core.errors import InvigilError
from exam_core.jsonio import canonical_dumps
from exam_core.model import Form, FormItemRef
from exam_core.store import immediate_transaction
from exam_core.timestamps import utc_text
from item_bank_sync.bank.schema import versioned_json
from item_bank_sync.forms.assembly import AssemblyReport, PoolItem
from item_bank_sync.forms.schemes import Scheme


class FormError(InvigilError):
    """A form request was refused (unknown form, item no longer approved)."""


def record_item_stats(db: sqlite_utils.Database, item_id: str, version: int, p: float, n: int,
                      point_biserial: float | None = None, source: str = "") -> None:
    """Store (replace) the classical statistics of one item version: p in [0, 1], n responses."""
    if not 0.0 <= p <= 1.0 or n < 0:
        raise InvigilError(f"item_stats for {item_id} v{version}: p must be in [0, 1] and n >= 0")
    with immediate_transaction(db) as conn:
        conn.execute("INSERT OR REPLACE INTO item_stats (item_id, version, p, n, point_biserial, updated_at, source)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?)", (item_id, version, float(p), int(n), point_biserial,
                                                       utc_text(), source))


def load_pool(db: sqlite_utils.Database) -> list[PoolItem]:
    """The newest approved version of every item, with its p-value when statistics exist."""
    rows = db.execute(
        "SELECT i.item_id, i.version, i.competency_area, s.p FROM items AS i "
        "LEFT JOIN item_stats AS s ON s.item_id = i.item_id AND s.version = i.version "
        "WHERE i.status = 'approved' AND i.version = (SELECT MAX(version) FROM items AS j "
        "WHERE j.item_id = i.item_id AND j.status = 'approved') ORDER BY i.item_id").fetchall()
    return [PoolItem(item_id, version, area or "", p) for item_id, version, area, p in rows]


def form_id_for(scheme: Scheme, seed: int, index: int) -> str:
    return f"{scheme.scheme_id}-v{scheme.version}-s{seed}-f{index:02d}"


class FormStore:
    def __init__(self, db: sqlite_utils.Database) -> None:
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
        with immediate_transaction(self.db) as conn:
            row = conn.execute("SELECT version, form_json FROM forms WHERE form_id = ? ORDER BY version DESC LIMIT 1",
                               (form_id,)).fetchone()
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
            conn.execute("INSERT INTO forms (form_id, version, scheme_id, scheme_version, build_id, seed, form_json,"
                         " mean_p, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (form_id, version, scheme.scheme_id, scheme.version, build_id, seed,
                          canonical_dumps(form.to_dict()).decode(), mean_p, utc_text()))
        return {**summary, "version": version, "outcome": "created" if version == 1 else "new_version"}

    def get(self, form_id: str, version: int | None = None) -> Form:
        doc = versioned_json(self.db, "forms", form_id, version)
        if doc is None:
            raise FormError(f"no form {form_id}" + (f" version {version}" if version else ""))
        return Form.from_dict(doc)

    def list(self, scheme_id: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT form_id, version, scheme_id, scheme_version, seed, mean_p, created_at, form_json FROM forms"
        params = []
        if scheme_id:
            sql += " WHERE scheme_id = ?"
            params.append(scheme_id)
        rows = self.db.execute(sql + " ORDER BY form_id, version", params).fetchall()
        return [{"form_id": r[0], "version": r[1], "scheme_id": r[2], "scheme_version": r[3], "seed": r[4],
                 "mean_p": r[5], "created_at": r[6], "items": len(json.loads(r[7])["items"])} for r in rows]


def _same_content(old: dict[str, Any], new: dict[str, Any]) -> bool:
    old = Form.from_dict(old).to_dict()  # a form stored before a field existed reads with its default
    return {k: v for k, v in old.items() if k != "version"} == {k: v for k, v in new.items() if k != "version"}
