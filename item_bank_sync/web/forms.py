"""Schemes, forms and publishing pages: blueprint coverage, form build with its overlap/balance
report, publishing to a centre with a window and a release code, and the package history.

Each action calls what its CLI command calls (``schemes add`` -> :func:`add_scheme`, ``forms build``
-> :func:`build_forms`, ``publish`` -> :func:`publish`) with the signed-in person as actor, so the
audit entry is the same from either face. A release code is shown once, on the answer to the
publish request, and stored nowhere (as on the command line).
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue

from exam_core.errors import InvigilError
from item_bank_sync.bank.schema import packages
from item_bank_sync.forms.actions import add_scheme, build_forms, package_history, scheme_coverage
from item_bank_sync.forms.assembly import BlueprintUnsatisfiable
from item_bank_sync.forms.publish import parse_when, publish
from item_bank_sync.forms.schemes import SchemeStore
from item_bank_sync.forms.store import FormStore
from item_bank_sync.trust.centres import list_centres
from item_bank_sync.web.access import ADMIN, PSYCHOMETRICIAN, may_do, require_role, state
from item_bank_sync.web.formfields import (ID_RE, actor, id_field, int_field, optional_id, optional_int, refused,
                                           shown_time, paged, text_field, upload)
from item_bank_sync.web.tables import Col, TableSpec

bp = Blueprint("forms", __name__, url_prefix="/forms")

VIEW = (ADMIN, PSYCHOMETRICIAN)
#: A scheme file is a few kilobytes of YAML; anything much larger is not one.
SCHEME_MAX_BYTES = 256 * 1024
_P = packages.c
PACKAGES = TableSpec("packages", (
    Col("created_at", "Published", _P.created_at, show=shown_time),
    Col("package_id", "Package", _P.package_id, filter="text"),
    Col("form_id", "Form", _P.form_id, filter="text", link=lambda r: url_for("forms.form_page", form_id=r.form_id)),
    Col("form_version", "Version", _P.form_version),
    Col("centre_id", "Centre", _P.centre_id, filter="exact",
        link=lambda r: url_for("centres.centre_page", centre_id=r.centre_id)),
    Col("opens", "Opens", _P.opens, show=shown_time), Col("closes", "Closes", _P.closes, show=shown_time),
    Col("release_code_required", "Release code", _P.release_code_required, show=lambda v: "yes" if v else "no")),
    key=(_P.package_id,), default_sort="created_at", default_descending=True)


@bp.get("/schemes")
@require_role(*VIEW)
def schemes_page() -> ResponseReturnValue:
    """``schemes list`` and the form to add a scheme from its YAML file."""
    rows = SchemeStore(state().ctx.open_bank_db()).list()
    return render_template("staff/forms/schemes.html", schemes=rows, may_add=may_do("schemes.add"))


@bp.post("/schemes")
@require_role(PSYCHOMETRICIAN)
def add_scheme_action() -> ResponseReturnValue:
    """``schemes add FILE``."""
    data = upload("scheme", SCHEME_MAX_BYTES)
    if data is None:
        return refused("Scheme not added", "Choose the scheme's YAML file.", back=url_for("forms.schemes_page"))
    if len(data) > SCHEME_MAX_BYTES:
        return refused("Scheme not added", f"The file is larger than {SCHEME_MAX_BYTES // 1024} KiB.", 413,
                       back=url_for("forms.schemes_page"))
    try:
        added = add_scheme(state().ctx, data, "the uploaded scheme", actor())
    except (InvigilError, UnicodeDecodeError) as exc:
        return refused("Scheme not added", str(exc), back=url_for("forms.schemes_page"))
    return render_template("staff/forms/scheme_added.html", scheme=added.scheme, outcome=added.outcome)


@bp.get("/schemes/<scheme_id>")
@require_role(*VIEW)
def scheme_page(scheme_id: str) -> ResponseReturnValue:
    """``schemes show``: the blueprint with approved items per area, and the build form."""
    if not ID_RE.match(scheme_id):
        abort(404)
    version = request.args.get("version", type=int)
    try:
        data = scheme_coverage(state().ctx, scheme_id, version)
    except InvigilError:
        abort(404)
    return render_template("staff/forms/scheme.html", scheme=data, may_build=may_do("forms.build"))


@bp.get("/")
@require_role(*VIEW)
def forms_page() -> ResponseReturnValue:
    """``forms list``."""
    scheme_id = optional_id("scheme", source="args")
    rows = FormStore(state().ctx.open_bank_db()).list(scheme_id)
    return render_template("staff/forms/forms.html", forms=rows, scheme_id=scheme_id)


@bp.post("/build")
@require_role(PSYCHOMETRICIAN)
def build_action() -> ResponseReturnValue:
    """``forms build --scheme --count --seed``: the forms and their overlap/balance report."""
    scheme_id = id_field("scheme")
    version = optional_int("scheme_version", 1, 10**6)
    count = int_field("count", 1, 1000)
    seed = int_field("seed", 0, 2**63 - 1)
    try:
        built = build_forms(state().ctx, scheme_id, version, count, seed, actor())
    except BlueprintUnsatisfiable as exc:
        return render_template("staff/forms/build_refused.html", shortfalls=exc.shortfalls), 422
    except InvigilError as exc:
        return refused("Forms not built", str(exc), back=url_for("forms.scheme_page", scheme_id=scheme_id))
    return render_template("staff/forms/built.html", built=built, report=built.report)


@bp.get("/<form_id>")
@require_role(*VIEW)
def form_page(form_id: str) -> ResponseReturnValue:
    """``forms show``: items in delivery order, packages of the form, and the publish form."""
    if not ID_RE.match(form_id):
        abort(404)
    ctx = state().ctx
    try:
        form = FormStore(ctx.open_bank_db()).get(form_id, request.args.get("version", type=int))
    except InvigilError:
        abort(404)
    centres = [c for c in list_centres(ctx.open_bank_db()) if not c["revoked_at"]]
    return render_template("staff/forms/form.html", form=form, centres=centres,
                           packages=package_history(ctx, form_id=form_id)[:200], may_publish=may_do("publish"))


@bp.post("/<form_id>/publish")
@require_role(ADMIN)
def publish_action(form_id: str) -> ResponseReturnValue:
    """``publish --form --centre --opens --closes [--release-code]``; the code is shown once."""
    if not ID_RE.match(form_id):
        abort(404)
    centre_id = id_field("centre")
    version = optional_int("form_version", 1, 10**6)
    try:
        opens = parse_when(text_field("opens", 64), "opens")
        closes = parse_when(text_field("closes", 64), "closes")
        result = publish(state().ctx, form_id=form_id, centre_id=centre_id, opens=opens, closes=closes,
                         release_code=request.form.get("release_code") == "yes", out_dir=None, by=actor(),
                         form_version=version)
    except InvigilError as exc:
        return refused("Not published", str(exc), back=url_for("forms.form_page", form_id=form_id))
    return render_template("staff/forms/published.html", result=result)


@bp.get("/packages")
@require_role(*VIEW)
def packages_page() -> ResponseReturnValue:
    """Every package published (newest first), sorted, filtered and paged on the server."""
    page = paged(state().ctx.open_bank_db(), PACKAGES, "forms.packages_page")
    return render_template("staff/forms/packages.html", page=page)
