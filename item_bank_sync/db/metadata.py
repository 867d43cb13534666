"""The one SQLAlchemy ``MetaData`` every central table is defined on, and which store holds it.

Each table is defined once, by the subpackage that owns it (``bank/schema.py``,
``results/schema.py``, ``trust/schema.py``, ``db/audit.py``), with :func:`central_table`, which
records its *store*: ``bank`` (item bank, forms, centres, the audit chain) or ``results``
(envelopes, scores, decisions). On PostgreSQL, or a single SQLite file named by ``--db``, both
stores are one database; by default on SQLite each store is its own file (``bank.db``,
``results.db``) as before, see docs/OPERATIONS.md for why.

The tables here describe the schema at the newest revision; the Alembic revisions in
``db/migrations/versions`` build it step by step (a test compares the two on both engines).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, Table

BANK = "bank"
RESULTS = "results"
STORES = (BANK, RESULTS)

#: Every central table. Indexes carry the names the hand-numbered SQLite migrations gave them, so
#: a data directory made before the data layer compares equal to a new one.
metadata = MetaData()


def central_table(name: str, store: str, *columns: Any, **kwargs: Any) -> Table:
    """A table of the central body in ``store`` (``bank`` or ``results``), on the shared MetaData."""
    if store not in STORES:
        raise ValueError(f"unknown store {store!r}; use one of {', '.join(STORES)}")
    return Table(name, metadata, *columns, info={"store": store}, **kwargs)


def store_of(table: Table) -> str:
    """The store (``bank`` or ``results``) a central table lives in."""
    return str(table.info["store"])


def tables_in(store: str) -> list[Table]:
    """The tables of one store, parents before children (the order to insert rows in)."""
    return [t for t in metadata.sorted_tables if t.info.get("store") == store]
