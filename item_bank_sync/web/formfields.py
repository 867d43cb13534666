"""Reading a page's form fields at the boundary, shared by the forms, centres, intake and review pages.

Why here: every action page takes the same kinds of input (an id, a bounded text, a whole number)
and must refuse anything else with a 400 before a service sees it, the way click's option types do
for the CLI. The actor of every action is the signed-in person, never a field of the form.
"""

from __future__ import annotations

import re
from typing import Any

from flask import abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import Engine, Select, select

from item_bank_sync.web.access import current_staff, state
from item_bank_sync.web.tables import TablePage, TableSpec, table_page
from item_bank_sync.web.timefmt import when

#: Ids of schemes, forms, centres, attempts (the wire model's identifier shape).
ID_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:\-]{0,127}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def text_field(name: str, max_len: int, *, required: bool = True) -> str:
    """A stripped text field of at most ``max_len`` characters; 400 when missing (if required) or too long."""
    value = request.form.get(name, "")
    if len(value) > max_len or (required and not value.strip()):
        abort(400)
    return value.strip()


def id_field(name: str) -> str:
    """A required identifier from the posted form; 400 if missing or malformed."""
    value = optional_id(name)
    if value is None:
        abort(400)
    return value


def optional_id(name: str, *, source: str = "form") -> str | None:
    """An identifier from the form (or the query string with ``source="args"``), None if empty; 400 if malformed."""
    values = request.form if source == "form" else request.args
    value = values.get(name, "").strip()
    if not value:
        return None
    if not ID_RE.match(value):
        abort(400)
    return value


def int_field(name: str, low: int, high: int) -> int:
    """A required whole number in ``[low, high]``; 400 otherwise."""
    value = optional_int(name, low, high)
    if value is None:
        abort(400)
    return value


def optional_int(name: str, low: int, high: int) -> int | None:
    """A whole number in ``[low, high]``, None if empty; 400 otherwise."""
    value = request.form.get(name, "").strip()
    if not value:
        return None
    if not re.fullmatch(r"\d{1,19}", value) or not low <= int(value) <= high:
        abort(400)
    return int(value)


def upload(name: str, limit: int) -> bytes | None:
    """The bytes of the file chosen in field ``name`` (None when none was): at most ``limit + 1``
    are read, so a larger file is never held whole and the caller can refuse it as too large."""
    chosen = request.files.get(name)
    if chosen is None or not chosen.filename:
        return None
    return chosen.stream.read(limit + 1)


def spec_select(spec: TableSpec) -> Select[Any]:
    """A SELECT of a table spec's columns, each under its key (what ``table_page`` expects)."""
    return select(*(c.expr.label(c.key) for c in spec.columns))


def paged(engine: Engine, spec: TableSpec, endpoint: str, query: Select[Any] | None = None) -> TablePage:
    """The page of ``query`` (default: the spec's columns) this request asks for, linked to ``endpoint``."""
    return table_page(engine, spec_select(spec) if query is None else query, spec, request.args, url_for(endpoint))


def actor() -> str:
    """Who acts: the signed-in person (``require_role`` ran first; this guard fails closed)."""
    member = current_staff()
    if member is None:
        abort(403)
    return member.name


def refused(title: str, message: str, status: int = 422, *, back: str | None = None) -> ResponseReturnValue:
    """The page that says an action was refused and why (the service's own words), with a link
    ``back`` to the page the action was taken on (the home page when not given)."""
    return render_template("staff/_refused.html", title=title, message=message, back=back), status


def shown_time(value: object) -> str:
    """A table cell's time in the body's zone, in words (the ``when`` filter outside a template)."""
    return when(value, state().zone_name)
