"""Logins, cookies, CSRF, roles and security headers on the web face (in-process: the Flask app
through its test client, threading mode, no sockets; the socket side is covered against a real
server in link/test_kiosk_socket.py and web/test_logins.py)."""

from __future__ import annotations

import pytest

from proctor_console.app import Console
from tests.support.console_world import ADMIN, PASSWORD, PROCTOR, app_client, app_login, form_csrf

_client, _csrf, _login = app_client, form_csrf, app_login


def test_cookies_headers_and_csrf(server: Console) -> None:
    client = _client(server)
    assert client.post("/login", data={"name": PROCTOR, "password": PASSWORD}).status_code == 400
    client, reply = _login(server, PROCTOR)
    assert reply.status_code == 302
    cookie = reply.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Strict" in cookie
    page = client.get("/dashboard")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in page.get_data(as_text=True)  # no inline scripts at all
    assert client.post("/incidents", data={"category": "other", "text": "x"}).status_code == 400
    csrf = _csrf(client, "/incidents")
    assert client.post("/incidents", data={"csrf": csrf, "category": "other", "text": "noise"}).status_code == 200


def test_roles_on_routes(server: Console) -> None:
    proctor, _ = _login(server, PROCTOR)
    assert proctor.get("/admin").status_code == 403
    admin, _ = _login(server, ADMIN)
    assert admin.get("/admin").status_code == 200
    anonymous = _client(server)
    assert anonymous.get("/dashboard").status_code == 302
    assert anonymous.get("/sessions/pkg-open/report.json").status_code in (302, 401)


def test_login_backs_off_the_guessing_address_only(server: Console) -> None:
    """Five wrong passwords hold the name back at the address that typed them (each further try
    waits, doubling), never the account: the same user logs in from another desk at once."""
    server.core.accounts.add("lockme", "proctor", PASSWORD, by="test")
    for _ in range(5):
        assert _login(server, "lockme", "wrong password!!", address="10.0.0.66")[1].status_code == 401
    _client, reply = _login(server, "lockme", PASSWORD, address="10.0.0.66")
    assert reply.status_code == 401 and "locked for" in reply.get_data(as_text=True)
    assert _login(server, "lockme", PASSWORD, address="10.0.0.7")[1].status_code == 302
    failed = [e.data for e in server.ctx.audit.entries() if e.action == "login.failed" and e.data["name"] == "lockme"]
    assert len(failed) == 5 and failed[-1]["held_seconds"] == 30 and failed[-2]["held_seconds"] == 0


@pytest.mark.parametrize("path, status", [("/sessions/pkg-none/report.json", 404), ("/sessions/pkg-none/report", 404)])
def test_a_refusal_is_answered_with_its_kind(server: Console, path: str, status: int) -> None:
    """A refused request no view turned into a page gets the status of its kind, and JSON asks
    get the kind's code too (``errors.http_status``, ``errors.socket_code``)."""
    proctor, _ = _login(server, PROCTOR)
    reply = proctor.get(path)
    assert reply.status_code == status and "no session 'pkg-none'" in reply.get_data(as_text=True)
    if path.endswith(".json"):
        assert reply.get_json() == {"ok": False, "error": reply.get_json()["error"], "code": "not_found"}
