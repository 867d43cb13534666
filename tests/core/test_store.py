"""exam_core.store: pragmas really set, migrations in order and once, newer schemas refused,
and rows reported committed surviving kill -9 of the writing process."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from exam_core.store import (
    Migration,
    SchemaTooNewError,
    StoreError,
    immediate_transaction,
    insert_durably,
    open_db,
    read_snapshot,
    schema_version,
)

REPO = Path(__file__).resolve().parents[2]

MIGRATIONS = [
    Migration(1, "answers", "CREATE TABLE answers (id INTEGER PRIMARY KEY, item TEXT NOT NULL, value TEXT)"),
    Migration(2, "attempts", """
        CREATE TABLE attempts (id INTEGER PRIMARY KEY, candidate TEXT NOT NULL);
        ALTER TABLE answers ADD COLUMN attempt_id INTEGER REFERENCES attempts(id);
    """),
]


def _pragma(db, name: str):
    return db.execute(f"PRAGMA {name}").fetchone()[0]


@pytest.mark.parametrize("name, level", [("FULL", 2), ("NORMAL", 1), ("full", 2)])
def test_pragmas_are_set_and_read_back(tmp_path: Path, name: str, level: int) -> None:
    db = open_db(tmp_path / "s.db", synchronous=name, busy_timeout_ms=1234)
    assert _pragma(db, "journal_mode") == "wal"
    assert _pragma(db, "synchronous") == level
    assert _pragma(db, "foreign_keys") == 1
    assert _pragma(db, "busy_timeout") == 1234
    db.close()
    # WAL is persistent: a plain sqlite3 connection sees it too.
    raw = sqlite3.connect(tmp_path / "s.db")
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()


@pytest.mark.parametrize("bad", ["OFF", "EXTRA", "", "2", None])
def test_unknown_synchronous_name_is_refused(tmp_path: Path, bad) -> None:
    with pytest.raises(StoreError, match="synchronous must be one of NORMAL, FULL"):
        open_db(tmp_path / "s.db", synchronous=bad)
    assert not (tmp_path / "s.db").exists()


def test_bad_path_and_timeout_are_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        open_db(tmp_path / "missing" / "s.db")
    with pytest.raises(StoreError, match="needs a file path"):
        open_db(":memory:")
    with pytest.raises(StoreError, match="busy_timeout_ms"):
        open_db(tmp_path / "s.db", busy_timeout_ms=-1)


def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    db = open_db(tmp_path / "s.db", migrations=MIGRATIONS)
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO answers (item, value, attempt_id) VALUES ('q1', 'A', 99)")


def test_migrations_apply_in_version_order_whatever_the_list_order(tmp_path: Path) -> None:
    applied: list[int] = []

    def step(version: int):
        def apply(db) -> None:
            applied.append(version)
            db.execute(f"CREATE TABLE t{version} (x)")
        return Migration(version, f"t{version}", apply)

    db = open_db(tmp_path / "s.db", migrations=[step(3), step(1), step(2)])
    assert applied == [1, 2, 3]
    assert schema_version(db) == 3
    assert {"t1", "t2", "t3"} <= set(db.table_names())


def test_migrations_are_idempotent_and_resume_where_the_database_stopped(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    calls: list[int] = []

    def counted(m: Migration) -> Migration:
        def apply(db) -> None:
            calls.append(m.version)
            db.executescript(m.apply)
        return Migration(m.version, m.name, apply)

    open_db(path, migrations=[counted(MIGRATIONS[0])]).close()
    assert calls == [1]
    db = open_db(path, migrations=[counted(m) for m in MIGRATIONS])
    assert calls == [1, 2]
    assert schema_version(db) == 2
    db.close()
    db = open_db(path, migrations=[counted(m) for m in MIGRATIONS])
    assert calls == [1, 2], "re-opening must apply nothing"
    assert db["answers"].columns_dict == {"id": int, "item": str, "value": str, "attempt_id": int}


def test_failed_migration_rolls_back_whole_step_and_version(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    broken = Migration(2, "broken", "CREATE TABLE half (x); INSERT INTO no_such_table VALUES (1);")
    with pytest.raises(StoreError, match=r"migration 2 \(broken\) failed"):
        open_db(path, migrations=[MIGRATIONS[0], broken])
    db = open_db(path, migrations=[MIGRATIONS[0]])
    assert schema_version(db) == 1
    assert "half" not in db.table_names()


def test_migration_that_commits_by_itself_is_refused(tmp_path: Path) -> None:
    def commits(db) -> None:
        db.execute("CREATE TABLE x (a)")
        db.conn.execute("COMMIT")

    with pytest.raises(StoreError, match="must not commit"):
        open_db(tmp_path / "s.db", migrations=[Migration(1, "commits", commits)])


def test_database_newer_than_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    open_db(path, migrations=MIGRATIONS).close()
    with pytest.raises(SchemaTooNewError) as info:
        open_db(path, migrations=MIGRATIONS[:1])
    assert (info.value.db_version, info.value.code_version) == (2, 1)
    assert "newer than this code knows" in str(info.value)


@pytest.mark.parametrize("versions", [[1, 3], [2], [1, 1], [0, 1]])
def test_migration_versions_must_be_contiguous_from_one(tmp_path: Path, versions: list[int]) -> None:
    migrations = [Migration(v, f"m{v}", "SELECT 1") for v in versions]
    with pytest.raises(StoreError, match="migration versions must be"):
        open_db(tmp_path / "s.db", migrations=migrations)


def test_two_processes_migrating_at_once_apply_each_step_once(tmp_path: Path) -> None:
    """Both race to open a new database; the IMMEDIATE transaction makes the loser skip the work."""
    path = tmp_path / "s.db"
    script = textwrap.dedent(f"""
        import sys
        from exam_core.store import Migration, open_db
        def slow(db):
            db.execute("INSERT INTO log VALUES (1)")
            import time; time.sleep(0.3)
        migs = [Migration(1, "log", "CREATE TABLE log (x)"), Migration(2, "slow", slow)]
        db = open_db({str(path)!r}, migrations=migs)
        print(db.execute("SELECT count(*) FROM log").fetchone()[0])
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert outputs == ["1", "1"]


def test_insert_durably_returns_rowid_and_refuses_open_transaction(tmp_path: Path) -> None:
    db = open_db(tmp_path / "s.db", migrations=MIGRATIONS)
    first = insert_durably(db, "answers", {"item": "q1", "value": "A"})
    second = insert_durably(db, "answers", {"item": "q2", "value": "B"})
    assert second == first + 1
    assert db.table("answers").get(second)["value"] == "B"
    db.conn.execute("BEGIN")
    with pytest.raises(StoreError, match="inside an open transaction"):
        insert_durably(db, "answers", {"item": "q3"})
    db.conn.execute("ROLLBACK")
    with pytest.raises(sqlite3.IntegrityError):
        insert_durably(db, "answers", {"item": None})
    assert not db.conn.in_transaction, "a failed insert must not leave a transaction open"


def test_read_snapshot_sees_one_state_and_never_writes(tmp_path: Path) -> None:
    db = open_db(tmp_path / "s.db", migrations=MIGRATIONS)
    other = open_db(tmp_path / "s.db", migrations=MIGRATIONS)
    insert_durably(db, "answers", {"item": "q1"})
    with read_snapshot(db) as conn:
        assert conn.execute("SELECT count(*) FROM answers").fetchone()[0] == 1
        insert_durably(other, "answers", {"item": "q2"})  # WAL: the writer is not blocked by the reader
        assert conn.execute("SELECT count(*) FROM answers").fetchone()[0] == 1
        with pytest.raises(StoreError, match="inside an open transaction"), immediate_transaction(db):
            pass
    assert not db.conn.in_transaction
    assert db.execute("SELECT count(*) FROM answers").fetchone()[0] == 2


def test_concurrent_threads_share_one_connection_safely(tmp_path: Path) -> None:
    """insert_durably holds the connection's write lock: no thread joins another's transaction."""
    db = open_db(tmp_path / "s.db", migrations=MIGRATIONS)
    results: list[int] = []
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(50):
                results.append(insert_durably(db, "answers", {"item": f"t{n}-{i}"}))
        except BaseException as exc:  # reported below; a thread's exception would vanish otherwise
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert sorted(results) == list(range(1, 201))
    assert db.execute("SELECT count(*) FROM answers").fetchone()[0] == 200


WRITER = textwrap.dedent("""
    import sys
    from exam_core.store import Migration, insert_durably, open_db
    db = open_db(sys.argv[1], synchronous="FULL",
                 migrations=[Migration(1, "rows", "CREATE TABLE rows (id INTEGER PRIMARY KEY, payload BLOB)")])
    print("ready", flush=True)
    while True:
        rowid = insert_durably(db, "rows", {"payload": b"x" * 512})
        print(rowid, flush=True)   # reported only after COMMIT returned
""")


@pytest.mark.slow
def test_rows_reported_committed_survive_kill_minus_9(tmp_path: Path) -> None:
    path = tmp_path / "durable.db"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], cwd=REPO,
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    reported: list[int] = []
    try:
        assert proc.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 60
        while len(reported) < 300 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            reported.append(int(line))
        os.kill(proc.pid, signal.SIGKILL)  # mid-loop: the writer is committing the next row right now
        proc.wait(timeout=10)
        # Lines already written to the pipe before the kill were reported too.
        reported.extend(int(line) for line in proc.stdout.read().split())
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert len(reported) >= 300, "the writer did not get far enough to test anything"
    db = open_db(path, migrations=[Migration(1, "rows", "CREATE TABLE rows (id INTEGER PRIMARY KEY, payload BLOB)")])
    present = {row[0] for row in db.execute("SELECT id FROM rows")}
    missing = sorted(set(reported) - present)
    assert not missing, f"{len(missing)} rows reported committed are missing, first {missing[:5]}"
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
