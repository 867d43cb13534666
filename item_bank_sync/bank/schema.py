"""Tables of the central body's bank store (``bank.db`` on SQLite; see ``item_bank_sync.db``).

Tables (defined once here, on the data layer's MetaData; results live in ``results/schema.py``,
centres and revocation lists in ``trust/schema.py``, the audit chain in ``db/audit.py``):

``items``            one row per item *version*: content (``item_json``, an ``exam_core.model.Item``),
                     answer key (``key_json``, an ``AnswerKey``), content hash, document-control status,
                     and provenance: the import ``namespace`` (``--namespace``; '' for none) and the
                     ``source_key`` (the file, relative to the folder or zip imported, with that
                     folder's or zip's name; NULL for versions stored before it was recorded).
``item_status``      every status change of an item version: who, when, note (the document history).
                     It is also the outbox of the audit chain: ``audit_cursor`` holds the last
                     ``item_status.id`` copied into the chain (see ``ItemBank.drain_audit``).
``media``            content-addressed media files (bytes live in ``DIR/media``).
``schemes``          certification schemes with their blueprint (parsed YAML, see docs/ITEM-FORMATS.md).
``forms``            assembled forms (``form_json``, an ``exam_core.model.Form``), with seed and build id.
``item_instances``   the drawn instance of an item family (QTI template) per form version: item, key, seed.
``item_stats``       classical item statistics per item version: ``p`` (proportion correct, 0..1)
                     and ``n`` (responses). Written by item analysis (issue 8) through
                     :func:`item_bank_sync.forms.store.record_item_stats`; read by form assembly to
                     balance mean difficulty.
``packages``         published form packages (which form, which centre, window, file path relative
                     to the data directory, SHA-256 of the file).

Schema changes are Alembic revisions (``item_bank_sync/db/migrations/versions/bank_*.py``);
revisions 1-4 are the hand-numbered SQLite migrations this module held before the data layer, so a
``bank.db`` made then is adopted at its ``PRAGMA user_version`` and upgraded in place.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import (CheckConstraint, Column, Engine, Float, ForeignKey, ForeignKeyConstraint, Index, Integer, Table,
                        Text, select)

from item_bank_sync.db.metadata import BANK, central_table
from item_bank_sync.db.sql import fetch_one

items = central_table(
    "items", BANK,
    Column("item_id", Text, primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("content_hash", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="draft"),
    Column("title", Text, nullable=False),
    Column("interaction_types", Text, nullable=False),
    Column("competency_area", Text),
    Column("source", Text, nullable=False),
    Column("source_format", Text, nullable=False),
    Column("item_json", Text, nullable=False),
    Column("key_json", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("namespace", Text, nullable=False, server_default=""),
    Column("source_key", Text),
    CheckConstraint("status IN ('draft', 'reviewed', 'approved', 'retired')", name="items_status_check"),
    Index("items_status", "status"),
    Index("items_area", "competency_area"),
    Index("items_namespace", "namespace"),
)

item_status = central_table(
    "item_status", BANK,
    Column("id", Integer, primary_key=True),
    Column("item_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("from_status", Text),
    Column("to_status", Text, nullable=False),
    Column("by", Text, nullable=False),
    Column("at", Text, nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    ForeignKeyConstraint(["item_id", "version"], ["items.item_id", "items.version"]),
    Index("item_status_item", "item_id", "version"),
)

media = central_table(
    "media", BANK,
    Column("sha256", Text, primary_key=True),
    Column("mime", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("width", Integer),
    Column("height", Integer),
    Column("created_at", Text, nullable=False),
)

schemes = central_table(
    "schemes", BANK,
    Column("scheme_id", Text, primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("title", Text, nullable=False),
    Column("scheme_json", Text, nullable=False),
    Column("source_text", Text, nullable=False),
    Column("created_at", Text, nullable=False),
)

forms = central_table(
    "forms", BANK,
    Column("form_id", Text, primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("scheme_id", Text, nullable=False),
    Column("scheme_version", Integer, nullable=False),
    Column("build_id", Text, nullable=False),
    Column("seed", Integer, nullable=False),
    Column("form_json", Text, nullable=False),
    Column("mean_p", Float),
    Column("created_at", Text, nullable=False),
    ForeignKeyConstraint(["scheme_id", "scheme_version"], ["schemes.scheme_id", "schemes.version"]),
)

#: The drawn instance of an item family (QTI template) on one form version: the item the package
#: carries and the key that scores it (item_bank_sync.items.qti.families; bank_0012).
item_instances = central_table(
    "item_instances", BANK,
    Column("form_id", Text, primary_key=True),
    Column("form_version", Integer, primary_key=True, autoincrement=False),
    Column("item_id", Text, primary_key=True),
    Column("item_version", Integer, nullable=False),
    Column("seed", Text, nullable=False),
    Column("item_json", Text, nullable=False),
    Column("key_json", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    ForeignKeyConstraint(["form_id", "form_version"], ["forms.form_id", "forms.version"]),
    ForeignKeyConstraint(["item_id", "item_version"], ["items.item_id", "items.version"]),
)

item_stats = central_table(
    "item_stats", BANK,
    Column("item_id", Text, primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("p", Float, nullable=False),
    Column("n", Integer, nullable=False),
    Column("point_biserial", Float),
    Column("updated_at", Text, nullable=False),
    Column("source", Text, nullable=False, server_default=""),
    CheckConstraint("p >= 0 AND p <= 1", name="item_stats_p_check"),
    CheckConstraint("n >= 0", name="item_stats_n_check"),
)

packages = central_table(
    "packages", BANK,
    Column("package_id", Text, primary_key=True),
    Column("form_id", Text, nullable=False),
    Column("form_version", Integer, nullable=False),
    Column("centre_id", Text, ForeignKey("centres.centre_id"), nullable=False),
    Column("opens", Text, nullable=False),
    Column("closes", Text, nullable=False),
    Column("release_code_required", Integer, nullable=False),
    Column("path", Text, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    ForeignKeyConstraint(["form_id", "form_version"], ["forms.form_id", "forms.version"]),
)

audit_cursor = central_table(
    "audit_cursor", BANK,
    Column("name", Text, primary_key=True),
    Column("last_id", Integer, nullable=False),
)

# --- psychometric records (issue 19; revision bank_0011): defined here, in the bank store, because
# scoring (item_bank_sync.results) reads the cut in force and an equating of a form, and the
# results tier may not import the psychometrics tier above it.

item_parameters = central_table(
    "item_parameters", BANK,
    Column("id", Integer, primary_key=True),
    Column("item_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("model", Text, nullable=False),
    Column("a", Float, nullable=False),
    Column("b", Float, nullable=False),
    Column("d", Float, nullable=False),
    Column("se_a", Float),
    Column("se_b", Float),
    Column("fit_json", Text, nullable=False, server_default="{}"),
    Column("n_candidates", Integer, nullable=False),
    Column("form_id", Text, nullable=False),
    Column("form_version", Integer, nullable=False),
    Column("converged", Integer, nullable=False),
    Column("iterations", Integer, nullable=False),
    Column("loglik", Float),
    Column("calibrated_at", Text, nullable=False),
    Column("calibrated_by", Text, nullable=False),
    ForeignKeyConstraint(["item_id", "version"], ["items.item_id", "items.version"]),
    Index("item_parameters_item", "item_id", "version"),
)

form_equatings = central_table(
    "form_equatings", BANK,
    Column("id", Integer, primary_key=True),
    Column("form_id", Text, nullable=False),
    Column("form_version", Integer, nullable=False),
    Column("reference_form_id", Text, nullable=False),
    Column("reference_version", Integer, nullable=False),
    Column("method", Text, nullable=False),
    Column("conversion_json", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    ForeignKeyConstraint(["form_id", "form_version"], ["forms.form_id", "forms.version"]),
    Index("form_equatings_form", "form_id", "form_version"),
)

standard_setting_studies = central_table(
    "standard_setting_studies", BANK,
    Column("study_id", Text, primary_key=True),
    Column("scheme_id", Text, nullable=False),
    Column("scheme_version", Integer, nullable=False),
    Column("form_id", Text, nullable=False),
    Column("form_version", Integer, nullable=False),
    Column("method", Text, nullable=False),
    Column("opened_at", Text, nullable=False),
    Column("opened_by", Text, nullable=False),
    ForeignKeyConstraint(["scheme_id", "scheme_version"], ["schemes.scheme_id", "schemes.version"]),
)

standard_setting_panellists = central_table(
    "standard_setting_panellists", BANK,
    Column("study_id", Text, ForeignKey("standard_setting_studies.study_id"), primary_key=True),
    Column("panellist_id", Text, primary_key=True),
    Column("trained_candidates", Integer, nullable=False),
    Column("conflicts", Text, nullable=False, server_default=""),
    Column("added_at", Text, nullable=False),
)

standard_setting_ratings = central_table(
    "standard_setting_ratings", BANK,
    Column("study_id", Text, ForeignKey("standard_setting_studies.study_id"), primary_key=True),
    Column("round", Integer, primary_key=True, autoincrement=False),
    Column("panellist_id", Text, primary_key=True),
    Column("item_id", Text, primary_key=True),
    Column("rating", Float, nullable=False),
    Column("imported_at", Text, nullable=False),
    Column("imported_by", Text, nullable=False),
    CheckConstraint("rating >= 0 AND rating <= 1", name="standard_setting_ratings_rating_check"),
)

standard_setting_cuts = central_table(
    "standard_setting_cuts", BANK,
    Column("id", Integer, primary_key=True),
    Column("study_id", Text, ForeignKey("standard_setting_studies.study_id"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("round", Integer, nullable=False),
    Column("cut", Float, nullable=False),
    Column("se", Float),
    Column("pass_rate", Float),
    Column("n_candidates", Integer),
    Column("detail_json", Text, nullable=False, server_default="{}"),
    Column("decided_by", Text, nullable=False),
    Column("decided_at", Text, nullable=False),
    CheckConstraint("kind IN ('impact', 'recommended', 'adopted')", name="standard_setting_cuts_kind_check"),
    Index("standard_setting_cuts_study", "study_id"),
)

_VERSIONED_JSON: dict[str, tuple[Table, str, str]] = {
    "forms": (forms, "form_id", "form_json"), "schemes": (schemes, "scheme_id", "scheme_json")}


def versioned_json(bank: Engine, table: str, ident: str, version: int | None = None) -> dict[str, Any] | None:
    """The parsed JSON document of one version of a form or scheme (the newest if ``version`` is
    None), or None when there is no such row. The table comes from a fixed map, never from the
    caller's text."""
    chosen, id_column, json_column = _VERSIONED_JSON[table]
    query = select(chosen.c[json_column]).where(chosen.c[id_column] == ident)
    if version is not None:
        query = query.where(chosen.c.version == version)
    row = fetch_one(bank, query.order_by(chosen.c.version.desc()).limit(1))
    return None if row is None else json.loads(row[0])
