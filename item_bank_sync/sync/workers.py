"""``serve --workers N``: the sync API in N worker processes behind the one TLS front.

Why this shape (measured by ``python -m bench results-day``, figures in docs/OPERATIONS.md):
taking in an envelope is CPU bound Python (signature checks, HPKE, JSON, scoring), so threads of
one process share one core through the GIL, and more cores need more processes. The TLS front
(:mod:`item_bank_sync.sync.tls_front`) already relays every decrypted connection to waitress on a
private Unix socket, so the parent process keeps the front, and each worker is the same waitress
application the single-process server runs, on a socket of its own in the same 0700 directory.
The front picks the least busy worker (:class:`~item_bank_sync.sync.tls_front.Backends`). One
front keeps the slowloris limits whole (one count of connections per address, not one per
worker) and keeps the certificate centres pin in one place. gunicorn was the alternative: it
would need a second TLS stack (or none: it has no Unix-socket front of ours) and its own
supervision of slow clients, for the same processes.

Every worker is started with ``spawn`` (a fresh interpreter): it opens its own engines and pool,
so no connection, lock or thread crosses a fork (``CentralDb.after_fork`` is for code that
forks). The parent never opens the database at all.

A worker that dies is started again (at most ``RESTARTS_PER_MINUTE`` per slot, then the slot waits
out the minute, so a worker that cannot start does not spin). Its requests in flight end with a
broken connection, never an answer: the centre keeps every envelope until it holds a receipt and
sends it again; intake is idempotent (the same envelope gets the same receipt bytes, under a lock
per envelope), so nothing acknowledged is lost and nothing is taken twice. New connections go to
the other workers meanwhile (a refused socket makes the front try the next).

SIGTERM (or Ctrl-C) stops gracefully: the front stops accepting and waits ``STOP_GRACE_SECONDS``
for the connections open, then each worker gets SIGTERM (waitress stops), then SIGKILL if it is
still there after ``STOP_GRACE_SECONDS`` more.

Only PostgreSQL: several processes on the SQLite files would serialise on its one write lock and
wait on each other's busy timeouts; :func:`check_can_share` refuses it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import socket
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from pathlib import Path

from exam_core.errors import InvigilError
from item_bank_sync.db.engine import configured_url, parse_url
from item_bank_sync.sync.limits import ADJUSTMENTS
from item_bank_sync.sync.tls_front import Backends, FrontLimits, TlsFront

#: How long a worker may take to start listening, and how long a stop waits at each step.
START_SECONDS = 60.0
STOP_GRACE_SECONDS = 10.0
#: Restarts of one worker slot within a minute before that slot waits.
RESTARTS_PER_MINUTE = 5
#: How often the supervisor looks at its workers.
WATCH_SECONDS = 0.2

log = logging.getLogger(__name__)


class WorkersRefused(InvigilError):
    """``--workers`` above 1 where it cannot work (the SQLite files); says why."""


def check_can_share(workers: int, db_url: str | None) -> None:
    """Refuse several workers unless the central body is on PostgreSQL (see the module doc)."""
    if workers < 1:
        raise WorkersRefused("--workers must be at least 1")
    if workers == 1:
        return
    url = configured_url(db_url)
    if url is None or parse_url(url).get_backend_name() != "postgresql":
        raise WorkersRefused(f"--workers {workers} needs the central body on PostgreSQL (--db postgresql+psycopg://"
                             "... or INVIGIL_CENTRAL_DB): the SQLite files take one writer at a time; "
                             "serve them with one worker")


def run_worker(data_dir: str, db_url: str | None, socket_path: str, https: bool) -> None:
    """One worker process: the API on waitress on ``socket_path`` until SIGTERM."""
    from exam_core.wsgi_server import WsgiServer
    from item_bank_sync.sync.api import create_app

    signal.signal(signal.SIGINT, signal.SIG_IGN)       # Ctrl-C reaches the parent, which stops us
    app = create_app(Path(data_dir), db_url=db_url)    # this process's own engines and pool
    server = WsgiServer(app, unix_socket=socket_path, unix_socket_perms="600",
                        url_scheme="https" if https else "http", **ADJUSTMENTS)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    try:
        server.serve_forever()
    finally:
        app.extensions["invigil_sync"].close()


@dataclass
class _Slot:
    """One worker's place: its socket, its current process and its recent restarts."""

    socket_path: str
    process: BaseProcess | None = None
    starts: list[float] = field(default_factory=list)
    restarts: int = 0


class WorkerServer:
    """N worker processes behind one :class:`TlsFront` (see the module doc). Same surface as
    :class:`item_bank_sync.sync.server.SyncServer`: ``server_port``, ``serve_forever()``,
    ``shutdown()``; plus ``worker_pids()`` and ``restarts()`` for operators and tests."""

    def __init__(self, data_dir: Path, db_url: str | None, workers: int, host: str, port: int,
                 ssl_context: ssl.SSLContext | None, limits: FrontLimits) -> None:
        check_can_share(workers, db_url)
        self._args = (str(data_dir), configured_url(db_url), ssl_context is not None)
        self._context = multiprocessing.get_context("spawn")
        self._socket_dir = tempfile.mkdtemp(prefix="invigil-sync-")  # 0700, short enough for AF_UNIX
        self._slots = [_Slot(os.path.join(self._socket_dir, f"w{i}.sock")) for i in range(workers)]
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._front: TlsFront | None = None
        try:
            for slot in self._slots:
                self._start(slot)
            for slot in self._slots:
                _wait_listening(slot)
            self._front = TlsFront(host, port, ssl_context, Backends([s.socket_path for s in self._slots]),
                                   limits=limits)
        except BaseException:
            self.shutdown()
            raise

    @property
    def server_port(self) -> int:
        if self._front is None:
            raise RuntimeError("the front did not start")
        return self._front.port

    def worker_pids(self) -> list[int | None]:
        with self._lock:
            return [s.process.pid if s.process is not None else None for s in self._slots]

    def restarts(self) -> int:
        with self._lock:
            return sum(s.restarts for s in self._slots)

    def serve_forever(self) -> None:
        """Watch the workers, starting again any that died, until :meth:`shutdown`."""
        while not self._stopping.wait(WATCH_SECONDS):
            for slot in self._slots:
                self._revive(slot)

    def shutdown(self, timeout: float = STOP_GRACE_SECONDS, graceful: bool = True) -> None:
        """Stop (see the module doc; ``graceful`` False skips waiting for open connections). Idempotent."""
        self._stopping.set()
        if self._front is not None:
            if graceful:
                self._front.drain(timeout)
            self._front.close()
        with self._lock:
            processes = [s.process for s in self._slots if s.process is not None]
        for process in processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join(5)
        shutil.rmtree(self._socket_dir, ignore_errors=True)

    def _start(self, slot: _Slot) -> None:
        process = self._context.Process(target=run_worker, args=(*self._args[:2], slot.socket_path, self._args[2]),
                                        name="invigil-sync-worker", daemon=True)
        process.start()
        with self._lock:
            slot.process = process
            slot.starts = [t for t in slot.starts if t > time.monotonic() - 60] + [time.monotonic()]

    def _revive(self, slot: _Slot) -> None:
        process = slot.process
        if process is None or process.is_alive() or self._stopping.is_set():
            return
        if len(slot.starts) >= RESTARTS_PER_MINUTE and slot.starts[-RESTARTS_PER_MINUTE] > time.monotonic() - 60:
            return                                  # failing to start: wait out the minute
        log.warning("sync worker %s ended (exit %s); starting it again", process.pid, process.exitcode)
        process.join(0)
        self._start(slot)
        with self._lock:
            slot.restarts += 1


def _wait_listening(slot: _Slot) -> None:
    """Until the worker's socket accepts a connection; its exit or ``START_SECONDS`` is an error."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if slot.process is not None and not slot.process.is_alive():
            raise InvigilError(f"sync worker exited while starting (exit {slot.process.exitcode})")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                probe.connect(slot.socket_path)
            return
        except OSError:
            time.sleep(0.05)
    raise InvigilError(f"sync worker did not start listening within {START_SECONDS:.0f} s")
