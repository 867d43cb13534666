"""The central data layer on the engine of this run (SQLite files, or PostgreSQL with
INVIGIL_TEST_CENTRAL_DB=postgresql): migrations equal the table definitions, a data directory
made before the layer upgrades in place without loss, a newer schema is refused, and one audit
chain stays one chain under concurrent writers."""

from __future__ import annotations

import json
import sqlite3
import tarfile
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner

import item_bank_sync.bank.schema
import item_bank_sync.cases.schema
import item_bank_sync.certificates.schema
import item_bank_sync.mail.schema
import item_bank_sync.portal.schema
import item_bank_sync.public.schema
import item_bank_sync.recertification.schema
import item_bank_sync.registry.schema
import item_bank_sync.release.schema
import item_bank_sync.results.schema
import item_bank_sync.sittings.schema
import item_bank_sync.staff.schema
import item_bank_sync.trust.schema  # noqa: F401
from exam_core import keys
from item_bank_sync.cli.main import main
from item_bank_sync.context import CentralContext
from item_bank_sync.db import configured_url, open_central
from item_bank_sync.db.audit import CentralAudit
from item_bank_sync.db.engine import DatabaseUrlError, parse_url
from item_bank_sync.db.metadata import metadata, store_of
from item_bank_sync.db.migrate import SchemaTooNewError, head_of, heads
from tests.support.central_cli import Central
from tests.support.central_db import central_db, execute, rows, value

#: bank.db and results.db (schema versions 4 and 6) and the keys of a central body made by the code
#: before the data layer (throw-away test keys) (its tests' world: three accepted attempts, one quarantined
#: envelope, a marked task, a decision, and an audit entry with its checkpoint).
LEGACY = Path(__file__).with_name("legacy-data-dir.tar.gz")


def _legacy_dir(tmp_path: Path) -> Path:
    target = tmp_path / "legacy"
    with tarfile.open(LEGACY) as tar:
        tar.extractall(target, filter="data")
    return target


def _sqlite_rows(path: Path, table: str) -> list[tuple]:
    """The rows of the columns the legacy file had (later revisions may add columns)."""
    with tarfile.open(LEGACY) as tar, tempfile.TemporaryDirectory() as tmp:
        tar.extract(path.name, tmp, filter="data")
        with sqlite3.connect(Path(tmp) / path.name) as legacy:
            columns = [r[1] for r in legacy.execute(f"PRAGMA table_info({table})")]
    with sqlite3.connect(path) as conn:
        return sorted(conn.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall(), key=repr)


def test_each_store_migrated_equals_its_table_definitions(tmp_path: Path) -> None:
    db = central_db(tmp_path / "central")
    for store, engine in db.stores():
        def in_store(obj: Any, _name: str, kind: str, *_: object, store: str = store) -> bool:
            return kind != "table" or store_of(obj) == store

        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_object": in_store})
            assert compare_metadata(context, metadata) == [], store


def test_a_data_dir_from_before_the_layer_upgrades_in_place_without_loss(tmp_path: Path) -> None:
    data = _legacy_dir(tmp_path)
    before = {(f, t): _sqlite_rows(data / f, t) for f, t in [
        ("bank.db", "items"), ("bank.db", "audit_log"), ("bank.db", "audit_log_checkpoints"), ("bank.db", "centres"),
        ("results.db", "envelopes"), ("results.db", "attempts"), ("results.db", "marks"),
        ("results.db", "decisions"), ("results.db", "quarantine"), ("results.db", "attempt_roles")]}
    assert len(before[("results.db", "attempts")]) == 3 and before[("results.db", "decisions")]
    db = open_central(data, None)                      # the files themselves, whatever this run's engine
    for store, engine in db.stores():
        assert value(engine, "SELECT version_num FROM alembic_version") == head_of(store)
    db.dispose()
    assert {key: _sqlite_rows(data / key[0], key[1]) for key in before} == before
    signing_key = keys.load_private_key(data / "keys" / "central-signing.key")
    assert isinstance(signing_key, Ed25519PrivateKey)
    central_key = signing_key.public_key()
    report = CentralAudit(open_central(data, None).bank).verify(central_key)
    assert report.entries == len(before[("bank.db", "audit_log")]) and report.signatures_checked


def test_the_upgraded_legacy_body_keeps_working_through_the_cli(tmp_path: Path) -> None:
    data = _legacy_dir(tmp_path)
    listed = json.loads(_cli(data, "intake", "list", "--json"))
    assert sorted(r["status"] for r in listed) == ["accepted"] * 3 + ["quarantined"]
    exported = _cli(data, "results", "export")
    assert "att-0" in exported and ",pass," in exported


def _cli(data: Path, *args: str) -> str:
    """The CLI on the legacy directory's own SQLite files (not this run's database)."""
    result = CliRunner().invoke(main, ["--data", str(data), *args], env={"INVIGIL_CENTRAL_DB": ""},
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_database_from_newer_code_is_refused(tmp_path: Path) -> None:
    db = central_db(tmp_path / "central")
    execute(db.results, "UPDATE alembic_version SET version_num = 'results_9999' WHERE version_num LIKE 'results_%'")
    with pytest.raises(SchemaTooNewError, match="results_9999"):
        open_central(tmp_path / "central", configured_url())


def test_a_legacy_file_newer_than_the_last_hand_numbered_migration_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with sqlite3.connect(tmp_path / "d" / "results.db") as conn:
        conn.execute("PRAGMA user_version = 7")
    with pytest.raises(SchemaTooNewError, match="schema version 7"):
        open_central(tmp_path / "d", None)


def test_urls_other_than_postgresql_psycopg_and_sqlite_files_are_refused() -> None:
    assert parse_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    for url in ("mysql://u@h/db", "sqlite://", "sqlite:///:memory:", "postgresql+psycopg2://u@h/db", "::"):
        with pytest.raises(DatabaseUrlError):
            parse_url(url)


def test_one_chain_under_concurrent_appends(tmp_path: Path) -> None:
    """Threads of one process, each with its own connections (H14b tests whole processes)."""
    central = Central(tmp_path / "central")
    central.json("init", "--body-id", "b", "--name", "B")
    context = CentralContext(data_dir=tmp_path / "central")
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            log = context.audit_log()
            for n in range(15):
                log.append(f"worker-{worker}", "test.append", {"n": n})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = context.audit_log().verify(context.load_signing_key().public_key())
    assert report.entries == 1 + 6 * 15 and report.checkpoints == report.entries
    assert rows(context.open_bank_db(), "SELECT COUNT(DISTINCT seq) FROM audit_log") == [(91,)]
    context.close()


def test_heads_name_one_revision_per_store() -> None:
    assert set(heads()) == {"bank", "results"} and all(v.startswith(k + "_") for k, v in heads().items())
