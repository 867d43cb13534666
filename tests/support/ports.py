"""Free TCP ports on 127.0.0.1, and waiting until a server listens on one.

Ports are chosen by the OS (bind to port 0), never guessed, so tests that run servers side by side
do not collide.
"""

from __future__ import annotations

import socket
import subprocess
import time


def find_free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the OS picks it, so it is never a guess)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 30.0,
                  process: subprocess.Popen | None = None) -> None:
    """Return once ``host:port`` accepts a TCP connection; raise if ``process`` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server process exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing accepted connections on {host}:{port} within {timeout} s") from None
            time.sleep(0.05)
