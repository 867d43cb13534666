"""The candidate UI's server (waitress on 127.0.0.1): one kept-alive connection carries every save,
limits hold at the socket, and shutdown ends it from another thread."""

from __future__ import annotations

import http.client
import json
import os
import re
import tempfile
import threading

import pytest
from flask import Flask

from kiosk.webapp import MAX_REQUEST_BYTES, create_app, make_ui_server

from tests.kiosk.world import World, make_runtime, start_exam


@pytest.fixture
def served(tmp_path):
    world = World(tmp_path)
    runtime = make_runtime(world, tmp_path)
    start_exam(runtime, world)
    server = make_ui_server(create_app(runtime), 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield runtime, server, thread
    server.shutdown()
    runtime.db.conn.close()


def _token(conn: http.client.HTTPConnection) -> str:
    conn.request("GET", "/")
    reply = conn.getresponse()
    return re.search(r'name="kiosk-token" content="([^"]+)"', reply.read().decode()).group(1)


def test_saves_share_one_kept_alive_connection(served):
    runtime, server, _ = served
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    token = _token(conn)
    local = conn.sock.getsockname()
    for n in range(20):
        conn.request("POST", "/api/answer", json.dumps({"item_id": "Q03", "response_id": "R1", "value": f"v{n}"}),
                     {"Content-Type": "application/json", "X-Kiosk-Token": token})
        reply = conn.getresponse()
        assert reply.status == 200 and json.loads(reply.read())["saved"] is True
        assert (reply.getheader("Connection") or "").lower() != "close"
        assert reply.getheader("Server") is None
    assert conn.sock is not None and conn.sock.getsockname() == local  # never reconnected
    assert runtime.session.state.answers["Q03"]["R1"] == "v19"


def test_oversized_bodies_and_foreign_hosts_are_refused(served):
    _, server, _ = served
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    token = _token(conn)
    conn.request("POST", "/api/answer", b"x" * (MAX_REQUEST_BYTES + 1),
                 {"Content-Type": "application/json", "X-Kiosk-Token": token})
    assert conn.getresponse().status == 413
    other = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    other.request("GET", "/", headers={"Host": "exam.example:80"})
    assert other.getresponse().status == 403


def test_shutdown_from_another_thread_closes_open_connections(served):
    _, server, thread = served
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    _token(conn)  # an idle kept-alive connection stays open
    server.shutdown()
    thread.join(5)
    assert not thread.is_alive()
    with pytest.raises(OSError):
        conn.request("GET", "/")
        conn.getresponse()


def test_large_responses_never_spill_to_a_temporary_file(monkeypatch):
    """waitress buffers a large response in a temporary file unless told otherwise; exam media
    must never reach the disk in plaintext. Spied on ``tempfile.TemporaryFile`` (which waitress
    imports at each use) because the file it would make is unlinked at once and leaves no trace."""
    made = []
    real = tempfile.TemporaryFile
    monkeypatch.setattr(tempfile, "TemporaryFile", lambda *a, **k: made.append(a) or real(*a, **k))
    blob = os.urandom(20 * 1024 * 1024)
    app = Flask("media")
    app.get("/figure")(lambda: blob)
    server = make_ui_server(app, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=30)
        conn.request("GET", "/figure")
        assert conn.getresponse().read() == blob
    finally:
        server.shutdown()
    assert made == []
