"""One server-side table for every list page: sort, filter and page in the database, not the browser.

Why on the server: the audit chain, the envelope queue and the item bank reach 100,000 rows; a
page sends only what is shown. Only columns declared in a :class:`TableSpec` may be sorted or
filtered (the query string names a column key, never SQL), and every order ends with the spec's
stable key, so paging never skips or repeats a row when values tie.

Use::

    SPEC = TableSpec("audit", (Col("seq", "Number", audit_log.c.seq, filter="exact"), ...), key=(audit_log.c.seq,))
    page = table_page(engine, select(audit_log), SPEC, request.args)
    {% from "staff/_table.html" import render_table %}{{ render_table(page, "Audit entries") }}
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Engine, Select, func, select

from item_bank_sync.db.sql import read

PAGE_SIZES = (25, 50, 100)
MAX_FILTER_CHARS = 200


@dataclass(frozen=True)
class Col:
    """A column of a table page: ``key`` in URLs, ``label`` on screen, ``expr`` in SQL.

    ``filter``: None (no filter), "text" (contains, case-insensitive) or "exact". ``choices``: an
    exact filter drawn as a select of these values (and "any"). ``show`` turns the row's value into
    the text shown (the ``when`` filter for times, ...); ``link`` gives a URL for a cell.
    """

    key: str
    label: str
    expr: Any
    sortable: bool = True
    filter: str | None = None
    show: Callable[[Any], str] | None = None
    link: Callable[[Any], str | None] | None = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[Col, ...]
    key: tuple[Any, ...]
    default_sort: str = ""
    default_descending: bool = False
    page_size: int = 50

    def col(self, key: str) -> Col | None:
        return next((c for c in self.columns if c.key == key), None)


@dataclass
class TablePage:
    """One page of rows, the total, and what the macro needs to draw the links."""

    spec: TableSpec
    rows: list[Any]
    total: int
    page: int
    pages: int
    page_size: int
    sort: str
    descending: bool
    filters: dict[str, str]
    base_path: str = ""
    _args: dict[str, str] = field(default_factory=dict)

    def url(self, **changes: Any) -> str:
        """This table's URL with ``changes`` (e.g. ``page=3``, ``sort="actor"``) and the rest kept."""
        args = {**self._args, **{k: str(v) for k, v in changes.items() if v is not None}}
        args = {k: v for k, v in args.items() if v != ""}
        return f"{self.base_path}?{urlencode(sorted(args.items()))}" if args else self.base_path

    def sort_url(self, key: str) -> str:
        descending = not self.descending if key == self.sort else False
        return self.url(sort=key, dir="desc" if descending else "asc", page=1)

    def aria_sort(self, key: str) -> str:
        if key != self.sort:
            return "none"
        return "descending" if self.descending else "ascending"

    def cell(self, col: Col, row: Any) -> str:
        value = row._mapping[col.key]
        return col.show(value) if col.show else ("" if value is None else str(value))

    def cell_link(self, col: Col, row: Any) -> str | None:
        return col.link(row) if col.link else None

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.page_size + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.page_size)


def _int_arg(args: Mapping[str, str], name: str, default: int) -> int:
    try:
        return max(1, int(str(args.get(name, default))[:9]))
    except ValueError:
        return default


def table_page(engine: Engine, query: Select[Any], spec: TableSpec, args: Mapping[str, str],
               base_path: str = "") -> TablePage:
    """The page of ``query`` that ``args`` (the request's query string) asks for.

    ``query`` must select each column under its spec key (``.label(key)`` where needed). Unknown
    sort keys fall back to the default; filter values are bound parameters, cut to 200 characters.
    """
    sort_col = spec.col(str(args.get("sort", ""))) or spec.col(spec.default_sort) or spec.columns[0]
    if not sort_col.sortable:
        sort_col = spec.col(spec.default_sort) or spec.columns[0]
    descending = args.get("dir", "desc" if spec.default_descending else "asc") == "desc"
    size = _int_arg(args, "size", spec.page_size)
    size = size if size in PAGE_SIZES or size == spec.page_size else spec.page_size
    filters = {c.key: str(args.get(f"f_{c.key}", ""))[:MAX_FILTER_CHARS].strip() for c in spec.columns if c.filter}
    filtered = _apply_filters(query, spec, filters)
    with read(engine) as tx:
        total = int(tx.execute(select(func.count()).select_from(filtered.order_by(None).subquery())).scalar() or 0)
        pages = max(1, math.ceil(total / size))
        page = min(_int_arg(args, "page", 1), pages)
        order = [sort_col.expr.desc() if descending else sort_col.expr.asc()]
        order += [k.desc() if descending else k.asc() for k in spec.key]
        rows = list(tx.execute(filtered.order_by(*order).limit(size).offset((page - 1) * size)))
    kept = {f"f_{k}": v for k, v in filters.items() if v}
    kept.update(sort=sort_col.key, dir="desc" if descending else "asc")
    if size != spec.page_size:
        kept["size"] = str(size)
    return TablePage(spec, rows, total, page, pages, size, sort_col.key, descending, filters, base_path, kept)


def _apply_filters(query: Select[Any], spec: TableSpec, filters: dict[str, str]) -> Select[Any]:
    for col in spec.columns:
        value = filters.get(col.key, "")
        if not value or col.filter is None:
            continue
        expr: ColumnElement[Any] = col.expr
        if col.filter == "text":
            escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(func.lower(expr).like(f"%{escaped.lower()}%", escape="\\"))
        else:
            query = query.where(expr == _typed(col, value))
    return query


def _typed(col: Col, value: str) -> Any:
    """An exact filter's value as the column's Python type (an integer column compares to an int)."""
    try:
        python_type = col.expr.type.python_type
    except (AttributeError, NotImplementedError):
        return value
    if python_type is int:
        try:
            return int(value)
        except ValueError:
            return -1  # matches nothing, as a wrong number should
    return value


def links_for_pages(page: TablePage, around: int = 2) -> Sequence[int]:
    """The page numbers the pagination nav shows: first, last, and a few around the current one."""
    shown = {1, page.pages, *range(max(1, page.page - around), min(page.pages, page.page + around) + 1)}
    return sorted(shown)
