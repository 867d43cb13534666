"""The central body's data layer: SQLAlchemy 2 Core over SQLite (default) or PostgreSQL (production).

::

    engine.py    which database (``--db URL``, ``INVIGIL_CENTRAL_DB``, else the data directory's
                 SQLite files), engines and their connection settings
    metadata.py  the one MetaData; owner subpackages define their tables on it
                 (bank/schema.py, results/schema.py, trust/schema.py, db/audit.py)
    sql.py       write/read transactions, insert-or-ignore, upsert, named locks
    migrate.py   Alembic revisions (migrations/versions), legacy SQLite files adopted in place
    audit.py     the central audit chain (exam_core.audit's format) on the layer
    ops.py       copy to another database, backup, verify and restore (both engines)

Kiosk and console keep ``exam_core.store`` (one local SQLite writer each; docs/OPERATIONS.md).
"""

from __future__ import annotations

import os

from item_bank_sync.db.engine import DB_ENV, CentralDb, configured_url, open_engines
from item_bank_sync.db.migrate import is_current, upgrade

__all__ = ["DB_ENV", "CentralDb", "configured_url", "open_central"]


def open_central(data_dir: str | os.PathLike[str], url: str | None = None, *, migrate: bool = True) -> CentralDb:
    """The engines of a central body, upgraded to the newest schema unless ``migrate`` is False."""
    db = open_engines(data_dir, url)
    try:
        if migrate and not is_current(db):
            upgrade(db)
    except BaseException:
        db.dispose()
        raise
    return db
