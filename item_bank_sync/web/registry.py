"""Registry pages (issue 16, item 6): the application queue with the automatic eligibility result,
one application with its evidence, the evidence viewer, and the accommodation requests.

Each action calls the registry function its CLI command calls (``applications decide`` ->
:func:`applications.decide`, ``accommodations approve|refuse`` -> :func:`accommodations.approve` /
:func:`accommodations.refuse`) with the signed-in person as a registry actor holding their roles,
so the conflict-of-interest check, the scheme's limits and the audit entry are the CLI's. Personal
data and evidence are shown only to registrar, admin and auditor (the services refuse everyone
else too); an evidence document is sent as an attachment under a sandboxing CSP, never rendered.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from exam_core.timestamps import utc_now
from item_bank_sync.portal.accounts import notify, reset_second_factor
from item_bank_sync.registry import accommodations, actors, applications, evidence, persons
from item_bank_sync.registry.actors import Actor
from item_bank_sync.registry.errors import ConflictOfInterest, Forbidden, NotFound, RegistryError
from item_bank_sync.web.access import ADMIN, REGISTRAR, acting_staff, may_do, require_role, state
from item_bank_sync.web.formfields import refused, text_field

bp = Blueprint("staff_registry", __name__, url_prefix="/registry")
#: Who sees applications, requests and evidence (the auditor too, read-only).
VIEW = (REGISTRAR, ADMIN)
STATUSES = {"applications": ("submitted", "accepted", "refused"),
            "accommodations": ("requested", "approved", "refused")}
PROFILE_FIELDS = (("extra_time_percent", "Extra time (percent)", "number"), ("large_text", "Large text", "check"),
                  ("high_contrast", "High contrast", "check"), ("zoom_percent", "Zoom (percent)", "number"),
                  ("rest_breaks", "Rest breaks (count)", "number"),
                  ("rest_break_minutes", "Minutes per break", "number"),
                  ("monitor_profile", "Monitor profile", "text"),
                  ("text_to_speech", "Questions read aloud", "check"), ("screen_reader", "Screen reader", "check"))


def registry_actor() -> Actor:
    """The signed-in staff member as the registry's actor, with their roles."""
    member = acting_staff()
    return actors.staff(member.name, *sorted(member.roles))


def _status_arg(kind: str) -> str | None:
    status = request.args.get("status", STATUSES[kind][0])
    return status if status in STATUSES[kind] else None


def _names(rows: list[Any]) -> dict[str, str]:
    """Person id -> full name for the rows shown (each read on the audit chain, clause 7.3)."""
    who = registry_actor()
    return {pid: persons.show(state().ctx, who, pid).full_name for pid in sorted({r.person_id for r in rows})}


def failed(title: str, exc: RegistryError, back: str) -> ResponseReturnValue:
    """A service's refusal as a page: 404 for what does not exist, 403 for roles and conflicts."""
    if isinstance(exc, NotFound):
        abort(404)
    return refused(title, str(exc), 403 if isinstance(exc, Forbidden) else 422, back=back)


@bp.get("/applications")
@require_role(*VIEW)
def application_queue() -> ResponseReturnValue:
    """Applications by status (the registrar's queue: submitted, oldest first) with the automatic result."""
    status = _status_arg("applications")
    rows = applications.list_applications(state().ctx, registry_actor(), status=status)
    return render_template("staff/registry/applications.html", rows=rows, names=_names(rows), status=status,
                           statuses=STATUSES["applications"])


@bp.get("/applications/<application_id>")
@require_role(*VIEW)
def application_page(application_id: str) -> ResponseReturnValue:
    """One application: person, answers, each eligibility rule, the agreement, evidence, the decision form."""
    ctx, who = state().ctx, registry_actor()
    try:
        found = applications.show(ctx, who, application_id[:40])
        person = persons.show(ctx, who, found.person_id)
        documents = evidence.list_for(ctx, who, evidence.APPLICATION, found.application_id)
    except RegistryError as exc:
        return failed("Application", exc, url_for("staff_registry.application_queue"))
    return render_template("staff/registry/application.html", app=found, person=person, documents=documents,
                           may_decide=may_do("applications.decide"))


@bp.post("/applications/<application_id>/decide")
@require_role(REGISTRAR)
def decide(application_id: str) -> ResponseReturnValue:
    """``applications decide ID --accept|--refuse --reasons --by <signed-in person>``."""
    back = url_for("staff_registry.application_page", application_id=application_id[:40])
    accept = request.form.get("decision") == "accept"
    if request.form.get("decision") not in ("accept", "refuse"):
        abort(400)
    try:
        decided = applications.decide(state().ctx, registry_actor(), application_id[:40], accept=accept,
                            reasons=text_field("reasons", 5000))
    except RegistryError as exc:
        return failed("Decision refused", exc, back)
    notify(state().ctx, decided.person_id, f"Your application was {decided.status}",
           f"Your application {decided.application_id} for {decided.scheme_id} version {decided.scheme_version} was "
           f"{decided.status}: {decided.decision_reasons}")
    flash(f"Application {application_id} {'accepted' if accept else 'refused'}.", "ok")
    return redirect(back)


@bp.post("/persons/<person_id>/reset-second-factor")
@require_role(REGISTRAR, ADMIN)
def reset_candidate_second_factor(person_id: str) -> ResponseReturnValue:
    """A candidate who lost their phone: their portal second factor off (after checking who asks)."""
    back = request.form.get("back", "")
    back = back if back.startswith("/registry/") else url_for("staff_registry.application_queue")
    try:
        done = reset_second_factor(state().ctx, registry_actor(), person_id[:40], text_field("reason", 1000))
    except RegistryError as exc:
        return failed("Reset refused", exc, back)
    flash("The candidate's second factor is off; they set it up again after signing in." if done
          else "The candidate has no second factor on.", "ok")
    return redirect(back)


@bp.get("/evidence/<document_id>")
@require_role(*VIEW)
def evidence_file(document_id: str) -> ResponseReturnValue:
    """The document's bytes (the read audited), as an attachment that runs nothing if opened."""
    try:
        doc, data = evidence.get(state().ctx, registry_actor(), document_id[:40])
    except RegistryError as exc:
        if isinstance(exc, ConflictOfInterest) or not isinstance(exc, Forbidden):
            return failed("Evidence", exc, url_for("staff_registry.application_queue"))
        abort(403)
    response = Response(data, mimetype=doc.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{doc.filename}"'
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@bp.get("/accommodations")
@require_role(*VIEW)
def accommodation_queue() -> ResponseReturnValue:
    status = _status_arg("accommodations")
    rows = accommodations.list_requests(state().ctx, registry_actor(), status=status)
    return render_template("staff/registry/accommodations.html", rows=rows, names=_names(rows), status=status,
                           statuses=STATUSES["accommodations"])


@bp.get("/accommodations/<request_id>")
@require_role(*VIEW)
def accommodation_page(request_id: str) -> ResponseReturnValue:
    ctx, who = state().ctx, registry_actor()
    try:
        found = accommodations.show(ctx, who, request_id[:40])
        person = persons.show(ctx, who, found.person_id)
        documents = evidence.list_for(ctx, who, evidence.ACCOMMODATION, found.request_id)
        policy = accommodations.policy_of(ctx, found.scheme_id, found.scheme_version)
    except RegistryError as exc:
        return failed("Accommodation request", exc, url_for("staff_registry.accommodation_queue"))
    return render_template("staff/registry/accommodation.html", req=found, person=person, documents=documents,
                           policy=policy, fields=PROFILE_FIELDS, may_decide=may_do("accommodations.approve"),
                           default_expiry=(utc_now() + timedelta(days=365)).date().isoformat())


def _profile_from_form() -> dict[str, Any]:
    profile: dict[str, Any] = {}
    for name, _label, kind in PROFILE_FIELDS:
        raw = request.form.get(name, "").strip()[:100]
        if kind == "check":
            profile[name] = raw == "yes"
        elif kind == "text":
            profile[name] = raw
        elif raw:
            try:
                profile[name] = int(raw)
            except ValueError:
                abort(400)
    return profile


@bp.post("/accommodations/<request_id>/decide")
@require_role(REGISTRAR)
def decide_accommodation(request_id: str) -> ResponseReturnValue:
    """``accommodations approve ID --profile --expires --reasons`` or ``accommodations refuse ID --reasons``."""
    back = url_for("staff_registry.accommodation_page", request_id=request_id[:40])
    ctx, who, reasons = state().ctx, registry_actor(), text_field("reasons", 5000)
    decision = request.form.get("decision")
    try:
        if decision == "approve":
            found = accommodations.approve(ctx, who, request_id[:40], expires_on=text_field("expires_on", 10),
                                           reasons=reasons, profile=_profile_from_form())
        elif decision == "refuse":
            found = accommodations.refuse(ctx, who, request_id[:40], reasons=reasons)
        else:
            abort(400)
    except RegistryError as exc:
        return failed("Decision refused", exc, back)
    notify(ctx, found.person_id, f"Your adjustment request was {found.status}",
           f"Your request {found.request_id} for {found.scheme_id} version {found.scheme_version} was {found.status}"
           + (f" until {found.expires_on}" if found.expires_on else "") + f": {found.decision_reasons}")
    flash(f"Request {request_id} {'approved' if decision == 'approve' else 'refused'}.", "ok")
    return redirect(back)
