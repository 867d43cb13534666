"""A private PostgreSQL cluster for tests, benchmarks and the demo: started, used, thrown away.

Production runs the central body on a PostgreSQL server its IT department operates
(docs/OPERATIONS.md). Tests, ``bench`` and ``scripts/demo --postgres`` need a real server too, but
one that touches nothing on the machine: ``initdb`` into a temporary directory, a Unix socket in that
directory and no TCP listener, no system service, stopped and deleted afterwards.

Debian's ``initdb`` and ``postgres`` refuse to run as root; as root they run as the ``postgres``
user the package creates (the directory is handed to that user), otherwise as the caller.

    with PrivateCluster() as cluster:
        url = cluster.create_database("central")   # postgresql+psycopg://invigil@/central?host=...
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

SUPERUSER = "invigil"
START_TIMEOUT_SECONDS = 60


class ClusterError(RuntimeError):
    """The private cluster could not be created, started or stopped; the message says why."""


def find_bindir() -> Path:
    """The newest PostgreSQL server's bin directory (Debian keeps one per major version)."""
    env = os.environ.get("INVIGIL_PG_BINDIR")
    candidates = [Path(env)] if env else sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name)
        if p.parent.name.isdigit() else 0, reverse=True)
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    raise ClusterError("no PostgreSQL server found (on Debian: apt-get install postgresql; "
                       "or set INVIGIL_PG_BINDIR)")


def available() -> bool:
    """Whether a PostgreSQL server is installed (tests skip outside CI when it is not)."""
    try:
        find_bindir()
    except ClusterError:
        return False
    return True


class PrivateCluster:
    """One throw-away cluster. ``start()``/``stop()`` or use it as a context manager."""

    def __init__(self, root: Path | None = None, *, fsync: bool = True) -> None:
        self.bindir = find_bindir()
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="invigil-pg-")) if root is None else root
        self.datadir = self.root / "pg"
        self.socket_dir = self.root
        self.log = self.root / "postgres.log"
        # fsync off only where a test says so explicitly: durability tests need it on.
        self.fsync = fsync
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            self._as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [*self._as_user, *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=START_TIMEOUT_SECONDS,
                              check=False)
        if done.returncode != 0:
            raise ClusterError(f"{Path(args[0]).name} failed ({done.returncode}): "
                               f"{(done.stderr or done.stdout).strip()[-2000:]}")
        return done

    def start(self) -> PrivateCluster:
        self.root.mkdir(parents=True, exist_ok=True)
        if self._as_user:
            shutil.chown(self.root, user="postgres", group="postgres")
        if not self.datadir.exists():
            self._run(str(self.bindir / "initdb"), "-D", str(self.datadir), "-A", "trust",
                      "-U", SUPERUSER, "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        options = (f"-k {self.socket_dir} -c listen_addresses='' -c max_connections=200 "
                   f"-c fsync={'on' if self.fsync else 'off'}")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-o", options,
                  "-l", str(self.log), "-w", "-t", str(START_TIMEOUT_SECONDS), "start")
        return self

    def stop(self, *, remove: bool = True) -> None:
        if (self.datadir / "postmaster.pid").exists():
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w",
                      "stop")
        if remove and self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def kill(self) -> None:
        """Stop the server the hard way (SIGKILL to the postmaster), as a crash would."""
        pid_file = self.datadir / "postmaster.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().split()[0])
            os.kill(pid, 9)

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL for psycopg 3 over the cluster's Unix socket."""
        return f"postgresql+psycopg://{SUPERUSER}@/{database}?host={self.socket_dir}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        if not name.replace("_", "").isalnum():
            raise ClusterError(f"database name {name!r}: letters, digits and _ only")
        self._run(str(self.bindir / "psql"), "-h", str(self.socket_dir), "-U", SUPERUSER,
                  "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self._run(str(self.bindir / "psql"), "-h", str(self.socket_dir), "-U", SUPERUSER,
                  "-d", "postgres", "-v", "ON_ERROR_STOP=1",
                  "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def __enter__(self) -> PrivateCluster:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
