"""The demo's child processes: each node runs in its own process group and is stopped as a group.

A kill -9 of a kiosk in the demo is a real SIGKILL of that kiosk's process group, and Ctrl+C (or
any exit of the orchestrator) sends SIGTERM to every group still running, then SIGKILL to what
did not stop within the grace period, so no server outlives the demo.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable, Sequence
import contextlib

REPO_ROOT = Path(__file__).resolve().parents[1]


class DemoError(RuntimeError):
    """A step of the demo failed; the message names the step, the command and where its log is."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.2) -> object:
    """Poll ``predicate`` until it returns something true; DemoError naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - a node still starting answers with errors
            last_error = exc
        time.sleep(interval)
    raise DemoError(f"timed out after {timeout:.0f} s waiting for {what}"
                    + (f" (last error: {last_error})" if last_error else ""))


def wait_for_port(port: int, timeout: float, process: subprocess.Popen[bytes] | None, log: Path) -> None:
    def listening() -> bool:
        if process is not None and process.poll() is not None:
            raise DemoError(f"process exited with {process.returncode} before listening; see {log}")
        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", port)) == 0
    try:
        wait_for(listening, timeout, f"port {port}", interval=0.1)
    except DemoError as exc:
        raise DemoError(f"{exc}; log: {log}") from None


@dataclass
class Node:
    """One running process group: a central server, a console or a kiosk."""

    name: str
    args: list[str]
    log: Path
    env: dict[str, str]
    process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(self.args, cwd=REPO_ROOT, env=self.env, stdout=out,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal_group(self, sig: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def kill9(self) -> None:
        """SIGKILL the whole group and reap it: what a power cut does to this node."""
        self.signal_group(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(15)

    def stop(self, grace: float = 10.0) -> None:
        if not self.running or self.process is None:
            return
        self.signal_group(signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.kill9()


@dataclass
class Supervisor:
    """Starts nodes and stops all of them, in reverse order, however the demo ends."""

    log_dir: Path
    nodes: list[Node] = field(default_factory=list)

    def start(self, name: str, module: str, args: Sequence[str], extra_env: dict[str, str] | None = None,
              drop_env: Sequence[str] = ()) -> Node:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **(extra_env or {})}
        for key in drop_env:
            env.pop(key, None)
        node = Node(name, [sys.executable, "-m", module, *args], self.log_dir / f"{name}.log", env)
        node.start()
        self.nodes.append(node)
        return node

    def restart(self, node: Node, args: Sequence[str] | None = None) -> Node:
        """Start a stopped node again, with new arguments for the same module when given."""
        if args is not None:
            node.args = [*node.args[:3], *args]
        node.start()
        return node

    def stop_all(self) -> None:
        for node in reversed(self.nodes):
            if node.running:
                node.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for node in reversed(self.nodes):
            if node.process is None:
                continue
            try:
                node.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                node.kill9()
