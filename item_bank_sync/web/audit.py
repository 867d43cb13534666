"""The audit page: the central audit chain browsable by actor, action, object and time, its
checkpoints, and a verification of the whole chain against the central public key.

Entries are listed by the server-side table (100,000 entries page in milliseconds); "object" is a
text search in the entry's data (an item id, a centre id, a person's name). Verification walks the
whole chain, so it runs on its own page, when asked.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for
from sqlalchemy import desc, select

from exam_core import keys
from exam_core.audit import verdict
from item_bank_sync.context import SIGNING_PUB_FILE
from item_bank_sync.db.audit import audit_log, audit_log_checkpoints
from item_bank_sync.db.sql import fetch_all
from item_bank_sync.web.access import AUDITOR, ROLES, require_role, state
from item_bank_sync.web.tables import Col, TableSpec, table_page
from item_bank_sync.web.timefmt import when

bp = Blueprint("audit", __name__, url_prefix="/audit")

#: Only the central chain's own policy: a checkpoint is signed with every entry.
MAX_UNPROTECTED = 0
DATA_SHOWN_CHARS = 300


def _spec() -> TableSpec:
    zone = state().zone_name
    return TableSpec("audit", (
        Col("seq", "Entry", audit_log.c.seq, filter="exact"),
        Col("time", "Time", audit_log.c.time, show=lambda v: when(v, zone)),
        Col("actor", "Who", audit_log.c.actor, filter="text"),
        Col("action", "Action", audit_log.c.action, filter="text"),
        Col("data", "Details (object)", audit_log.c.data, sortable=False, filter="text",
            show=lambda v: v if len(v) <= DATA_SHOWN_CHARS else v[:DATA_SHOWN_CHARS] + "…"),
    ), key=(audit_log.c.seq,), default_sort="seq", default_descending=True)


@bp.get("")
@require_role(*ROLES)
def audit() -> Any:
    """Every signed-in person may read the chain (it holds no secrets and no candidate content)."""
    query = select(audit_log.c.seq, audit_log.c.time, audit_log.c.actor, audit_log.c.action, audit_log.c.data)
    since, until = request.args.get("since", "")[:40], request.args.get("until", "")[:40]
    if since:
        query = query.where(audit_log.c.time >= since)
    if until:
        query = query.where(audit_log.c.time <= until)
    page = table_page(state().ctx.open_bank_db(), query, _spec(), request.args, base_path=url_for("audit.audit"))
    checkpoints = fetch_all(state().ctx.open_bank_db(), select(
        audit_log_checkpoints.c.seq, audit_log_checkpoints.c.time, audit_log_checkpoints.c.head)
        .order_by(desc(audit_log_checkpoints.c.id)).limit(10))
    return render_template("staff/audit.html", page=page, checkpoints=checkpoints, since=since, until=until)


@bp.get("/verify")
@require_role(AUDITOR, *ROLES)
def verify() -> Any:
    """Walk the chain and check every checkpoint's signature (as ``audit verify`` does)."""
    ctx = state().ctx
    public = keys.load_signing_public_key(ctx.keys_dir / SIGNING_PUB_FILE)
    result = verdict(ctx.audit_log(), public, max_unprotected=MAX_UNPROTECTED)
    return render_template("staff/audit_verify.html", result=result)
