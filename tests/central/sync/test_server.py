"""The sync API's production server: waitress behind the in-process TLS front, on real loopback sockets.

What the app answers is tested in test_sync.py (whose hub runs on this same server); here: TLS,
keep-alive, size limits, no request body on disk, the private back-end socket, hostile clients,
parallel connections, shutdown, and the real ``serve`` command over TLS.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from exam_core.sync_wire import UPLOAD_MAX_BYTES
from item_bank_sync.sync.api import create_app
from item_bank_sync.sync.server import SyncServer, tls_context
from tests.support.ports import find_free_port, wait_for_port
from tests.support.central_world import build_world

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return build_world(tmp_path_factory.mktemp("serve") / "central")


@pytest.fixture(scope="module")
def hub(world):
    context, fingerprint = tls_context(world.data_dir)
    server = SyncServer(create_app(world.data_dir), "127.0.0.1", 0, context)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, fingerprint
    server.shutdown()


def connect(port: int, timeout: float = 10) -> http.client.HTTPSConnection:
    """An HTTPS connection trusting any certificate: each test checks the pin itself."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=timeout)


def peer_fingerprint(conn: http.client.HTTPSConnection) -> str:
    return hashlib.sha256(conn.sock.getpeercert(binary_form=True)).hexdigest()


def test_https_keep_alive_pinned_certificate_and_json_errors(hub):
    server, fingerprint = hub
    conn = connect(server.server_port)
    for _ in range(3):  # one connection, several requests
        conn.request("GET", "/v1/packages")
        response = conn.getresponse()
        assert response.status == 401
        assert json.loads(response.read()) == {"error": "missing authentication headers"}
        assert response.getheader("Server") is None  # waitress's ident is off
    assert peer_fingerprint(conn) == fingerprint
    conn.close()


def test_oversized_body_is_refused_from_its_length(hub):
    server, _ = hub
    conn = connect(server.server_port)
    conn.putrequest("POST", "/v1/envelopes")
    conn.putheader("Content-Length", str(UPLOAD_MAX_BYTES + 1))
    conn.endheaders()  # not a byte of the announced body is sent
    response = conn.getresponse()
    assert response.status == 413


def test_upload_bodies_never_spill_to_a_temporary_file(hub, monkeypatch):
    """waitress spools a request body over ``inbuf_overflow`` (512 KB by default) to a temporary
    file; upload batches carry envelopes, so they must stay in memory. Spied on
    ``tempfile.TemporaryFile``, which waitress looks up at each use (the file it makes is unlinked
    at once, so the disk keeps no trace to check)."""
    made = []
    real = tempfile.TemporaryFile

    def recording(*a, **k):
        made.append(a)
        return real(*a, **k)

    monkeypatch.setattr(tempfile, "TemporaryFile", recording)
    server, _ = hub
    conn = connect(server.server_port, timeout=60)
    conn.request("POST", "/v1/envelopes", body=os.urandom(8 * 1024 * 1024),
                 headers={"Content-Type": "application/json"})
    assert conn.getresponse().status == 401
    assert made == []


def test_plain_side_is_a_private_unix_socket(hub):
    server, _ = hub
    backend = Path(server._socket_dir) / "http.sock"
    assert stat.S_ISSOCK(backend.stat().st_mode)
    assert stat.S_IMODE(Path(server._socket_dir).stat().st_mode) == 0o700
    assert stat.S_IMODE(backend.stat().st_mode) == 0o600


def test_clients_that_do_not_speak_tls_are_dropped_and_service_goes_on(hub):
    server, _ = hub
    with socket.create_connection(("127.0.0.1", server.server_port), timeout=15) as raw:
        raw.sendall(b"GET /v1/packages HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            answer = raw.recv(4096)
        except ConnectionResetError:
            answer = b""
        assert b"HTTP/1.1" not in answer  # no plaintext answer on the TLS port
    with socket.create_connection(("127.0.0.1", server.server_port), timeout=15):
        pass  # connects and hangs up without a handshake
    conn = connect(server.server_port)
    conn.request("GET", "/v1/revocations")
    assert conn.getresponse().status == 401


def test_parallel_keep_alive_connections_are_all_answered(hub):
    server, _ = hub
    statuses: list[int] = []
    errors: list[BaseException] = []

    def client() -> None:
        try:
            conn = connect(server.server_port, timeout=30)
            for _ in range(5):
                conn.request("GET", "/v1/packages")
                response = conn.getresponse()
                response.read()
                statuses.append(response.status)
            conn.close()
        except BaseException as exc:  # collected: an exception in a thread would vanish
            errors.append(exc)

    threads = [threading.Thread(target=client) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and statuses == [401] * 80


def test_shutdown_closes_the_port_and_removes_the_socket(world):
    context, _ = tls_context(world.data_dir)
    server = SyncServer(create_app(world.data_dir), "127.0.0.1", 0, context)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port, socket_dir = server.server_port, Path(server._socket_dir)
    conn = connect(port)
    conn.request("GET", "/v1/packages")
    assert conn.getresponse().status == 401
    started = time.monotonic()
    server.shutdown()
    thread.join(10)
    assert not thread.is_alive() and time.monotonic() - started < 10
    assert not socket_dir.exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_serve_command_over_tls(world):
    """``python -m item_bank_sync serve`` (no --insecure-dev) in its own process answers over TLS
    with the certificate whose fingerprint it prints."""
    port = find_free_port()
    process = subprocess.Popen([sys.executable, "-m", "item_bank_sync", "--data", str(world.data_dir), "serve",
                                "--port", str(port)], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    try:
        wait_for_port(port, process=process)
        conn = connect(port)
        conn.request("GET", "/v1/packages")
        response = conn.getresponse()
        assert response.status == 401 and json.loads(response.read())["error"]
        fingerprint = peer_fingerprint(conn)
        conn.close()
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=15)
    assert f"https://127.0.0.1:{port}" in stderr and fingerprint in stderr.replace("\n", "")
