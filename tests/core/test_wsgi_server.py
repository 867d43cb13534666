"""exam_core.wsgi_server: waitress serves, and stops cleanly with connections still open."""

from __future__ import annotations

import http.client
import socket
import threading
from pathlib import Path
from typing import Any
from collections.abc import Callable, Iterable

from exam_core.wsgi_server import WsgiServer


def hello(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]


def _running(server: WsgiServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


def test_serves_and_stops_with_a_keep_alive_connection_open() -> None:
    server = WsgiServer(hello, host="127.0.0.1", port=0, threads=2, ident="")
    thread = _running(server)
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=5)
    connection.request("GET", "/")
    reply = connection.getresponse()
    assert (reply.status, reply.read()) == (200, b"hello")
    assert not reply.getheader("Server")          # ident="" reached waitress
    server.shutdown()                             # the connection is still open (keep-alive)
    thread.join(5)
    assert not thread.is_alive()
    server.shutdown()                             # idempotent
    with socket.socket() as probe:                # the listener is gone
        assert probe.connect_ex(("127.0.0.1", server.server_port)) != 0
    connection.close()


def test_serves_on_a_unix_socket(tmp_path: Path) -> None:
    path = tmp_path / "http.sock"
    server = WsgiServer(hello, unix_socket=str(path), unix_socket_perms="600")
    thread = _running(server)
    with socket.socket(socket.AF_UNIX) as client:
        client.settimeout(5)
        client.connect(str(path))
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := client.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"hello")
    assert path.stat().st_mode & 0o777 == 0o600
    server.shutdown()
    thread.join(5)
    assert not thread.is_alive()


def test_a_server_that_never_ran_is_closed_and_frees_its_port() -> None:
    server = WsgiServer(hello, host="127.0.0.1", port=0)
    port = server.server_port
    server.close()
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))
