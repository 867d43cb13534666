"""The server-side table helper at 100,000 rows: sort, filter and page in the database, a stable
order when values tie, only declared columns, and URLs that keep the other settings."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, Text, create_engine, insert, select

from item_bank_sync.web.tables import Col, TableSpec, links_for_pages, table_page

ROWS = 100_000
meta = MetaData()
things = Table("things", meta, Column("id", Integer, primary_key=True), Column("owner", Text, nullable=False),
               Column("kind", Text, nullable=False), Column("note", Text, nullable=False))
SPEC = TableSpec("things", (
    Col("id", "Id", things.c.id, filter="exact"),
    Col("owner", "Owner", things.c.owner, filter="text"),
    Col("kind", "Kind", things.c.kind, filter="exact"),
    Col("note", "Note", things.c.note, sortable=False, filter="text"),
), key=(things.c.id,), default_sort="id")
QUERY = select(things.c.id, things.c.owner, things.c.kind, things.c.note)


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('tables') / 'things.db'}")
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(things), [{"id": n, "owner": f"person-{n % 97}", "kind": ("a", "b", "c")[n % 3],
                                       "note": f"note {n} 100% _done_" if n % 1000 == 0 else f"note {n}"}
                                      for n in range(1, ROWS + 1)])
    yield engine
    engine.dispose()


def test_a_page_of_100000_rows_is_quick_and_counts_them_all(engine):
    started = time.perf_counter()
    page = table_page(engine, QUERY, SPEC, {"sort": "owner", "dir": "desc", "page": "1500"}, base_path="/t")
    assert time.perf_counter() - started < 2.0
    assert page.total == ROWS and page.pages == ROWS // 50 and page.page == 1500 and len(page.rows) == 50
    assert page.first_index == 1499 * 50 + 1


def test_ties_are_broken_by_the_key_so_pages_never_repeat_or_skip(engine):
    seen: list[int] = []
    for number in range(1, 41):  # 2,000 rows sorted by a column of 3 values
        page = table_page(engine, QUERY, SPEC, {"sort": "kind", "page": str(number), "f_owner": "person-1"})
        seen += [row.id for row in page.rows]
    total = table_page(engine, QUERY, SPEC, {"sort": "kind", "f_owner": "person-1"}).total
    assert len(seen) == len(set(seen)) == min(total, 2000)


def test_filters_are_parameters_and_like_wildcards_are_literal(engine):
    assert table_page(engine, QUERY, SPEC, {"f_note": "100% _done_"}).total == ROWS // 1000
    assert table_page(engine, QUERY, SPEC, {"f_note": "%"}).total == ROWS // 1000  # '%' matches only itself
    assert table_page(engine, QUERY, SPEC, {"f_owner": "' OR 1=1 --"}).total == 0
    assert table_page(engine, QUERY, SPEC, {"f_id": "not a number"}).total == 0
    assert table_page(engine, QUERY, SPEC, {"f_id": "42"}).rows[0].id == 42


def test_only_declared_sortable_columns_sort_and_odd_pages_are_clamped(engine):
    page = table_page(engine, QUERY, SPEC, {"sort": "note", "page": "999999999", "size": "7"})
    assert page.sort == "id" and page.page == page.pages and page.page_size == 50
    page = table_page(engine, QUERY, SPEC, {"sort": "owner; DROP TABLE things", "page": "-3"})
    assert page.sort == "id" and page.page == 1


def test_links_keep_filters_and_sorting(engine):
    page = table_page(engine, QUERY, SPEC, {"f_kind": "b", "sort": "owner", "dir": "desc", "page": "2"},
                      base_path="/t")
    assert page.url(page=3) == "/t?dir=desc&f_kind=b&page=3&sort=owner"
    assert page.sort_url("owner") == "/t?dir=asc&f_kind=b&page=1&sort=owner"
    assert page.aria_sort("owner") == "descending" and page.aria_sort("id") == "none"
    assert links_for_pages(page) == [1, 2, 3, 4, page.pages]
