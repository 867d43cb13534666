"""Centres pages: enrolment, certificates, revocation, kiosk revocations received, per-centre figures.

Each action calls the function its CLI command calls (``centres add`` -> :func:`enrol`, ``centres
revoke`` -> :func:`revoke`), with the signed-in person as the actor, so the audit chain holds the
same entry whichever face was used. Figures are counted in the results store, per centre:
attempts received (candidate sessions), proctors' incident reports, monitoring alerts (incidents a
rule raised), and quarantined envelopes.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import Engine, case, func, select

from exam_core.errors import InvigilError
from item_bank_sync.forms.actions import package_history
from item_bank_sync.results.schema import attempts, envelopes, incidents
from item_bank_sync.trust.centres import REQUEST_MAX_BYTES, enrol, list_centres, revoke
from item_bank_sync.trust.kiosk_revocations import list_revocations
from item_bank_sync.web.access import ADMIN, REGISTRAR, may_do, require_role, state
from item_bank_sync.web.formfields import ID_RE, actor, refused, text_field, upload

bp = Blueprint("centres", __name__, url_prefix="/centres")

#: Who sees the centres pages (the auditor too, read-only); enrolment and revocation need ADMIN.
VIEW = (ADMIN, REGISTRAR)
FIGURES = ("attempts", "incidents", "alerts", "quarantined")


def centre_figures(results: Engine) -> dict[str, dict[str, int]]:
    """``{centre_id: {attempts, incidents, alerts, quarantined}}`` counted in the results store.

    An alert is an incident a monitoring rule raised (``rule`` set); one without a rule is a
    proctor's own report. Three grouped counts, so the page costs the same for any number of rows.
    """
    out: dict[str, dict[str, int]] = {}

    def put(centre: str, key: str, value: int) -> None:
        out.setdefault(centre, dict.fromkeys(FIGURES, 0))[key] = int(value)

    i, e = incidents.c, envelopes.c
    with results.connect() as conn:
        for centre, n in conn.execute(select(attempts.c.centre_id, func.count()).group_by(attempts.c.centre_id)):
            put(centre, "attempts", n)
        by_kind = select(i.centre_id, func.sum(case((i.rule == "", 1), else_=0)),
                         func.sum(case((i.rule != "", 1), else_=0))).group_by(i.centre_id)
        for centre, reports, alerts in conn.execute(by_kind):
            put(centre, "incidents", reports or 0)
            put(centre, "alerts", alerts or 0)
        held = select(e.centre_id, func.count()).where(e.status == "quarantined").group_by(e.centre_id)
        for centre, n in conn.execute(held):
            put(centre, "quarantined", n)
    return out


@bp.get("/")
@require_role(*VIEW)
def centres_page() -> ResponseReturnValue:
    """Every enrolled centre with its certificate state and figures, and the enrolment form."""
    ctx = state().ctx
    figures = centre_figures(ctx.open_results_db())
    rows = [{**c, **figures.get(c["centre_id"], dict.fromkeys(FIGURES, 0))} for c in list_centres(ctx.open_bank_db())]
    return render_template("staff/centres/list.html", centres=rows, may_enrol=may_do("centres.add"))


@bp.post("/enrol")
@require_role(ADMIN)
def enrol_centre() -> ResponseReturnValue:
    """``centres add --request FILE``: verify the uploaded request, issue the certificate."""
    data = upload("request", REQUEST_MAX_BYTES)   # enrol refuses a larger one with its own message
    if data is None:
        return refused("Enrolment refused", "Choose the enrolment-request.json the centre's console wrote.",
                       back=url_for("centres.centres_page"))
    try:
        result = enrol(state().ctx, data, "the uploaded request", actor())
    except InvigilError as exc:
        return refused("Enrolment refused", str(exc), back=url_for("centres.centres_page"))
    return render_template("staff/centres/enrolled.html", result=result)


@bp.get("/<centre_id>")
@require_role(*VIEW)
def centre_page(centre_id: str) -> ResponseReturnValue:
    """One centre: certificate, figures, packages published to it, kiosks it revoked, revoke form."""
    centre = _centre(centre_id)
    ctx = state().ctx
    figures = centre_figures(ctx.open_results_db()).get(centre_id, dict.fromkeys(FIGURES, 0))
    return render_template("staff/centres/centre.html", centre=centre, figures=figures,
                           packages=package_history(ctx, centre_id=centre_id)[:200],
                           kiosks=list_revocations(ctx.open_results_db(), centre_id),
                           may_revoke=may_do("centres.revoke"))


@bp.get("/<centre_id>/certificate.json")
@require_role(ADMIN)
def certificate_bundle(centre_id: str) -> ResponseReturnValue:
    """The bundle to hand back to the centre (``proctor_console certificate install FILE``)."""
    _centre(centre_id)
    path = state().ctx.centres_dir / f"{centre_id}.certificate.json"
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="application/json", as_attachment=True,
                     download_name=f"{centre_id}.certificate.json")


@bp.post("/<centre_id>/revoke")
@require_role(ADMIN)
def revoke_centre(centre_id: str) -> ResponseReturnValue:
    """``centres revoke CENTRE --reason``: revoke and issue the next signed revocation list."""
    _centre(centre_id)
    reason = text_field("reason", 1000, required=False)
    try:
        result = revoke(state().ctx, centre_id, reason, actor())
    except InvigilError as exc:
        return refused("Revocation refused", str(exc), back=url_for("centres.centre_page", centre_id=centre_id))
    return render_template("staff/centres/revoked.html", result=result)


@bp.get("/kiosk-revocations")
@require_role(*VIEW)
def kiosk_revocations_page() -> ResponseReturnValue:
    """``centres revocations``: kiosks revoked at centres, as received with their uploads."""
    centre_id = request.args.get("centre", "").strip()
    if centre_id and not ID_RE.match(centre_id):
        abort(400)
    rows = list_revocations(state().ctx.open_results_db(), centre_id or None)
    return render_template("staff/centres/kiosk_revocations.html", rows=rows, centre_id=centre_id)


def _centre(centre_id: str) -> dict[str, Any]:
    if not ID_RE.match(centre_id):
        abort(404)
    found = [c for c in list_centres(state().ctx.open_bank_db()) if c["centre_id"] == centre_id]
    if not found:
        abort(404)
    return found[0]

