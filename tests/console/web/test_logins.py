"""Ending a login ends its dashboard sockets: real console process, real python-socketio clients.

A login is closed by logout, by a centre admin disabling the account or resetting its password
(web: at once), by the CLI in another process, or by expiry (the server's sweeper drops the socket within a
sweep). A copy of the ended session cookie opens nothing any more, page or socket.
"""

from __future__ import annotations

import functools
import re

import pytest
import requests
import socketio

from exam_core import protocol
from exam_core.store import immediate_transaction
from proctor_console.context import ConsoleContext
from proctor_console.logins import SESSION_HOURS
from tests.support.console_world import ADMIN, PASSWORD, PROCTOR, PROCTOR2, RunningConsole, cli, wait_until

pytestmark = pytest.mark.slow


def _disconnected(client: socketio.Client) -> bool:
    return not client.connected


def _csrf(session: requests.Session, url: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', session.get(url + "/dashboard").text).group(1)


def _act(client: socketio.Client, csrf: str) -> dict:
    """A harmless action (an incident note) that only a live login may perform."""
    return client.call("action", {"csrf": csrf, "type": "incident", "category": "other", "text": "login test"},
                       namespace=protocol.PROCTOR_NAMESPACE, timeout=15)


def _refusal(url: str, cookie: str, csrf: str) -> object:
    """Connect to /proctor with a given cookie; returns the server's refusal (fails if it connects)."""
    client = socketio.Client(ssl_verify=False, reconnection=False)
    refusals: list = []
    client.on("connect_error", refusals.append, namespace=protocol.PROCTOR_NAMESPACE)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(url, namespaces=[protocol.PROCTOR_NAMESPACE], headers={"Cookie": cookie}, auth={"csrf": csrf},
                       transports=["websocket"], wait_timeout=10)
    return refusals[0]


def _cookie(session: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def test_logout_disconnects_that_logins_socket_and_its_cookie_is_dead(running_console: RunningConsole) -> None:
    url = running_console.url
    first, second = running_console.login(PROCTOR), running_console.login(PROCTOR)
    client, csrf, received = running_console.proctor_socket(first)
    other, other_csrf, _ = running_console.proctor_socket(second)
    assert _act(client, csrf)["ok"] and any(event == protocol.PROCTOR_SNAPSHOT for event, _ in received)
    old_cookie = _cookie(first)

    reply = first.post(url + "/logout", data={"csrf": csrf}, allow_redirects=False)
    assert reply.status_code == 302
    wait_until(lambda: not client.connected, timeout=3)  # at once, not at the next sweep
    with pytest.raises(socketio.exceptions.SocketIOError):
        _act(client, csrf)

    assert other.connected and _act(other, other_csrf)["ok"]  # the same user's other login lives on

    replay = requests.Session()
    replay.verify, replay.trust_env = False, False
    replay.headers["Cookie"] = old_cookie
    assert replay.get(url + "/dashboard", allow_redirects=False).status_code == 302  # to /login
    assert _refusal(url, old_cookie, csrf) == {"message": "not logged in"}
    other.disconnect()


def test_disabling_an_account_on_the_users_page_drops_all_its_sockets(running_console: RunningConsole) -> None:
    url = running_console.url
    sockets = [running_console.proctor_socket(running_console.login(PROCTOR2)) for _ in range(2)]
    bystander, bystander_csrf, _ = running_console.proctor_socket(running_console.login(PROCTOR))
    admin = running_console.login(ADMIN)
    reply = admin.post(url + "/admin/users", data={"csrf": _csrf(admin, url), "do": "disable", "name": PROCTOR2})
    assert reply.status_code == 200 and "disabled" in reply.text
    for client, _, _ in sockets:
        wait_until(functools.partial(_disconnected, client), timeout=3)
    assert bystander.connected and _act(bystander, bystander_csrf)["ok"]

    reply = admin.post(url + "/admin/users", data={"csrf": _csrf(admin, url), "do": "enable", "name": PROCTOR2})
    assert reply.status_code == 200
    for client, csrf, _ in sockets:  # enabling again revives no old login
        with pytest.raises(socketio.exceptions.SocketIOError):
            _act(client, csrf)
    fresh, fresh_csrf, _ = running_console.proctor_socket(running_console.login(PROCTOR2))
    assert _act(fresh, fresh_csrf)["ok"]
    fresh.disconnect()
    bystander.disconnect()


def test_an_account_disabled_by_the_cli_loses_its_socket_and_cannot_act(running_console: RunningConsole) -> None:
    client, csrf, _ = running_console.proctor_socket(running_console.login(PROCTOR2))
    assert _act(client, csrf)["ok"]
    cli(running_console.setup.data, "users", "disable", PROCTOR2, "--by", "it-desk")  # another process
    try:
        refused = _act(client, csrf)  # before the sweeper has dropped it: refused by the per-action check
        assert refused == {"ok": False, "error": "not logged in", "code": "unauthorised"}
    except socketio.exceptions.SocketIOError:
        pass  # the sweeper was quicker
    wait_until(lambda: not client.connected, timeout=12)  # within two sweeps
    cli(running_console.setup.data, "users", "enable", PROCTOR2, "--by", "it-desk")


def test_a_password_reset_and_an_expired_login_drop_their_sockets(running_console: RunningConsole) -> None:
    url, data = running_console.url, running_console.setup.data
    reset_client, _reset_csrf, _ = running_console.proctor_socket(running_console.login(PROCTOR))
    admin = running_console.login(ADMIN)
    reply = admin.post(url + "/admin/users", data={"csrf": _csrf(admin, url), "do": "reset_password", "name": PROCTOR,
                                                   "password": PASSWORD, "password_confirm": PASSWORD})
    assert reply.status_code == 200
    wait_until(lambda: not reset_client.connected, timeout=3)

    expiring = running_console.login(PROCTOR)
    client, csrf, _ = running_console.proctor_socket(expiring)
    assert _act(client, csrf)["ok"]
    ctx = ConsoleContext(data)
    with immediate_transaction(ctx.db) as conn:  # as if it had been opened 12 hours ago
        conn.execute("UPDATE logins SET started = started - ? WHERE ended IS NULL AND user = ?",
                     [SESSION_HOURS * 3600 + 1, PROCTOR])
    wait_until(lambda: not client.connected, timeout=12)  # the sweeper, within two sweeps
    assert expiring.get(url + "/dashboard", allow_redirects=False).status_code == 302
