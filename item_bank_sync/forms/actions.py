"""Scheme and form actions with their audit entries, shared by the CLI and the staff pages.

Why here and not in the commands: every action of the staff web application must write the same
audit entry, with the same actor, as its CLI command. Both call these functions, so the entry is
defined once (``scheme.add`` and ``forms.build``) and cannot drift between the two front ends.
Coverage and package history are read-only views both show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from item_bank_sync.bank.schema import packages
from item_bank_sync.context import CentralContext
from item_bank_sync.db.sql import fetch_all
from item_bank_sync.forms.assembly import AssemblyReport, assemble
from item_bank_sync.forms.schemes import Scheme, SchemeStore, parse_scheme
from item_bank_sync.forms.store import FormStore, load_pool


@dataclass(frozen=True)
class SchemeAdded:
    """What ``schemes add`` did: the parsed scheme and whether it was new (``added``/``unchanged``)."""

    scheme: Scheme
    outcome: str


@dataclass(frozen=True)
class FormsBuilt:
    """What ``forms build`` did: the scheme built for, the stored forms and the overlap/balance report."""

    scheme: Scheme
    seed: int
    forms: list[dict[str, Any]]
    report: AssemblyReport

    def to_dict(self) -> dict[str, Any]:
        return {"scheme_id": self.scheme.scheme_id, "scheme_version": self.scheme.version, "seed": self.seed,
                "forms": self.forms, **self.report.to_dict()}


def add_scheme(ctx: CentralContext, data: bytes, source: str, by: str) -> SchemeAdded:
    """Parse and store a scheme's YAML; a new one is audited as ``scheme.add`` by ``by``."""
    scheme = parse_scheme(data, source)
    outcome = SchemeStore(ctx.open_bank_db()).add(scheme, data.decode("utf-8"))
    if outcome == "added":
        ctx.audit_log().append(by, "scheme.add", {"scheme_id": scheme.scheme_id, "version": scheme.version})
    return SchemeAdded(scheme, outcome)


def build_forms(ctx: CentralContext, scheme_id: str, scheme_version: int | None, count: int, seed: int,
                by: str) -> FormsBuilt:
    """Assemble COUNT forms for a scheme, store them and audit ``forms.build``.

    Raises :class:`~item_bank_sync.forms.assembly.BlueprintUnsatisfiable` (with its shortfalls)
    when the approved pool cannot meet the blueprint; nothing is stored then.
    """
    db = ctx.open_bank_db()
    scheme = SchemeStore(db).get(scheme_id, scheme_version)
    report = assemble(scheme, load_pool(db), count, seed)
    forms = FormStore(db).save_build(scheme, report, seed, ctx.item_bank().media.get)
    ctx.audit_log().append(by, "forms.build", {"scheme_id": scheme.scheme_id, "version": scheme.version,
                                               "seed": seed, "count": count,
                                               "forms": [f"{f['form_id']}@{f['version']}" for f in forms]})
    return FormsBuilt(scheme, seed, forms, report)


def scheme_coverage(ctx: CentralContext, scheme_id: str, version: int | None = None) -> dict[str, Any]:
    """A scheme as a dict whose blueprint areas also say how many approved items the bank holds."""
    db = ctx.open_bank_db()
    scheme = SchemeStore(db).get(scheme_id, version)
    pool = load_pool(db)
    data = scheme.to_dict()
    for area in data["blueprint"]:
        area["approved_items"] = sum(1 for i in pool if i.area == area["area"])
    return data


def package_history(ctx: CentralContext, form_id: str | None = None,
                    centre_id: str | None = None) -> list[dict[str, Any]]:
    """Every package published, newest first (optionally of one form or for one centre)."""
    p = packages.c
    query = select(p.package_id, p.form_id, p.form_version, p.centre_id, p.opens, p.closes,
                   p.release_code_required, p.sha256, p.created_at).order_by(p.created_at.desc(), p.package_id)
    if form_id:
        query = query.where(p.form_id == form_id)
    if centre_id:
        query = query.where(p.centre_id == centre_id)
    cols = ("package_id", "form_id", "form_version", "centre_id", "opens", "closes", "release_code_required",
            "sha256", "created_at")
    return [dict(zip(cols, r)) for r in fetch_all(ctx.open_bank_db(), query)]
