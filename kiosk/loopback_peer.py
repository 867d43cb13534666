"""Which local user is on the other end of a loopback connection to the candidate UI.

Why: the page token (``webapp``) keeps other origins out, but any local process can connect to
127.0.0.1 and read the page that carries it, and exam media are served without it (an ``<img>``
sends no header). TCP on loopback says nothing about who connects, but Linux lists every socket
with its owner in ``/proc/net/tcp``: the client end of this connection (local address = the
request's ``REMOTE_ADDR:REMOTE_PORT``, remote port = the server's) belongs to one user id. The
kiosk's browser is started by the kiosk (``hardening.lockdown``) and runs as the kiosk's user; a
process of any other user (another account, a service) is refused the page and the media.

What this does not do: a process running as the kiosk's user is not told apart from its browser.
Such a process can read the kiosk's data directory too (device keys, journal), so it is the kiosk
as far as any check inside the kiosk can tell; keeping it from running at all is the hardening's
part (one locked-down session, no terminal, no other program).

Reading the table costs about 10 us per socket listed (a kiosk lists a few dozen), so the check
is made where the token or exam content is handed out (``OwnUserOnly.paths``), not on every save.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

TCP_TABLE = Path("/proc/net/tcp")
ESTABLISHED = "01"


def _hex_endpoint(address: str, port: int) -> str:
    """An IPv4 endpoint as ``/proc/net/tcp`` writes it: the address in host byte order, the port big-endian."""
    packed = socket.inet_aton(address)
    return f"{int.from_bytes(packed, 'little'):08X}:{port:04X}"


def peer_uid(environ: dict[str, Any], table: Path = TCP_TABLE) -> int | None:
    """The user id owning the client end of this request's loopback connection, or None when it
    cannot be told (not IPv4, not listed, no table): callers refuse then."""
    try:
        client = _hex_endpoint(environ["REMOTE_ADDR"], int(environ["REMOTE_PORT"]))
        server_port = f":{int(environ['SERVER_PORT']):04X}"
        lines = table.read_text().splitlines()[1:]
    except (KeyError, ValueError, OSError):
        return None
    for line in lines:
        fields = line.split()
        if len(fields) > 7 and fields[1] == client and fields[2].endswith(server_port) and fields[3] == ESTABLISHED:
            return int(fields[7])
    return None


class OwnUserOnly:
    """WSGI middleware: requests for ``paths`` (prefixes) answered only to processes of this
    process's user (403 otherwise); everything else passes (the API needs the page's token)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], paths: tuple[str, ...] = ("/", "/media/"),
                 uid: int | None = None, table: Path = TCP_TABLE) -> None:
        self.app = app
        self.paths = paths
        self.uid = os.getuid() if uid is None else uid
        self.table = table

    def guarded(self, path: str) -> bool:
        return any(path == p if p == "/" else path.startswith(p) for p in self.paths)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.guarded(environ.get("PATH_INFO", "")) and peer_uid(environ, self.table) != self.uid:
            body = b'{"ok":false,"field":"peer","reason":"only the kiosk\'s own browser reaches the candidate UI"}'
            start_response("403 Forbidden", [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                                             ("Cache-Control", "no-store")])
            return [body]
        return self.app(environ, start_response)
