"""``db copy``, ``backup``, ``backup verify`` and ``restore`` through the real CLI, on this run's engine
and between engines: counts and digests of every table match, the audit chain verifies on the
target, and a damaged backup is refused before anything is written."""

from __future__ import annotations

import gzip
import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import item_bank_sync.bank.schema
import item_bank_sync.db.audit
import item_bank_sync.results.schema
import item_bank_sync.trust.schema  # noqa: F401
from exam_core.sync_wire import EnvelopeMeta
from item_bank_sync.cli.main import main
from item_bank_sync.context import CentralContext
from item_bank_sync.db.ops import check_database
from item_bank_sync.results.intake import Intake
from item_bank_sync.db import configured_url, open_central
from tests.support.central_db import PostgresDatabases, central_db, value
from tests.support.central_world import CENTRE_ID, GOOD, World, build_world

#: A data directory written before the data layer (also read by test_layer.py).
LEGACY = Path(__file__).with_name("legacy-data-dir.tar.gz")


def _cli(data: Path, *args: str, code: int = 0, db: str | None = None) -> Any:
    """The CLI with ``--db`` (None: this run's database; "" the data directory's SQLite files)."""
    env = {"INVIGIL_CENTRAL_DB": ""} if db == "" else {}
    prefix = ["--db", db] if db else []
    result = CliRunner().invoke(main, ["--data", str(data), *prefix, *args, "--json"], env=env,
                                catch_exceptions=False)
    assert result.exit_code == code, (result.exit_code, result.output)
    return json.loads(result.stdout)


def _busy_world(tmp_path: Path) -> World:
    """A body with rows in every kind of table: items, forms, centres, envelopes, attempts, marks'
    tasks, a quarantined envelope, audit entries with checkpoints."""
    world = build_world(tmp_path / "central")
    db = central_db(world.data_dir)
    intake = Intake(db.bank, db.results, world.keys, [])
    for n in range(4):
        assert intake.receive(world.seal(f"att-{n}", GOOD), CENTRE_ID,
                              EnvelopeMeta(proctors=("Pat Proctor",))).status == "accepted"
    assert intake.receive(world.seal("att-q", GOOD, form_version=9), CENTRE_ID).status == "quarantined"
    context = CentralContext(world.data_dir)
    for n in range(3):
        context.audit_log().append("admin", "test.entry", {"n": n})
    context.close()
    return world


def _fresh_target(tmp_path: Path, name: str, keys_from: Path) -> Path:
    """A new data directory holding only the body's files (what a file backup brings back)."""
    target = tmp_path / name
    target.mkdir()
    shutil.copytree(keys_from / "keys", target / "keys")
    return target


def _target_url(pg: PostgresDatabases | None, tmp_path: Path, name: str) -> str:
    """An empty database of this run's engine: a new PostgreSQL database, or a one-file SQLite."""
    return pg.create() if pg is not None else f"sqlite:///{tmp_path / name}.db"


def test_backup_verify_restore_round_trip(tmp_path: Path, postgres_databases: PostgresDatabases | None) -> None:
    world = _busy_world(tmp_path)
    backup = tmp_path / "central.backup"
    written = _cli(world.data_dir, "backup", "--out", str(backup))
    assert written["tables"]["attempts"]["rows"] == 4 and written["tables"]["audit_log"]["rows"] == 3
    checked = _cli(world.data_dir, "backup", "verify", str(backup))
    assert checked["sha256"] == written["sha256"] and checked["tables"] == written["tables"]

    target = _fresh_target(tmp_path, "restored", world.data_dir)
    url = _target_url(postgres_databases, tmp_path, "restored")
    restored = _cli(target, "restore", str(backup), db=url)
    assert restored["tables"] == written["tables"] and restored["audit"]["entries"] == 3
    source_check = check_database(central_db(world.data_dir)).to_dict()
    target_db = open_central(target, url)
    assert check_database(target_db).to_dict() == source_check
    assert value(target_db.results, "SELECT COUNT(*) FROM envelopes") == 5
    target_db.dispose()
    # the restored body works: a new envelope is taken in and the chain grows from its head
    assert _cli(target, "intake", "list", db=url)[0]["status"] in ("accepted", "quarantined")
    assert _cli(target, "db", "migrate", db=url)["stores"]["bank"]["to"] == written["revisions"]["bank"]


@pytest.mark.parametrize("damage", ["flipped", "truncated", "not gzip"])
def test_a_damaged_backup_is_refused_and_nothing_is_restored(tmp_path: Path, damage: str,
                                                             postgres_databases: PostgresDatabases | None) -> None:
    world = _busy_world(tmp_path)
    backup = tmp_path / "central.backup"
    _cli(world.data_dir, "backup", "--out", str(backup))
    lines = gzip.decompress(backup.read_bytes()).splitlines(keepends=True)
    if damage == "flipped":  # one character of one envelope row changed, checksum line kept
        row = next(i for i, line in enumerate(lines) if b'"att-2"' in line)
        lines[row] = lines[row].replace(b"att-2", b"att-3", 1)
        backup.write_bytes(gzip.compress(b"".join(lines)))
    elif damage == "truncated":
        backup.write_bytes(gzip.compress(b"".join(lines[:-1])))
    else:
        backup.write_bytes(b"".join(lines))
    refused = _cli(world.data_dir, "backup", "verify", str(backup), code=1)
    assert ("checksum" in refused["error"]) or ("not a readable backup" in refused["error"])
    target = _fresh_target(tmp_path, "restored", world.data_dir)
    url = _target_url(postgres_databases, tmp_path, "restored")
    _cli(target, "restore", str(backup), code=1, db=url)
    target_db = open_central(target, url, migrate=False)
    for _store, engine in target_db.stores():
        with engine.connect() as conn:
            tables = conn.dialect.get_table_names(conn)
        if "envelopes" in tables:
            assert value(engine, "SELECT COUNT(*) FROM envelopes") == 0
        if "items" in tables:
            assert value(engine, "SELECT COUNT(*) FROM items") == 0
    target_db.dispose()


def test_a_sqlite_body_moves_to_postgresql_verified(tmp_path: Path, pg: PostgresDatabases) -> None:
    """``db copy --to URL`` from a data directory's SQLite files (one made before the data layer)."""
    data = tmp_path / "legacy"
    with tarfile.open(LEGACY) as tar:
        tar.extractall(data, filter="data")
    url = pg.create()
    copied = _cli(data, "db", "copy", "--to", url, db="")
    assert copied["tables"]["attempts"]["rows"] == 3 and copied["audit"]["entries"] >= 1
    source = check_database(open_central(data, None)).to_dict()
    target = open_central(data, url)
    assert check_database(target).to_dict() == source
    # the body now runs on PostgreSQL: its serial counters continue after the copied rows
    listed = _cli(data, "intake", "list", db=url)
    assert len(listed) == 4
    assert _cli(data, "centres", "list", db=url)
    target.dispose()


def test_this_runs_database_copies_to_one_sqlite_file(tmp_path: Path) -> None:
    """PostgreSQL -> SQLite on the PostgreSQL run (a portable extract); SQLite files -> one file here."""
    world = _busy_world(tmp_path)
    url = f"sqlite:///{tmp_path / 'extract.db'}"
    copied = _cli(world.data_dir, "db", "copy", "--to", url)
    assert copied["tables"]["envelopes"]["rows"] == 5 and copied["audit"]["entries"] == 3
    again = _cli(world.data_dir, "db", "copy", "--to", url, code=1)
    assert "empty database" in again["error"]


def test_copy_with_this_runs_url_is_the_configured_one(tmp_path: Path) -> None:
    assert central_db(tmp_path / "central").label.startswith("sqlite") == (configured_url() is None
                                                                          or configured_url().startswith("sqlite"))
