"""Item bank pages: the listing, one item with its candidate preview, versions diffed, review,
approval and retirement.

Each action calls :meth:`ItemBank.transition`, the method ``items review|approve|retire --by NAME``
calls, with the signed-in person as the actor: the audit entry (``item.review`` ...) is the same
whichever face was used, and the bank's own four-eyes rule refuses a self-approval on the POST
even when the page (which says so before the button) is bypassed.

Every person signed in may read items (a marker checks what a question asked); the answer key and
scorer rubric only the roles of :data:`~item_bank_sync.web.items.queries.KEY_ROLES` see.

An item family (QTI template processing) shows the bank's preview instance with its seed; "Draw
another instance" (``?draw=N``, read-only, nothing stored) shows the family drawn with the seed
``("preview", item id, N)`` and the key computed for it, so reviewers see its variety.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import (Blueprint, abort, flash, make_response, redirect, render_template, request, send_from_directory,
                   url_for)
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from exam_core.model import IDENTIFIER_RE, Item
from exam_core.presentation import CANDIDATE_FILES, CANDIDATE_STATIC, clean
from item_bank_sync.bank.store import TRANSITIONS, BankError, ItemBank
from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.items.qti.families import preview_instance
from item_bank_sync.staff.accounts import StaffMember
from item_bank_sync.web.access import APPROVER, REVIEWER, current_staff, may_do, require_role, require_signed_in, state
from item_bank_sync.web.formfields import actor, refused, text_field
from item_bank_sync.web.items.preview import PREVIEW_CSP, PREVIEW_FILES, candidate_view
from item_bank_sync.web.items.queries import (four_eyes_refusal, listing_query, may_see_key, side_by_side,
                                              staff_view, version_text)
from item_bank_sync.web.tables import Col, TableSpec, table_page
from item_bank_sync.web.timefmt import when

bp = Blueprint("staff_items", __name__, url_prefix="/items", static_folder="static", static_url_path="/assets")

#: The role each page action needs (the CLI command of the same name needs the same one).
ACTION_ROLES = {"review": (REVIEWER,), "approve": (APPROVER,), "retire": (APPROVER,)}
MAX_NOTE = 1000
#: Highest preview draw number a page asks for (any other value shows the bank's preview, draw 0).
MAX_DRAW = 1_000_000


def _item_link(row: Any) -> str:
    return url_for("staff_items.show", item_id=row.item)


def _zone_when(value: Any) -> str:
    return when(value, state().zone_name) if value else ""


SPEC = TableSpec("items", (
    Col("item", "Item", None, filter="text", link=_item_link),
    Col("version", "Version", None),
    Col("status", "Status", None, filter="exact"),
    Col("title", "Title", None, filter="text"),
    Col("area", "Area", None, filter="exact"),
    Col("interaction", "Interaction", None, filter="text"),
    Col("author", "Author", None, filter="exact"),
    Col("created", "Imported", None, show=_zone_when),
), key=(), default_sort="item")


def _spec() -> TableSpec:
    """The table spec bound to the listing query's columns (built per request: SQL objects are cheap)."""
    query = listing_query()
    by_key = {c.key: c for c in query.selected_columns}
    columns = tuple(Col(c.key, c.label, by_key[c.key], c.sortable, c.filter, c.show, c.link) for c in SPEC.columns)
    return TableSpec(SPEC.name, columns, key=(by_key["item"], by_key["version"]), default_sort="item")


def _member() -> StaffMember:
    """The signed-in person (the view's guard ran; this fails closed all the same)."""
    member = current_staff()
    if member is None:
        abort(403)
    return member


def _bank() -> ItemBank:
    return state().ctx.item_bank()


def _checked_id(item_id: str) -> str:
    if not IDENTIFIER_RE.match(item_id):
        abort(404)
    return item_id


@bp.get("/")
@require_signed_in
def listing() -> ResponseReturnValue:
    """Latest version of every item: filter, sort and page in the database."""
    page = table_page(state().ctx.open_bank_db(), listing_query(), _spec(), request.args,
                      base_path=url_for("staff_items.listing"))
    return render_template("staff/items/list.html", page=page, may_import=may_do("import"))


@bp.get("/<item_id>")
@require_signed_in
def show(item_id: str) -> ResponseReturnValue:
    """One version (the latest unless ``?version=N``): preview, key if allowed, history, actions."""
    version = request.args.get("version", type=int)
    member = _member()
    try:
        data = staff_view(_bank(), _checked_id(item_id), version, member.roles)
    except BankError:
        abort(404)
    actions = {name: may_do(f"items.{name}") for name in ACTION_ROLES}
    allowed_from = {name: TRANSITIONS[name][0] for name in ACTION_ROLES}
    family = _family_draw(data)
    return render_template("staff/items/show.html", data=data, actions=actions, allowed_from=allowed_from,
                           four_eyes=four_eyes_refusal(data, member.name), rubric=_rubric(data), family=family,
                           prompts=[clean(i.get("prompt_html", "")) for i in data["item"]["interactions"]])


def _draw_number() -> int:
    draw = request.args.get("draw", 0, type=int) or 0
    return draw if 0 <= draw <= MAX_DRAW else 0


def _instance(bank: ItemBank, item_id: str, version: int, draw: int) -> tuple[Item, Any, str]:
    """(item, key, seed) of preview draw ``draw`` (the stored item and key when not a family)."""
    item, key = bank.item(item_id, version), bank.answer_key(item_id, version)
    return preview_instance(item, key, draw, bank.media.get)


def _family_draw(data: dict[str, Any]) -> dict[str, Any] | None:
    """For a family: which draw is shown and its seed; ``data`` then holds that instance."""
    if _bank().answer_key(data["item_id"], data["version"]).family is None:
        return None
    draw = _draw_number()
    try:
        item, key, seed = _instance(_bank(), data["item_id"], data["version"], draw)
    except ItemRejected as exc:
        return {"draw": draw, "error": str(exc)}
    data["item"] = item.to_dict()
    if data["key"] is not None:
        data["key"] = key.to_dict()
    return {"draw": draw, "seed": seed, "next": draw + 1 if draw < MAX_DRAW else 0}


def _rubric(data: dict[str, Any]) -> Markup:
    """The scorer rubric, sanitised again for display (as the candidate page sanitises the item)."""
    key = data.get("key") or {}
    return Markup(clean(key.get("rubric_html", "")))  # noqa: S704 - clean() keeps only the model's tags


@bp.post("/<item_id>/v/<int:version>/<action>")
@require_role(REVIEWER, APPROVER)
def transition(item_id: str, version: int, action: str) -> ResponseReturnValue:
    """``items review|approve|retire ITEM --version V --note NOTE --by <signed-in person>``."""
    if action not in ACTION_ROLES:
        abort(404)
    verdict = may_do(f"items.{action}")
    if not verdict:
        return refused("Not allowed", verdict.reason, 403)
    note = text_field("note", MAX_NOTE, required=False)
    try:
        result = _bank().transition(action, _checked_id(item_id), actor(), note, version)
    except BankError as exc:
        return refused(f"{action.capitalize()} refused", str(exc))
    flash(f"{item_id} version {result['version']}: {result['from']} to {result['status']}.", "ok")
    return redirect(url_for("staff_items.show", item_id=item_id, version=version))


@bp.get("/<item_id>/v/<int:version>/preview")
@require_signed_in
def preview(item_id: str, version: int) -> ResponseReturnValue:
    """The candidate's page for this version, for the sandboxed frame of the item page."""
    bank = _bank()
    try:
        item = _instance(bank, _checked_id(item_id), version, _draw_number())[0]
    except BankError:
        abort(404)
    except ItemRejected:  # the page says why this draw failed
        item = bank.item(item_id, version)
    response = make_response(render_template("staff/items/preview.html", view=candidate_view(item, bank.media)))
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.get("/preview-assets/<name>")
def preview_asset(name: str) -> ResponseReturnValue:
    """The candidate page's scripts and stylesheet for the preview frame: public code, no session.

    The frame has an opaque origin, so its requests carry no cookie and count as cross-origin;
    these few fixed files answer them (CORS for the module scripts, CORP for the stylesheet).
    """
    if name not in PREVIEW_FILES:
        abort(404)
    folder = CANDIDATE_STATIC if name in CANDIDATE_FILES else Path(__file__).parent / "static"
    response = send_from_directory(folder, name, max_age=0)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@bp.get("/<item_id>/diff")
@require_signed_in
def diff(item_id: str) -> ResponseReturnValue:
    """Two versions side by side (``?a=1&b=2``; default: the two latest), key lines only if allowed."""
    member = _member()
    bank = _bank()
    try:
        latest = staff_view(bank, _checked_id(item_id), None, member.roles)
        versions = latest["versions"]
        b = request.args.get("b", type=int) or versions[-1]
        a = request.args.get("a", type=int) or (versions[-2] if len(versions) > 1 else versions[-1])
        left, right = (staff_view(bank, item_id, v, member.roles) for v in (a, b))
    except BankError:
        abort(404)
    return render_template("staff/items/diff.html", item_id=item_id, left=left, right=right, versions=versions,
                           rows=side_by_side(version_text(left), version_text(right)),
                           with_key=may_see_key(member.roles))
