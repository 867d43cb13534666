"""A Python module running as a real server process on 127.0.0.1, stopped with its whole process group.

The ``live_server`` fixture (tests/conftest.py) starts these and stops every one at teardown; tests
that start a server themselves (the console in tests/support/console_world.py) use ``launch``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.ports import wait_for_port
from tests.support.tools import REPO_ROOT


def launch(module: str, args: list[str], port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    """``python -m MODULE ARGS`` (``{port}`` in an argument becomes ``port``) in its own process group,
    cwd at the repository root, output appended to ``log``."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", module, *[a.replace("{port}", str(port)) for a in args]],
            cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so teardown kills its children too
        )


@dataclass
class LiveServer:
    """A Python module running as a real server process on 127.0.0.1.

    ``url`` is ``http://127.0.0.1:PORT``; ``log`` holds the process's stdout and stderr (read it
    when an assertion fails). ``kill()`` sends SIGKILL to the whole process group, for crash tests;
    ``stop()`` ends it gracefully (SIGTERM, then SIGKILL after ``grace`` seconds); ``restart()``
    starts it again on the same port.
    """

    module: str
    args: list[str]
    port: int
    process: subprocess.Popen
    log: Path
    env: dict[str, str] = field(repr=False, default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        """Everything the server printed so far."""
        return self.log.read_text(errors="replace")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the server's whole process group (default SIGKILL, as in a crash) and reap it."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
        self.process.wait(timeout=30)

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the process group, then SIGKILL whatever is still running after ``grace`` s."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            self.process.wait(timeout=grace)

    def restart(self, timeout: float = 30.0) -> None:
        """Start the same module again on the same port after ``kill()``/``stop()`` (recovery tests)."""
        if self.process.poll() is None:
            raise RuntimeError("restart() needs the previous process to have ended")
        self.process = launch(self.module, self.args, self.port, self.env, self.log)
        wait_for_port(self.port, timeout=timeout, process=self.process)
