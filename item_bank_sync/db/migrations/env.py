"""Alembic environment of the central body: always run on a connection the data layer opened.

``item_bank_sync.db.migrate`` opens the write transaction (``BEGIN IMMEDIATE`` on SQLite, an
advisory lock on PostgreSQL), passes the connection in ``config.attributes["connection"]`` and
calls Alembic's command API; the revisions then run inside that one transaction, so a crash
mid-upgrade leaves the previous revision intact on both engines. Offline (SQL script) mode is
not offered: a migration is always applied and recorded together.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("run migrations through `python -m item_bank_sync db migrate` (item_bank_sync.db.migrate)")

context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite",
                  transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()
