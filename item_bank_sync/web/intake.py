"""Intake pages: the envelope queue with filters, quarantine reasons, release after review,
releases made, and the release-attestation flags.

Release calls :func:`item_bank_sync.results.release.release`, as ``intake release`` does, over the
same intake (``SyncStore(...).intake()``) and with the signed-in person as the releaser, so the
same rules hold: only a custody quarantine (journal heads, a kiosk revoked before it sealed) may be
released, every other check runs again, a proctor of the attempt may not release it, and a reason
is required. The page shows the proctor rule before the button; the service refuses it anyway.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import case, select

from exam_core.errors import InvigilError
from item_bank_sync.results.audited import release_audited
from item_bank_sync.results.intake import Intake, ReviewableRefusal
from item_bank_sync.results.marking import person_key
from item_bank_sync.results.release import REASON_MAX, releases
from item_bank_sync.results.schema import envelopes
from item_bank_sync.sync.store import SyncStore
from item_bank_sync.trust.release_allowlist import checks
from item_bank_sync.trust.schema import attestation_checks
from item_bank_sync.web.access import ADMIN, DECISION_MAKER, REGISTRAR, may_do, require_role, state
from item_bank_sync.web.formfields import SHA256_RE, actor, refused, shown_time, paged, spec_select, text_field
from item_bank_sync.web.tables import Col, TableSpec

bp = Blueprint("intake", __name__, url_prefix="/intake")

VIEW = (REGISTRAR, ADMIN, DECISION_MAKER)
#: The quarantine causes a person may weigh and release (the others never can).
REVIEWABLE = frozenset(c.__name__ for c in ReviewableRefusal.__subclasses__())

_E, _A = envelopes.c, attestation_checks.c
QUEUE = TableSpec("envelopes", (
    Col("received_at", "Received", _E.received_at, show=shown_time),
    Col("centre_id", "Centre", _E.centre_id, filter="exact"),
    Col("attempt_id", "Attempt", _E.attempt_id, filter="text", show=lambda v: v or "not known",
        link=lambda r: url_for("intake.envelope_page", sha256=r.sha256)),
    Col("status", "Status", _E.status, filter="exact"),
    Col("reason", "Reason", _E.reason, filter="text", sortable=False),
    Col("attestation", "Attestation", _A.status, filter="exact"),
    Col("review", "Needs review because", case((_A.flagged == 1, _A.reason), else_=""), sortable=False)),
    key=(_E.sha256,), default_sort="received_at", default_descending=True)


@bp.get("/")
@require_role(*VIEW)
def queue_page() -> ResponseReturnValue:
    """``intake list``: every envelope received, filtered and paged on the server."""
    query = (spec_select(QUEUE).add_columns(_E.sha256)   # for the link to the envelope's page
             .outerjoin_from(envelopes, attestation_checks, _A.envelope_sha256 == _E.sha256))
    page = paged(state().ctx.open_results_db(), QUEUE, "intake.queue_page", query)
    return render_template("staff/intake/queue.html", page=page)


@bp.get("/envelopes/<sha256>")
@require_role(*VIEW)
def envelope_page(sha256: str) -> ResponseReturnValue:
    """One envelope: status, reason, and for a quarantined one the review and release form."""
    envelope = _envelope(sha256)
    held = _quarantine_details(sha256) if envelope["status"] == "quarantined" else None
    return render_template("staff/intake/envelope.html", envelope=envelope, held=held,
                           may_release=may_do("intake.release"), reason_max=REASON_MAX)


@bp.post("/envelopes/<sha256>/release")
@require_role(REGISTRAR)
def release_action(sha256: str) -> ResponseReturnValue:
    """``intake release SHA256 --by --reason``."""
    _envelope(sha256)
    reason = text_field("reason", REASON_MAX)
    try:
        done = release_audited(state().ctx, _intake(), sha256, actor(), reason)
    except InvigilError as exc:
        return refused("Not released", str(exc), back=url_for("intake.envelope_page", sha256=sha256))
    return render_template("staff/intake/released.html", done=done)


@bp.get("/releases")
@require_role(*VIEW)
def releases_page() -> ResponseReturnValue:
    """``intake releases``: every quarantined envelope released after review."""
    return render_template("staff/intake/releases.html", rows=releases(state().ctx.open_results_db()))


@bp.get("/attestations")
@require_role(*VIEW)
def attestations_page() -> ResponseReturnValue:
    """``intake attestations [--flagged]``: the release-attestation verdict of accepted envelopes."""
    flagged = request.args.get("flagged") == "1"
    return render_template("staff/intake/attestations.html", rows=checks(state().ctx.open_results_db(), flagged),
                           flagged=flagged)


def _intake() -> Intake:
    ctx = state().ctx
    return SyncStore(ctx.data_dir, db_url=ctx.db_url).intake()


def _envelope(sha256: str) -> dict[str, Any]:
    if not SHA256_RE.match(sha256):
        abort(404)
    with state().ctx.open_results_db().connect() as conn:
        row = conn.execute(select(_E.sha256, _E.centre_id, _E.attempt_id, _E.status, _E.reason, _E.received_at)
                           .where(_E.sha256 == sha256)).mappings().first()
    if row is None:
        abort(404)
    return dict(row)


def _quarantine_details(sha256: str) -> dict[str, Any] | None:
    """What the release form needs: the cause, whether a person may release it, who proctored it."""
    held = _intake().quarantined(sha256)
    if held is None:
        return None
    _, centre, meta, received, error, reason = held
    me = person_key(actor())
    return {"centre_id": centre, "received_at": received, "error": error, "reason": reason,
            "reviewable": error in REVIEWABLE, "proctors": list(meta.proctors),
            "i_proctored": me in {person_key(p) for p in meta.proctors}}
