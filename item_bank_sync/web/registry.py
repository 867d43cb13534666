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

import json
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import Table

from exam_core.timestamps import utc_now
from item_bank_sync.portal.accounts import notify, reset_second_factor
from item_bank_sync.registry import accommodations, actors, applications, evidence, persons
from item_bank_sync.registry.actors import READERS, Actor, require
from item_bank_sync.registry.errors import ConflictOfInterest, Forbidden, NotFound, RegistryError
from item_bank_sync.registry.schema import accommodation_requests, applications as applications_table
from item_bank_sync.web.access import ADMIN, REGISTRAR, acting_staff, may_do, require_role, state
from item_bank_sync.web.formfields import refused, shown_time, spec_select, text_field
from item_bank_sync.web.tables import Col, TablePage, TableSpec, table_page

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
    """The status asked for: ``status`` (the status links) or the table's ``f_status`` (its page
    links and filter), the first of the kind's statuses when neither; None for one not known."""
    status = request.args.get("status") or request.args.get("f_status") or STATUSES[kind][0]
    return status if status in STATUSES[kind] else None


def _names(rows: list[Any]) -> dict[str, str]:
    """Person id -> full name for the rows shown (each read on the audit chain, clause 7.3)."""
    who = registry_actor()
    return {pid: persons.show(state().ctx, who, pid).full_name for pid in sorted({r.person_id for r in rows})}


def person_name(person_id: Any) -> str:
    """A table cell: the name :func:`paged_with_names` read for the page shown (the id if none)."""
    return str(g.get("registry_names", {}).get(person_id, person_id))


def paged_with_names(table: Table, spec: TableSpec, base_path: str, what: str, *,
                     where: tuple[Any, ...] = (), args: dict[str, str] | None = None) -> TablePage:
    """One page of a registry table (sorted, filtered and paged in the database: the queues grow
    with every candidate) linked to ``base_path``, and the names of only the persons on it, each
    read audited.

    Why the registry's own check first: the page reads the table directly, so it asks
    :func:`~item_bank_sync.registry.actors.require` what the service's lists ask (registry readers
    list everything), failing closed for anyone else."""
    require(registry_actor(), f"list {what}", *READERS)
    query = spec_select(spec).select_from(table).where(*where)
    page = table_page(state().ctx.open_bank_db(), query, spec, {**request.args, **(args or {})}, base_path)
    g.registry_names = _names(page.rows)
    return page


def _eligibility(raw: Any) -> str:
    return str(json.loads(raw).get("result", "")) if raw else ""


def _requested(raw: Any) -> str:
    """What a request asks for, as ``name=value`` of each adjustment asked (zoom at 100 % is none)."""
    asked = json.loads(raw) if raw else {}
    return ", ".join(f"{k}={v}" for k, v in asked.items() if v and not (k == "zoom_percent" and v == 100))


_a, _r = applications_table.c, accommodation_requests.c
APPLICATIONS = TableSpec("applications", (
    Col("application_id", "Application", _a.application_id, filter="exact",
        link=lambda r: url_for("staff_registry.application_page", application_id=r.application_id)),
    Col("person_id", "Person", _a.person_id, sortable=False, show=person_name),
    Col("scheme_id", "Scheme", _a.scheme_id, filter="exact"),
    Col("scheme_version", "Version", _a.scheme_version),
    Col("submitted_at", "Submitted", _a.submitted_at, show=shown_time),
    Col("eligibility_json", "Automatic eligibility", _a.eligibility_json, sortable=False, show=_eligibility),
    Col("status", "Status", _a.status, filter="exact")), key=(_a.application_id,), default_sort="submitted_at")
ACCOMMODATIONS = TableSpec("accommodations", (
    Col("request_id", "Request", _r.request_id, filter="exact",
        link=lambda r: url_for("staff_registry.accommodation_page", request_id=r.request_id)),
    Col("person_id", "Person", _r.person_id, sortable=False, show=person_name),
    Col("scheme_id", "Scheme", _r.scheme_id, filter="exact"),
    Col("scheme_version", "Version", _r.scheme_version),
    Col("requested_json", "Asked for", _r.requested_json, sortable=False, show=_requested),
    Col("requested_at", "Requested", _r.requested_at, show=shown_time),
    Col("status", "Status", _r.status, filter="exact")), key=(_r.request_id,), default_sort="requested_at")


def failed(title: str, exc: RegistryError, back: str) -> ResponseReturnValue:
    """A service's refusal as a page: 404 for what does not exist, 403 for roles and conflicts."""
    if isinstance(exc, NotFound):
        abort(404)
    return refused(title, str(exc), 403 if isinstance(exc, Forbidden) else 422, back=back)


@bp.get("/applications")
@require_role(*VIEW)
def application_queue() -> ResponseReturnValue:
    """Applications by status (the registrar's queue: submitted, oldest first) with the automatic
    result, paged (``applications list --status``)."""
    status = _status_arg("applications")
    try:
        page = paged_with_names(applications_table, APPLICATIONS, url_for("staff_registry.application_queue"),
                                "applications", args={"f_status": status or ""})
    except RegistryError as exc:
        return failed("Applications", exc, url_for("home.home"))
    return render_template("staff/registry/applications.html", page=page, status=status,
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
    """Accommodation requests by status (requested, oldest first), paged (``accommodations list``)."""
    status = _status_arg("accommodations")
    try:
        page = paged_with_names(accommodation_requests, ACCOMMODATIONS, url_for("staff_registry.accommodation_queue"),
                                "accommodation requests", args={"f_status": status or ""})
    except RegistryError as exc:
        return failed("Accommodation requests", exc, url_for("home.home"))
    return render_template("staff/registry/accommodations.html", page=page, status=status,
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
