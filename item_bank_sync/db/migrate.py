"""Schema changes of the central body as Alembic revisions, applied on open and by ``db migrate``.

Two branches, one per store (``bank`` and ``results``, see :mod:`item_bank_sync.db.metadata`),
with revision ids ``bank_NNNN`` and ``results_NNNN``. On SQLite's two files each file records its
own branch's head in its ``alembic_version`` table; on PostgreSQL (or one SQLite file) the one
``alembic_version`` table holds both heads.

Data directories made before the data layer. Their ``bank.db`` and ``results.db`` carry their
hand-numbered schema version in ``PRAGMA user_version`` (bank 1-4, results 1-6) and no
``alembic_version``; revisions ``bank_0001``-``bank_0004`` and ``results_0001``-``results_0006``
are exactly those migrations, so such a file is *stamped* at its version and upgraded from there,
in place, without copying a row.

Every upgrade runs in one write transaction per store (``BEGIN IMMEDIATE`` on SQLite; an advisory
lock on PostgreSQL, so worker processes starting together migrate once): a crash mid-upgrade
leaves the previous revision. A database at a revision this code does not know (written by newer
code) is refused rather than misread.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, inspect

from exam_core.errors import InvigilError
from item_bank_sync.db.engine import CentralDb
from item_bank_sync.db.metadata import BANK, RESULTS
from item_bank_sync.db.sql import lock, write

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: The last hand-numbered SQLite migration of each store before the data layer.
LEGACY_VERSIONS = {BANK: 4, RESULTS: 6}
VERSION_TABLE = "alembic_version"


class SchemaTooNewError(InvigilError):
    """The database was migrated by newer code than this one; reading it could misinterpret rows."""


class MigrationError(InvigilError):
    """A migration could not be applied; the database stays at its previous revision."""


@functools.cache
def _script() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS_DIR))


def head_of(store: str) -> str:
    """The newest revision of a store's branch."""
    revision = _script().get_revision(f"{store}@head")
    if revision is None:
        raise MigrationError(f"no revisions of the {store} store in {MIGRATIONS_DIR}")
    return revision.revision


def heads() -> dict[str, str]:
    """store -> newest revision, for both stores."""
    return {store: head_of(store) for store in (BANK, RESULTS)}


def revision_of(conn: Connection, store: str) -> str | None:
    """The revision a store is at in this database (None before its first revision)."""
    found = [r for r in MigrationContext.configure(conn).get_current_heads() if r.startswith(f"{store}_")]
    return found[0] if found else None


def is_current(db: CentralDb) -> bool:
    """Whether every store is at its head already (a cheap check done on every open)."""
    for store, engine in db.stores():
        with engine.connect() as conn:
            if revision_of(conn, store) != head_of(store):
                return False
    return True


def upgrade(db: CentralDb) -> dict[str, dict[str, str | None]]:
    """Bring every store to its head; returns ``{store: {"from": rev, "to": rev}}``."""
    done: dict[str, dict[str, str | None]] = {}
    for store, engine in db.stores():
        with write(engine) as conn:
            lock(conn, "schema-migration")
            _adopt_legacy(conn, store)
            _refuse_unknown(conn)
            before = revision_of(conn, store)
            if before != head_of(store):
                _run(conn, command.upgrade, f"{store}@head")
            done[store] = {"from": before, "to": head_of(store)}
    return done


def upgrade_to(db: CentralDb, revisions: dict[str, str]) -> None:
    """Bring each store exactly to the revision given (restoring a backup made at that revision)."""
    for store, engine in db.stores():
        with write(engine) as conn:
            lock(conn, "schema-migration")
            _refuse_unknown(conn)
            target = revisions[store]
            if _script().get_revision(target) is None or not target.startswith(f"{store}_"):
                raise MigrationError(f"revision {target!r} is not a revision of the {store} store")
            if revision_of(conn, store) != target:
                _run(conn, command.upgrade, target)


def _adopt_legacy(conn: Connection, store: str) -> None:
    """Stamp a pre-data-layer SQLite file at the revision its ``PRAGMA user_version`` names."""
    if conn.dialect.name != "sqlite" or inspect(conn).has_table(VERSION_TABLE):
        return
    version = int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)
    if version == 0:
        return
    if version > LEGACY_VERSIONS[store]:
        raise SchemaTooNewError(f"the {store} database has schema version {version}, newer than this code knows "
                                f"({LEGACY_VERSIONS[store]}); upgrade Invigil before opening it")
    _run(conn, command.stamp, f"{store}_{version:04d}")


def _refuse_unknown(conn: Connection) -> None:
    for revision in MigrationContext.configure(conn).get_current_heads():
        try:
            known = _script().get_revision(revision)
        except CommandError:
            known = None
        if known is None:
            raise SchemaTooNewError(f"the database is at schema revision {revision!r}, which this code does not "
                                    "know (written by newer code); upgrade Invigil before opening it")


def _run(conn: Connection, action: object, target: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    try:
        action(config, target)  # type: ignore[operator]
    except CommandError as exc:
        raise MigrationError(f"schema migration to {target} failed: {exc}") from exc
