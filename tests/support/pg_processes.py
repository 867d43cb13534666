"""Real processes against a real PostgreSQL, for the tests of ``serve --workers`` and of races.

These tests need PostgreSQL whatever ``INVIGIL_TEST_CENTRAL_DB`` says (races between processes do
not exist on the SQLite files, which take one writer at a time): :func:`pg_databases` reuses the
session's private cluster when the run is on PostgreSQL and starts one for the module otherwise
(skipped without a server, failed in CI: tests/support/central_db.py). A test module imports
``pg_databases`` and ``central_database`` (which replaces the conftest's, so every central body the
test makes, in this process or a child, is on that database through ``INVIGIL_CENTRAL_DB``).

Children are started with ``spawn`` (fresh interpreters, their own engines) and released together
by a barrier, so their requests meet in the database within a millisecond or so.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.central_db import DB_ENV_FOR_TESTS, PostgresDatabases, dispose_all, private_databases
from tests.support.ports import find_free_port

REPO = Path(__file__).resolve().parents[3]
SPAWN_TIMEOUT = 120.0


@pytest.fixture(scope="module")
def pg_databases(postgres_databases: PostgresDatabases | None,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresDatabases]:
    if postgres_databases is not None:
        yield postgres_databases
        return
    with private_databases(tmp_path_factory.mktemp("pg-processes"), "process races need PostgreSQL") as databases:
        yield databases


@pytest.fixture(autouse=True)
def central_database(pg_databases: PostgresDatabases, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = pg_databases.create()
    monkeypatch.setenv(DB_ENV_FOR_TESTS, url)
    yield url
    dispose_all()
    pg_databases.drop(url)


def run_together(target: Callable[..., Any], argsets: list[tuple[Any, ...]]) -> list[Any]:
    """Run ``target(*args)`` in one spawned process per argument set, all released at once by a
    barrier; their return values in order (an exception in a child fails the test with its text)."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(argsets))
    results = context.Queue()
    processes = [context.Process(target=_child, args=(i, barrier, results, target, args))
                 for i, args in enumerate(argsets)]
    for process in processes:
        process.start()
    found: dict[int, Any] = {}
    try:
        for _ in processes:
            index, ok, value = results.get(timeout=SPAWN_TIMEOUT)
            if not ok:
                raise AssertionError(f"child {index} failed: {value}")
            found[index] = value
    finally:
        for process in processes:
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join(5)
    return [found[i] for i in range(len(argsets))]


def _child(index: int, barrier: Any, results: Any, target: Callable[..., Any], args: tuple[Any, ...]) -> None:
    import traceback

    try:
        prepared = target(*args, prepare=True)   # imports, engines, keys: before the barrier
        barrier.wait(timeout=SPAWN_TIMEOUT)
        results.put((index, True, prepared()))
    except BaseException:
        results.put((index, False, traceback.format_exc()[-3000:]))


class Serve:
    """``python -m item_bank_sync --data DIR serve --workers N`` as a real process (HTTPS on a free
    port, its URL and fingerprint read from the ready line), its database from ``INVIGIL_CENTRAL_DB``."""

    def __init__(self, data_dir: Path, workers: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "item_bank_sync", "--data", str(data_dir), "serve", "--port", str(find_free_port()),
             "--workers", str(workers)], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "COLUMNS": "400"})                  # the ready line on one line
        self.workers = workers
        self.url, self.fingerprint = self._ready()

    def _ready(self) -> tuple[str, str]:
        assert self.process.stderr is not None
        line = self.process.stderr.readline()
        found = re.search(r"(https://127\.0\.0\.1:\d+) \(TLS fingerprint sha256 ([0-9a-f]{64})\)", line)
        if found is None:
            self.stop()
            raise AssertionError(f"serve did not start: {line}")
        self.wait_for_workers(self.workers)
        return found.group(1), found.group(2)

    def worker_pids(self) -> list[int]:
        """The worker processes (children of the server running the spawn entry point)."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                cmdline = (stat.parent / "cmdline").read_bytes()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid and b"spawn_main" in cmdline:
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def wait_for_workers(self, count: int, not_in: tuple[int, ...] = (), timeout: float = 60.0) -> list[int]:
        """Until ``count`` workers run (none of them in ``not_in``) and listen; their pids."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = [p for p in self.worker_pids() if p not in not_in]
            if len(pids) == count:
                return pids
            time.sleep(0.1)
        raise AssertionError(f"{count} workers expected, found {self.worker_pids()}")

    def stop(self) -> int:
        """SIGTERM (the graceful stop); the exit code. No worker may outlive it."""
        pids = self.worker_pids()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait(timeout=10)
        for pid in pids:
            _reap_check(pid)
        if self.process.stderr is not None:
            self.process.stderr.close()
        return code


def _reap_check(pid: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    raise AssertionError(f"worker {pid} outlived the server")
