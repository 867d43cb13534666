"""The candidate UI's server (waitress on 127.0.0.1): one kept-alive connection carries every save,
limits hold at the socket, and shutdown ends it from another thread."""

from __future__ import annotations

import http.client
import io
import json
import os
import re
import sqlite3
import tempfile
import threading

import pytest
from flask import Flask
from werkzeug.test import EnvironBuilder, run_wsgi_app

from kiosk.webapp import MAX_REQUEST_BYTES, create_app, make_ui_server

from tests.support.kiosk_world import World, make_runtime, start_exam


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

    def recording(*a, **k):
        made.append(a)
        return real(*a, **k)

    monkeypatch.setattr(tempfile, "TemporaryFile", recording)
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


def _save(conn, token, body, headers=None, method="POST", path="/api/answer"):
    sent = {"Content-Type": "application/json", **({"X-Kiosk-Token": token} if token else {}), **(headers or {})}
    conn.request(method, path, body if isinstance(body, bytes) else json.dumps(body), sent)
    reply = conn.getresponse()
    return reply, json.loads(reply.read())


def _journal_rows(runtime) -> list[tuple[int]]:
    """The committed journal rows, read through a second connection: only a commit shows there."""
    path = runtime.db.execute("PRAGMA database_list").fetchone()[2]
    other = sqlite3.connect(path)
    try:
        return other.execute("SELECT seq FROM journal ORDER BY seq").fetchall()
    finally:
        other.close()


SECURITY = {"Content-Security-Policy": "default-src 'none'; script-src 'self'", "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
            "Cross-Origin-Resource-Policy": "same-origin"}


def _assert_secured(reply) -> None:
    for name, value in SECURITY.items():
        assert (reply.getheader(name) or "").startswith(value), name


def test_saved_is_replied_after_the_commit_and_every_reply_is_secured(served):
    runtime, server, _ = served
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    token = _token(conn)
    reply, data = _save(conn, token, {"item_id": "Q03", "response_id": "R1", "value": "committed"})
    assert reply.status == 200 and data["saved"] is True
    assert reply.getheader("Content-Type") == "application/json"
    assert (data["seq"],) in _journal_rows(runtime)
    _assert_secured(reply)
    for path in ("/", "/api/state"):
        conn.request("GET", path, headers={"X-Kiosk-Token": token})
        page = conn.getresponse()
        page.read()
        assert page.status == 200
        _assert_secured(page)


def test_actions_refuse_foreign_requests_and_journal_nothing(served):
    runtime, server, _ = served
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    token = _token(conn)
    before = _journal_rows(runtime)
    body = {"item_id": "Q03", "response_id": "R1", "value": "forged"}
    port = server.server_port
    refused = [
        (None, {}, "POST", 403, "token"),
        ("x" * 43, {}, "POST", 403, "token"),
        (token, {"Origin": "http://exam.example"}, "POST", 403, "origin"),
        (token, {"Origin": f"http://127.0.0.1:{port + 1}"}, "POST", 403, "origin"),
        (token, {"Host": f"exam.example:{port}"}, "POST", 403, "host"),
        (token, {"Host": "127.0.0.1:99999"}, "POST", 403, "host"),
        (token, {}, "GET", 405, "method"),
    ]
    for sent, headers, method, status, field in refused:
        reply, data = _save(conn, sent, body, headers, method)
        assert (reply.status, data["ok"], data["field"]) == (status, False, field), (sent, headers, method)
        _assert_secured(reply)
    reply, _ = _save(conn, token, body, {"Origin": f"http://127.0.0.1:{port}"})
    assert reply.status == 200  # the page's own origin
    assert len(_journal_rows(runtime)) == len(before) + 1
    assert runtime.session.state.answers["Q03"]["R1"] == "forged"


@pytest.mark.parametrize(("body", "field"), [
    (b"{not json", "<body>"),
    (b"[1, 2]", "<body>"),
    (b'{"item_id": "Q03", "item_id": "Q04", "response_id": "R1", "value": "x"}', "<body>"),
    (b'{"item_id": 3, "response_id": "R1", "value": "x"}', "item_id"),
    (b'{"item_id": "Q03", "response_id": "R1", "value": ["not", "text"]}', "value"),
    (b'{"item_id": "Q99", "response_id": "R1", "value": "x"}', "item_id"),
    (b"", "item_id"),
])
def test_action_bodies_are_parsed_strictly(served, body, field):
    runtime, server, _ = served
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    token = _token(conn)
    before = _journal_rows(runtime)
    reply, data = _save(conn, token, body)
    assert (reply.status, data["ok"], data["field"]) == (400, False, field)
    assert _journal_rows(runtime) == before


class _Endless(io.RawIOBase):
    """A request body that never ends: the app must stop at its limit or not read it at all."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        buffer[:] = b"{" * len(buffer)
        return len(buffer)


def test_action_body_limit_holds_in_the_app_itself(tmp_path):
    """waitress refuses an oversized body first; the app holds the same limit on its own (another
    server, a chunked body without a length) and never reads a stream that has no end."""
    world = World(tmp_path)
    runtime = make_runtime(world, tmp_path)
    start_exam(runtime, world)
    try:
        client = create_app(runtime).test_client()
        token = re.search(r'name="kiosk-token" content="([^"]+)"', client.get("/").text).group(1)
        big = json.dumps({"item_id": "Q03", "response_id": "R1", "value": "x" * MAX_REQUEST_BYTES}).encode()
        reply = client.post("/api/answer", data=big, headers={"X-Kiosk-Token": token})
        assert (reply.status_code, reply.json["field"]) == (413, "<body>")
        for terminated, status, field in ((True, 413, "<body>"), (False, 400, "item_id")):
            environ = EnvironBuilder("/api/answer", method="POST", headers=[("X-Kiosk-Token", token)]).get_environ()
            environ.pop("CONTENT_LENGTH", None)  # a chunked body: no length, and this one never ends
            environ.update({"wsgi.input": _Endless(), "wsgi.input_terminated": terminated})
            app_iter, reply_status, _ = run_wsgi_app(client.application, environ, buffered=True)
            assert (int(reply_status.split()[0]), json.loads(b"".join(app_iter))["field"]) == (status, field)
        assert "R1" not in runtime.session.state.answers.get("Q03", {})
    finally:
        runtime.stop()
        runtime.db.conn.close()
