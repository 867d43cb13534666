"""``serve --workers N`` as real processes on a real PostgreSQL: the load shared, the same envelope
sent to the workers at the same moment taken in once with byte-identical receipts, kill -9 of the
workers in the middle of an upload (the centre's retry gets every receipt, nothing lost, nothing
twice), the graceful stop on SIGTERM, and the refusal on the SQLite files.

Fixtures and the process helpers: tests/central/sync/pg_processes.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from exam_core.receipt import verify_receipt
from exam_core.sync_wire import Upload, UploadAnswer, UploadEntry
from proctor_console.sync.client import HubClient, HubError
from tests.support.pg_processes import REPO, Serve, central_database, pg_databases, run_together
from tests.support.central_db import DB_ENV_FOR_TESTS, results_of, value
from tests.support.central_world import CENTRE_ID, GOOD, World, build_world

__all__ = ["central_database", "pg_databases"]   # the module's fixtures (see pg_processes)

pytestmark = pytest.mark.slow


@pytest.fixture
def world(tmp_path: Path) -> World:
    return build_world(tmp_path / "central")


def _client(world: World, serve: Serve) -> HubClient:
    return HubClient(serve.url, CENTRE_ID, world.pki.centre, world.pki.central.public_key(),
                     tls_fingerprint=serve.fingerprint, timeout=60)


def _upload_in_child(url: str, fingerprint: str, centre_key: bytes, central_public: bytes, data: bytes, *,
                     prepare: bool) -> Callable[[], tuple[str, bytes | None, bool]]:
    """A centre in its own process: connects (TLS, pinned) only when released by the barrier."""
    client = HubClient(url, CENTRE_ID, Ed25519PrivateKey.from_private_bytes(centre_key),
                       Ed25519PublicKey.from_public_bytes(central_public), tls_fingerprint=fingerprint, timeout=60)

    def go() -> tuple[str, bytes | None, bool]:
        (result,) = client.upload(Upload((UploadEntry(data),))).results
        return result.status, result.receipt, result.duplicate
    return go


def test_same_envelope_to_several_workers_at_once_is_taken_in_once(world: World):
    data = world.seal("att-race", GOOD)
    serve = Serve(world.data_dir, workers=2)
    try:
        args = (serve.url, serve.fingerprint, world.pki.centre.private_bytes_raw(),
                world.pki.central.public_key().public_bytes_raw(), data)
        outcomes = run_together(_upload_in_child, [args] * 4)
    finally:
        assert serve.stop() == 0
    assert {status for status, _, _ in outcomes} == {"accepted"}
    receipts = {receipt for _, receipt, _ in outcomes}
    assert len(receipts) == 1 and None not in receipts            # byte-identical, signed receipts
    verify_receipt(receipts.pop(), data, world.pki.central.public_key())
    assert sorted(duplicate for _, _, duplicate in outcomes) == [False, True, True, True]
    db = results_of(world.data_dir).engine
    assert value(db, "SELECT count(*) FROM envelopes") == 1
    assert value(db, "SELECT count(*) FROM attempts WHERE attempt_id = ?", "att-race") == 1


def test_workers_share_uploads_and_stop_gracefully_on_sigterm(world: World):
    envelopes = [world.seal(f"att-{i}", GOOD) for i in range(24)]
    serve = Serve(world.data_dir, workers=2)
    answers: list[UploadAnswer] = []
    try:
        assert len(serve.worker_pids()) == 2
        client = _client(world, serve)
        threads = [threading.Thread(target=lambda chunk=envelopes[i::4]: answers.append(
            client.upload(Upload(tuple(UploadEntry(d) for d in chunk))))) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        assert serve.stop() == 0                                   # graceful: exit 0, no worker left
    results = [r for answer in answers for r in answer.results]
    assert len(results) == 24 and {r.status for r in results} == {"accepted"}
    assert value(results_of(world.data_dir).engine, "SELECT count(*) FROM attempts") == 24


def test_sigterm_lets_the_upload_in_flight_finish_with_its_receipts(world: World):
    envelopes = [world.seal(f"att-{i}", GOOD) for i in range(20)]
    serve = Serve(world.data_dir, workers=2)
    db = results_of(world.data_dir).engine
    answers: list[Any] = []
    client = _client(world, serve)
    sender = threading.Thread(target=lambda: answers.append(
        _try_upload(client, Upload(tuple(UploadEntry(d) for d in envelopes)))))
    sender.start()
    _wait_until(lambda: (value(db, "SELECT count(*) FROM envelopes") or 0) >= 1)
    assert serve.stop() == 0                                       # SIGTERM while the batch is taken in
    sender.join(60)
    assert isinstance(answers[0], UploadAnswer), answers[0]        # answered, not cut off
    assert [r.status for r in answers[0].results] == ["accepted"] * 20
    assert value(db, "SELECT count(*) FROM attempts") == 20


def test_kill_9_of_the_workers_mid_upload_loses_nothing_and_takes_nothing_twice(world: World):
    envelopes = [world.seal(f"att-{i}", GOOD) for i in range(80)]
    upload = Upload(tuple(UploadEntry(d) for d in envelopes))
    serve = Serve(world.data_dir, workers=2)
    db = results_of(world.data_dir).engine
    first: list[Any] = []
    try:
        client = _client(world, serve)
        sender = threading.Thread(target=lambda: first.append(_try_upload(client, upload)))
        sender.start()
        _wait_until(lambda: (value(db, "SELECT count(*) FROM envelopes") or 0) >= 5)
        old = serve.worker_pids()
        for pid in old:
            os.kill(pid, signal.SIGKILL)                           # in the middle of the batch
        sender.join(120)
        assert isinstance(first[0], HubError)                      # the upload failed, cleanly
        taken = value(db, "SELECT count(*) FROM envelopes")
        assert 5 <= taken < 80
        serve.wait_for_workers(2, not_in=tuple(old))               # both started again
        answer = _retry(client, upload)                           # what a centre does next
    finally:
        assert serve.stop() == 0
    assert len(answer.results) == 80 and {r.status for r in answer.results} == {"accepted"}
    assert sum(r.duplicate for r in answer.results) >= taken
    for data, result in zip(envelopes, answer.results, strict=True):
        verify_receipt(result.receipt, data, world.pki.central.public_key())
    assert value(db, "SELECT count(*) FROM envelopes") == 80
    assert value(db, "SELECT count(DISTINCT attempt_id) FROM attempts") == 80
    assert value(db, "SELECT count(*) FROM attempts") == 80


def test_several_workers_on_the_sqlite_files_are_refused(world: World, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(DB_ENV_FOR_TESTS)
    done = subprocess.run([sys.executable, "-m", "item_bank_sync", "--data", str(world.data_dir), "serve",
                           "--workers", "2"], cwd=REPO, capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if k != DB_ENV_FOR_TESTS})
    assert done.returncode == 2
    assert "needs the central body on PostgreSQL" in done.stderr


def _try_upload(client: HubClient, upload: Upload) -> UploadAnswer | HubError:
    try:
        return client.upload(upload)
    except HubError as exc:
        return exc


def _retry(client: HubClient, upload: Upload) -> UploadAnswer:
    """Retry as the console does: until an answer (the workers may still be starting)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return client.upload(upload)
        except HubError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.02)


def test_the_front_sends_a_connection_to_the_least_busy_worker_in_turn():
    from item_bank_sync.sync.tls_front import Backends

    backends = Backends(["a", "b", "c"])
    firsts = [backends.order()[0] for _ in range(3)]
    assert sorted(firsts) == ["a", "b", "c"]                 # all idle: each in turn
    backends.taken("a")
    backends.taken("b")
    assert backends.order()[0] == "c"                        # the idle one first
    assert backends.order()[-1] in ("a", "b")
    backends.taken("c")
    backends.taken("c")
    backends.returned("a")
    assert backends.order()[0] == "a" and backends.order()[-1] == "c"
    assert backends.busy() == {"a": 0, "b": 1, "c": 2}
