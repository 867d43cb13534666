"""A real kiosk process (``python -m kiosk run --no-browser``) on 127.0.0.1, driven over its local
HTTP API as the candidate's page drives it, and stopped or killed (``kill -9``) like a machine.

Why a process and not the runtime in the test: crash tests kill it mid-write and start it again on
the same data directory, which only a separate process can show.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests

from tests.support.ports import wait_for_port
from tests.support.tools import REPO_ROOT


class KioskProcess:
    """``python -m kiosk run --data DATA --no-browser --port PORT ARGS``, output appended to ``log``."""

    def __init__(self, data: Path, port: int, log: Path, args: Sequence[str] = ()) -> None:
        self.data, self.port, self.log, self.args = data, port, log, list(args)
        self.proc: subprocess.Popen | None = None
        self.base = f"http://127.0.0.1:{port}"
        self.http = requests.Session()

    def start(self, extra: Sequence[str] = ()) -> None:
        """Start the kiosk (``extra`` arguments for this start only) and pick up its page token."""
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("PYNPUT_BACKEND", None)
        env.pop("DISPLAY", None)
        with open(self.log, "ab") as handle:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--data", str(self.data),
                                          "--no-browser", "--port", str(self.port), *self.args, *extra],
                                         cwd=REPO_ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
        wait_for_port(self.port, timeout=60, process=self.proc)
        page = self.http.get(self.base + "/", timeout=10).text
        token = re.search(r'name="kiosk-token" content="([^"]+)"', page)
        assert token, "the kiosk page carries no token"
        self.http.headers["X-Kiosk-Token"] = token.group(1)

    def kill9(self) -> None:
        """SIGKILL, as a power cut or a crash would end it."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Send ``sig`` if it still runs, and SIGKILL it if it has not ended within 15 s."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill9()

    def post(self, name: str, body: dict[str, Any] | None = None) -> Any:
        """POST ``/api/NAME`` as the page does; the reply must be 200."""
        reply = self.http.post(f"{self.base}/api/{name}", json=body or {}, timeout=10)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def state(self) -> Any:
        """``/api/state``: the screen and attempt the page would show."""
        return self.http.get(self.base + "/api/state", timeout=10).json()

    def item(self, index: int) -> Any:
        """``/api/item/INDEX``: one item as the page receives it."""
        return self.http.get(f"{self.base}/api/item/{index}", timeout=10).json()
