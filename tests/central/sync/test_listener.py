"""The central body's one listener class (item_bank_sync.sync.listener) and the TLS front's peer
hook, on a real front and waitress over 127.0.0.1: with a peer header the app is told the client's
address (a copy the client sent replaced) and serves one request per connection, so a pipelined
second request never reaches the app with an address of the client's choosing; without one the
front adds nothing."""

from __future__ import annotations

import secrets
import socket
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from item_bank_sync.sync.listener import Listener, ListenerSettings
from item_bank_sync.sync.tls_front import FrontLimits, PeerHeader

LIMITS = FrontLimits(max_connections=8, head_max_bytes=8192, body_max_bytes=1024)
ADJUSTMENTS = {"threads": 2, "connection_limit": 8, "channel_timeout": 10, "ident": "",
               "expose_tracebacks": False}


def _echo_peer(environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
    """Answers the peer header the app received ('-' when none)."""
    start("200 OK", [("Content-Type", "text/plain")])
    return [environ.get("HTTP_X_TEST_PEER", "-").encode()]


def _serving(peer: PeerHeader | None) -> Iterator[Listener]:
    server = Listener(_echo_peer, "127.0.0.1", 0, None, ListenerSettings("test", ADJUSTMENTS, LIMITS, peer))
    runner = threading.Thread(target=server.serve_forever, daemon=True)
    runner.start()
    try:
        yield server
    finally:
        server.shutdown()
        runner.join(5)


@pytest.fixture
def tagged() -> Iterator[Listener]:
    yield from _serving(PeerHeader("X-Test-Peer", "s3cret"))


@pytest.fixture
def plain() -> Iterator[Listener]:
    yield from _serving(None)


def _exchange(port: int, data: bytes) -> bytes:
    """Send ``data`` at once, read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(data)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    return received


REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\nX-Test-Peer: s3cret 6.6.6.6\r\nConnection: keep-alive\r\n\r\n"


def test_the_peer_hook_tells_the_app_who_connected_once_per_connection(tagged: Listener) -> None:
    answer = _exchange(tagged.server_port, REQUEST + REQUEST)            # a second request pipelined
    assert answer.count(b"HTTP/1.1 200") == 1 and answer.endswith(b"s3cret 127.0.0.1")
    assert b"6.6.6.6" not in answer and b"connection: close" in answer.lower()


def test_without_a_peer_header_the_front_adds_nothing(plain: Listener) -> None:
    answer = _exchange(plain.server_port, REQUEST.replace(b"keep-alive", b"close"))
    assert answer.endswith(b"s3cret 6.6.6.6")                              # as sent: nothing written in


def test_the_socket_directory_is_private_and_removed_at_shutdown() -> None:
    name = f"listener-{secrets.token_hex(4)}"
    server = Listener(_echo_peer, "127.0.0.1", 0, None, ListenerSettings(name, ADJUSTMENTS, LIMITS))
    (directory,) = Path(tempfile.gettempdir()).glob(f"invigil-{name}-*")
    assert directory.stat().st_mode & 0o777 == 0o700
    server.shutdown()
    server.shutdown()                                                      # idempotent
    assert not directory.exists()
