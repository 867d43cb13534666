"""Accounts, CSRF, roles, headers, imports, key release rules, impartiality, retention (in-process).

These drive the Flask app through its test client and the action layer directly (threading mode,
no sockets): what they check does not depend on the transport, and the socket paths are covered
against a real server in test_kiosk_link.py.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from datetime import timedelta
from pathlib import Path

import pytest

from exam_core import keys, protocol
from exam_core.jsonio import b64e
from proctor_console.accounts import User
from proctor_console.app import Console, build_console
from proctor_console.context import ConsoleContext
from proctor_console.errors import ConsoleError
from proctor_console.passwords import hash_password, verify_password
from proctor_console.roster import parse_roster
from tests.support.console_world import (ADMIN, PASSWORD, PROCTOR, PROCTOR2, ConsoleSetup, app_client, app_login, cli,
                                         form_csrf, make_package)


@pytest.fixture(scope="module")
def server(console_setup: ConsoleSetup) -> Console:
    return build_console(ConsoleContext(console_setup.data), async_mode="threading")


_client, _csrf, _login = app_client, form_csrf, app_login


def _pair(server: Console, kiosk_id: str):
    code, _ = server.registry.new_code("test")
    signing_key, hpke_key = keys.generate_signing_key(), keys.generate_hpke_key(keys.SUITE_X25519)
    request = protocol.PairRequest(kiosk_id=kiosk_id, signing_key=keys.public_key_to_dict(signing_key.public_key()),
                                   hpke_key=keys.public_key_to_dict(hpke_key.public_key()),
                                   nonce=b64e(secrets.token_bytes(16)))
    reply = server.registry.pair(protocol.seal_pairing(code, protocol.PAIRING_REQUEST, request.to_dict()), "test")
    return protocol.PairResponse.from_dict(protocol.open_pairing(code, protocol.PAIRING_RESPONSE, reply)), hpke_key


def test_passwords_are_argon2id_salted_and_checked() -> None:
    digest, salt, params = hash_password("a long enough password")
    assert len(digest) == 32 and len(salt) == 16 and json.loads(params)["memory_cost"] >= 19 * 1024
    assert verify_password("a long enough password", digest, salt, params)
    assert not verify_password("a long enough passworD", digest, salt, params)
    assert hash_password("a long enough password")[0] != digest  # per-user salt
    with pytest.raises(Exception, match="at least"):
        hash_password("short")


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


def test_login_lockout_after_repeated_failures(server: Console) -> None:
    server.core.accounts.add("lockme", "proctor", PASSWORD, by="test")
    for _ in range(5):
        assert _login(server, "lockme", "wrong password!!")[1].status_code == 401
    client, reply = _login(server, "lockme", PASSWORD)
    assert reply.status_code == 401 and "locked" in reply.get_data(as_text=True)
    actions = [e.action for e in server.ctx.audit.entries()]
    assert "login.failed" in actions and "login.locked" in actions


def test_roster_validation_names_line_and_field() -> None:
    good = parse_roster(b"candidate_id,name,scheme,seat,accommodations\nc1,Ann,s1,A1,\n")
    assert good[0]["candidate_id"] == "c1"
    with pytest.raises(ConsoleError, match="line 3: name"):
        parse_roster(b"candidate_id,name,scheme,seat\nc1,Ann,s1,A1\nc2,,s1,A2\n")
    with pytest.raises(ConsoleError, match="line 2: accommodations.extra_time_percent"):
        parse_roster(b'candidate_id,name,scheme,seat,accommodations\nc1,Ann,s1,A1,"{""extra_time_percent"": 999}"\n')
    with pytest.raises(ConsoleError, match="appears twice"):
        parse_roster(b"candidate_id,name,scheme,seat\nc1,Ann,s1,A1\nc1,Bob,s1,A2\n")


def test_package_import_refuses_tampered_and_foreign(server: Console, console_setup: ConsoleSetup) -> None:
    data = bytearray(console_setup.packages["pkg-open"].read_bytes())
    index = data.find(b"Form 1")
    data[index] ^= 0x20
    with pytest.raises(ConsoleError):
        server.core.packages.import_package(bytes(data), "tampered.zip", "test")
    from exam_core.jsonio import utc_now
    from exam_core.package import build_form_package
    foreign, _ = build_form_package(b"x", package_id="pkg-foreign", form_id="f", form_version=1, scheme_id="scheme-a",
                                    centre_id="centre-2", opens=utc_now(), closes=utc_now() + timedelta(hours=1),
                                    signing_key=console_setup.central.key,
                                    centre_hpke_public=server.ctx.hpke_key.public_key())
    with pytest.raises(ConsoleError, match="centre-2"):
        server.core.packages.import_package(foreign, "foreign.zip", "test")


def test_key_release_window_release_code_and_conflicts(server: Console, console_setup: ConsoleSetup) -> None:
    later = make_package(console_setup, "pkg-later", opens_in=timedelta(hours=2), closes_in=timedelta(hours=5))
    coded = make_package(console_setup, "pkg-coded", release_code=True)
    for path in (later, coded):
        server.core.packages.import_package(path.read_bytes(), path.name, "test")
    paula, peter, admin = User(PROCTOR, "proctor"), User(PROCTOR2, "proctor"), User(ADMIN, "centre_admin")
    actions = server.actions
    _pair(server, "kiosk-w1")
    _pair(server, "kiosk-w2")

    actions.perform(paula, {"type": "admit", "kiosk_id": "kiosk-w1", "candidate_id": "cand-1",
                            "package_id": "pkg-later", "identity_checked": True})
    with pytest.raises(ConsoleError, match="opens at"):
        actions.perform(paula, {"type": "start", "kiosk_id": "kiosk-w1"})
    assert "key.release_refused" in [e.action for e in server.ctx.audit.entries()]

    actions.perform(paula, {"type": "declare_conflict", "candidate_id": "cand-2", "reason": "my cousin"})
    admit = {"type": "admit", "kiosk_id": "kiosk-w2", "candidate_id": "cand-2", "package_id": "pkg-coded",
             "identity_checked": True}
    with pytest.raises(ConsoleError, match="conflict of interest"):
        actions.perform(paula, admit)
    actions.perform(peter, admit)
    with pytest.raises(ConsoleError, match="release code"):
        actions.perform(peter, {"type": "start", "kiosk_id": "kiosk-w2"})
    with pytest.raises(ConsoleError, match="centre admin"):
        actions.perform(peter, {"type": "release_code", "package_id": "pkg-coded", "code": "x"})
    with pytest.raises(ConsoleError, match="refused"):
        actions.perform(admin, {"type": "release_code", "package_id": "pkg-coded", "code": "2345-6789-ABCD-EFGH"})
    actions.perform(admin, {"type": "release_code", "package_id": "pkg-coded",
                            "code": console_setup.release_codes["pkg-coded"]})
    with pytest.raises(ConsoleError, match="conflict of interest"):
        actions.perform(paula, {"type": "start", "kiosk_id": "kiosk-w2"})
    with pytest.raises(ConsoleError, match="centre admin"):
        actions.perform(peter, {"type": "override_conflict", "proctor": PROCTOR, "candidate_id": "cand-2", "reason": "x"})
    actions.perform(admin, {"type": "override_conflict", "proctor": PROCTOR, "candidate_id": "cand-2",
                            "reason": "no other proctor in the room"})
    started = actions.perform(paula, {"type": "start", "kiosk_id": "kiosk-w2"})
    body = json.loads(server.ctx.db.execute("SELECT body FROM commands WHERE command_id = ?",
                                            [started["command_id"]]).fetchone()[0])
    assert body["type"] == "start" and body["args"]["wrapped_key"]
    audit = [(e.actor, e.action) for e in server.ctx.audit.entries()]
    assert (ADMIN, "conflict.override") in audit and (PROCTOR, "key.release") in audit
    server.ctx.audit.checkpoint(server.ctx.signing_key)
    assert server.ctx.audit.verify(server.ctx.signing_key.public_key()).entries == len(audit)


def test_retention_purges_old_media(server: Console) -> None:
    old = server.ctx.media_dir / "snapshots" / "kiosk-x-1.jpg"
    new = server.ctx.media_dir / "thumbnails" / "kiosk-x.jpg"
    old.write_bytes(b"\xff\xd8old")
    new.write_bytes(b"\xff\xd8new")
    os.utime(old, (time.time() - 40 * 86400,) * 2)
    removed = server.core.retention.purge("test", days=30)
    assert removed == {"thumbnails": 0, "snapshots": 1} and not old.exists() and new.exists()


def test_cli_report_and_refusals(console_setup: ConsoleSetup, tmp_path: Path) -> None:
    report = json.loads(cli(console_setup.data, "report", "pkg-open", "--json"))
    assert report["session"]["session_id"] == "pkg-open" and report["summary"]["roster"] == 3
    html = cli(console_setup.data, "report", "pkg-open")
    assert "<h1>Session report</h1>" in html
    with pytest.raises(AssertionError, match="already holds a console"):
        cli(console_setup.data, "init", "--centre-id", "centre-1", "--name", "Again")
    other = tmp_path / "other"
    cli(other, "init", "--centre-id", "centre-9", "--name", "Other")
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(console_setup.central.certify_centre(
        (console_setup.data / "enrolment-request.json").read_bytes())))
    with pytest.raises(AssertionError, match="centre-1"):
        cli(other, "certificate", "install", str(bundle))


def test_admin_uploads_roster_and_packages_in_the_web_ui(server: Console, console_setup: ConsoleSetup) -> None:
    import io
    admin, _ = _login(server, ADMIN)
    csrf = _csrf(admin, "/admin")
    reply = admin.post("/admin", data={"csrf": csrf, "do": "roster", "file": (io.BytesIO(
        b"candidate_id,name,scheme,seat\ncand-9,Edsger Dijkstra,scheme-a,B1\n"), "roster.csv")},
        content_type="multipart/form-data")
    assert "Imported 1 candidate" in reply.get_data(as_text=True)
    path = make_package(console_setup, "pkg-web")
    reply = admin.post("/admin", data={"csrf": csrf, "do": "packages", "files": (io.BytesIO(path.read_bytes()), path.name)},
                       content_type="multipart/form-data")
    assert "pkg-web" in reply.get_data(as_text=True)
    reply = admin.post("/admin", data={"csrf": csrf, "do": "pair"})
    assert re.search(r'id="pairing-code">[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}<', reply.get_data(as_text=True))
    proctor, _ = _login(server, PROCTOR)
    assert proctor.post("/admin", data={"csrf": _csrf(proctor, "/incidents"), "do": "pair"}).status_code == 403
