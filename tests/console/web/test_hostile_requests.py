"""What a hostile or careless user of the console's web face can do to a real console process, and
what it can no longer do: act on the alerts and incidents of a candidate one declared a conflict
with (issue 13, M4), run any dashboard action through the incident form, stall the dashboard and
log the CSRF token with an out-of-range alert id (item 14), probe user names and lock accounts at
the login (item 14), send large bodies before a login, and reach the console without HSTS (item 15).

Real parts: the console server process on 127.0.0.1 over TLS, python-socketio proctor sockets,
requests sessions, a simulated kiosk, and Chromium where the defect is on a page.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

import requests

from exam_core import pairing, protocol
from tests.support.console_world import (PASSWORD, PROCTOR, PROCTOR2, RunningConsole, cli, console_tab,
                                         session_from, wait_until)

pytestmark = pytest.mark.slow


def _db(running: RunningConsole) -> sqlite3.Connection:
    return sqlite3.connect(running.setup.data / "console.db")


class Proctor:
    """A logged-in proctor's dashboard socket: ``act`` sends one action and returns the reply."""

    def __init__(self, running: RunningConsole, user: str) -> None:
        self.session = running.login(user)
        self.socket, self.csrf, self.received = running.proctor_socket(self.session)

    def act(self, **payload: Any) -> dict[str, Any]:
        return self.socket.call("action", {"csrf": self.csrf, **payload}, namespace=protocol.PROCTOR_NAMESPACE,
                                timeout=20)

    def close(self) -> None:
        self.socket.disconnect()


@pytest.fixture
def proctors(running_console: RunningConsole):
    paula, peter = Proctor(running_console, PROCTOR), Proctor(running_console, PROCTOR2)
    try:
        yield paula, peter
    finally:
        paula.close()
        peter.close()


# --- M4: the conflict check on every action on a candidate -------------------------------------------

def test_declared_conflict_covers_the_candidates_alerts_and_incidents(running_console: RunningConsole,
                                                                      proctors: tuple[Proctor, Proctor]) -> None:
    paula, peter = proctors
    kiosk = running_console.kiosk("kiosk-m4")
    admitted = peter.act(type="admit", kiosk_id="kiosk-m4", candidate_id="cand-2", package_id="pkg-open",
                         identity_checked=True)
    assert admitted["ok"], admitted
    attempt_id = admitted["result"]["attempt_id"]
    wait_until(lambda: kiosk.attempt_id == attempt_id)
    assert paula.act(type="declare_conflict", candidate_id="cand-2", reason="my nephew")["ok"]
    for _ in range(2):
        assert kiosk.send_event(kiosk.make_event("face.multiple", "high", rule="more_than_one_face",
                                                 evidence={"faces": 2}))["ok"]
    alert_id = _db(running_console).execute("SELECT alert_id FROM alerts WHERE attempt_id = ?",
                                            [attempt_id]).fetchone()[0]

    for refused in (paula.act(type="alert_dismiss", alert_id=alert_id, reason="nothing to see"),
                    paula.act(type="alert_ack", alert_id=alert_id, reason="seen"),
                    paula.act(type="incident", category="misconduct", text="all fine", kiosk_id="kiosk-m4"),
                    paula.act(type="incident", category="misconduct", text="all fine", attempt_id=attempt_id)):
        assert refused["ok"] is False and refused["code"] == "forbidden", refused
        assert "conflict of interest" in refused["error"]
    form = paula.session.get(running_console.url + "/incidents")
    import re
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    form_data = {"csrf": token, "category": "misconduct", "text": "all fine", "kiosk_id": "kiosk-m4"}
    page = paula.session.post(running_console.url + "/incidents", data=form_data)
    assert page.status_code == 403 and "conflict of interest" in page.text

    db = _db(running_console)
    assert db.execute("SELECT status FROM alerts WHERE alert_id = ?", [alert_id]).fetchone() == ("open",)
    assert db.execute("SELECT COUNT(*) FROM incidents WHERE attempt_id = ?", [attempt_id]).fetchone() == (0,)
    # another proctor acts; the room-wide report (no candidate) stays open to everyone
    assert peter.act(type="alert_ack", alert_id=alert_id, reason="two faces: the invigilator passing")["ok"]
    assert peter.act(type="incident", category="misconduct", text="checked", kiosk_id="kiosk-m4")["ok"]
    assert paula.act(type="incident", category="environment", text="fire drill at 10:05")["ok"]
    assert db.execute("SELECT resolved_by FROM alerts WHERE alert_id = ?", [alert_id]).fetchone() == ("peter",)
    assert db.execute("SELECT author FROM incidents WHERE attempt_id = ?", [attempt_id]).fetchall() == [("peter",)]
    kiosk.disconnect()


# --- item 14: an out-of-range alert id ----------------------------------------------------------------

def test_out_of_range_alert_id_is_answered_and_nothing_is_logged(running_console: RunningConsole,
                                                                 proctors: tuple[Proctor, Proctor]) -> None:
    paula, _ = proctors
    log = running_console.server.log
    before = log.stat().st_size
    for alert_id in (2**70, -1, 0, 2**63):
        reply = paula.act(type="alert_ack", alert_id=alert_id, reason="x")  # answered, not timed out
        assert reply["ok"] is False and reply["code"] == "invalid" and "alert_id" in reply["error"]
    missing = paula.act(type="alert_dismiss", alert_id=2**63 - 1, reason="x")
    assert missing["ok"] is False and missing["code"] == "not_found"
    text = log.read_bytes()[before:].decode(errors="replace")
    assert "Traceback" not in text and paula.csrf[:8] not in text, text


# --- item 14: the incident form runs the incident action, whatever its fields ---------------------------

@pytest.mark.browser
def test_incident_form_with_a_type_field_records_an_incident_and_nothing_else(
        browser, running_console: RunningConsole) -> None:
    url, db = running_console.url, _db(running_console)
    pauses = db.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'session.mass_pause'").fetchone()[0]
    with console_tab(browser) as page:
        page.goto(url + "/login")
        page.fill("input[name=name]", PROCTOR)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(url + "/dashboard")
        page.goto(url + "/incidents")
        # what a proctor's browser can add to the form (the page itself offers no such field)
        page.evaluate("""() => {
            const form = document.querySelector('form.card');
            for (const [name, value] of [['type', 'mass_pause'], ['reason', 'forged']]) {
                const input = document.createElement('input');
                input.type = 'hidden'; input.name = name; input.value = value; form.appendChild(input);
            }
        }""")
        page.select_option("select[name=category]", "technical")
        page.fill("textarea[name=text]", "the printer jams")
        with page.expect_response(lambda r: r.url.endswith("/incidents") and r.request.method == "POST") as answer:
            page.click("form.card button[type=submit]")
        assert answer.value.status == 200
        assert "recorded" in page.inner_text("body")
    assert db.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'session.mass_pause'").fetchone()[0] == pauses
    assert db.execute("SELECT category FROM incidents WHERE text = 'the printer jams'").fetchall() == [("technical",)]


# --- item 14: the login tells no names apart and locks no one out ---------------------------------------

def _try_login(running: RunningConsole, session: requests.Session, name: str, password: str) -> tuple[int, str]:
    """One login through the login form: the status and the page's error line."""
    import re
    page = session.get(running.url + "/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    reply = session.post(running.url + "/login", data={"csrf": token, "name": name, "password": password},
                         allow_redirects=False)
    error = re.search(r'class="error"[^>]*>([^<]*)<', reply.text)
    return reply.status_code, error.group(1) if error else ""


def test_login_tells_no_names_apart_and_locks_no_one_out(running_console: RunningConsole) -> None:
    data = running_console.setup.data
    cli(data, "users", "add", "dora", "--role", "proctor", "--password-stdin", stdin=PASSWORD + "\n")
    cli(data, "users", "disable", "dora", "--by", "test")
    guesser = session_from("127.0.0.2")
    answers = {_try_login(running_console, guesser, name, "wrong password!!")
               for name in ("nobody-here", "dora", PROCTOR2)}
    assert answers == {(401, "wrong user name or password")}  # unknown, disabled, wrong: the same words
    assert _try_login(running_console, guesser, "dora", PASSWORD) == (401, "wrong user name or password")

    for name in (PROCTOR2, "nobody-here"):  # five wrong guesses: the guesser's address is held back
        for _ in range(4):
            _try_login(running_console, guesser, name, "a guess")
        status, error = _try_login(running_console, guesser, name, PASSWORD)
        assert status == 401 and error.startswith("too many failed logins with this name from this computer")
    # ...the same way for a name that exists and one that does not, and for no one else
    assert running_console.login(PROCTOR2) is not None  # peter at his own desk (127.0.0.1) logs in
    assert _try_login(running_console, session_from("127.0.0.3"), PROCTOR2, PASSWORD)[0] == 302


# --- item 15: small bodies before a login, HSTS -----------------------------------------------------------

def _raw_post(running: RunningConsole, path: str, announced: int, sent: int, cookie: str = "") -> tuple[bytes, float]:
    """POST announcing ``announced`` body bytes and sending ``sent``: the answer's status line, and
    how long until the console closed the connection (the rest of the body is never sent)."""
    import socket
    import ssl
    import time
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with context.wrap_socket(socket.create_connection(("127.0.0.1", running.server.port), timeout=20)) as tls:
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {announced}\r\n{cookie and f'Cookie: {cookie}' + chr(13) + chr(10)}\r\n")
        start = time.monotonic()
        tls.sendall(head.encode() + b"a" * sent)
        answer = b""
        while True:
            chunk = tls.recv(65536)
            if not chunk:
                return answer.split(b"\r\n", 1)[0], time.monotonic() - start
            answer += chunk


def test_bodies_are_small_until_a_login_and_hsts_is_sent(running_console: RunningConsole) -> None:
    url = running_console.url
    reply = requests.get(url + "/login", verify=False, timeout=10)
    assert reply.headers["Strict-Transport-Security"] == "max-age=31536000"
    six_hundred_mib = 600 * 1024 * 1024
    for path in ("/login", "/admin", "/incidents", pairing.PAIR_PATH):  # anyone, before a login
        status, closed_after = _raw_post(running_console, path, six_hundred_mib, 256 * 1024)
        assert status.startswith(b"HTTP/1.1 413 ") and closed_after < 10, (path, status, closed_after)

    proctor = running_console.login(PROCTOR)
    cookie = "; ".join(f"{c.name}={c.value}" for c in proctor.cookies)
    status, _ = _raw_post(running_console, "/incidents", 3 * 1024 * 1024, 64 * 1024, cookie)
    assert status.startswith(b"HTTP/1.1 413 ")  # a proctor's forms are small too
    admin = running_console.login("admin")
    upload = admin.post(url + "/admin", files={"files": ("big.zip", b"\0" * (3 * 1024 * 1024))},
                        data={"do": "packages", "csrf": _page_csrf(admin, url + "/admin")})
    assert upload.status_code == 400 and "Refused" in upload.text  # read whole: no package, but no 413 either
    assert upload.headers["Strict-Transport-Security"] == "max-age=31536000"


def _page_csrf(session: requests.Session, page_url: str) -> str:
    import re
    return re.search(r'name="csrf" value="([^"]+)"', session.get(page_url).text).group(1)
