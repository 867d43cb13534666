"""Import pages: upload a QTI/YAML file or a content package, read the report, then confirm.

The report is :class:`~item_bank_sync.bank.import_run.ImportReport`, the one ``import --dry-run``
prints (per source folder: imported by outcome, refused by reason, warnings); the confirm step
imports the stored upload through the same ``run_import`` as ``import PATH --by NAME`` (see
:mod:`item_bank_sync.web.items.uploads`). Only item writers import (``DUTIES["import"]``).
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from exam_core.errors import InvigilError
from exam_core.limits import MIB
from item_bank_sync.bank.store import CLASH_POLICIES
from item_bank_sync.web.access import ITEM_WRITER, may_do, require_role, state
from item_bank_sync.web.formfields import actor, refused, text_field
import item_bank_sync.web.items.uploads as uploads

bp = Blueprint("staff_imports", __name__, url_prefix="/items/import")


def _root() -> Path:
    return state().ctx.data_dir / "uploads"


def _allowed() -> ResponseReturnValue | None:
    verdict = may_do("import")
    return None if verdict else refused("Not allowed", verdict.reason, 403)


@bp.get("/")
@require_role(ITEM_WRITER)
def upload() -> ResponseReturnValue:
    return render_template("staff/items/import.html", clash_policies=CLASH_POLICIES,
                           limit_mib=uploads.MAX_UPLOAD_BYTES // MIB, suffixes=uploads.SUFFIXES)


@bp.post("/")
@require_role(ITEM_WRITER)
def plan() -> ResponseReturnValue:
    """Store the upload and show what importing it would do (nothing changes yet)."""
    if (refusal := _allowed()) is not None:
        return refusal
    file = request.files.get("file")
    if file is None or not file.filename:
        return refused("Import refused", "Choose a QTI or YAML item file, or a .zip content package.")
    try:
        options, on_clash = uploads.read_options(text_field("area", 200, required=False),
                                                 text_field("namespace", 32, required=False),
                                                 request.form.get("on_clash", "refuse"),
                                                 request.form.get("assume_match_correct") == "yes")
        stored = uploads.save(_root(), file.filename, file.stream, actor(), options, on_clash)
        report = uploads.plan(state().ctx.item_bank(), stored)
    except InvigilError as exc:
        return refused("Import refused", str(exc))
    return render_template("staff/items/import_report.html", report=report, summary=report.summary(),
                           upload=stored, done=False)


@bp.post("/confirm")
@require_role(ITEM_WRITER)
def confirm() -> ResponseReturnValue:
    """Import the upload whose report the person read (``import PATH --by <signed-in person>``)."""
    if (refusal := _allowed()) is not None:
        return refusal
    try:
        stored = uploads.load(_root(), text_field("upload", 64), actor())
        report = uploads.confirm(state().ctx.item_bank(), stored, actor())
    except InvigilError as exc:
        return refused("Import refused", str(exc))
    return render_template("staff/items/import_report.html", report=report, summary=report.summary(),
                           upload=stored, done=True)


@bp.post("/discard")
@require_role(ITEM_WRITER)
def discard() -> ResponseReturnValue:
    try:
        uploads.discard(uploads.load(_root(), text_field("upload", 64), actor()))
    except InvigilError as exc:
        return refused("Discard refused", str(exc))
    return render_template("staff/items/import.html", clash_policies=CLASH_POLICIES, discarded=True,
                           limit_mib=uploads.MAX_UPLOAD_BYTES // MIB, suffixes=uploads.SUFFIXES)
