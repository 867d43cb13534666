"""User management on /admin/users (route level, in-process; the CLI's in cli/test_users.py).

The Flask test client drives the real app (threading mode, no sockets: the socket side of ending a
login is tested against a real server in web/test_logins.py). Accounts made here have their own
names, so the module-scoped console shared with other tests keeps its users.
"""

from __future__ import annotations

import itertools
import json
import re

import pytest

from proctor_console.app import Console
from proctor_console.errors import ConsoleError
from tests.support.console_world import ADMIN, PASSWORD, PROCTOR, app_client, app_login, form_csrf

NEW_PASSWORD = "a different long password"
ADDRESSES = itertools.count(1)


def _client(server: Console):
    # each client its own address: this module logs in more than the 20-per-minute address throttle allows
    n = next(ADDRESSES)
    return app_client(server, f"10.0.{n // 250}.{n % 250 + 1}")


def _csrf(client, path: str) -> str:
    return form_csrf(client, path)


def _login(server: Console, user: str, password: str = PASSWORD):
    n = next(ADDRESSES)
    client, reply = app_login(server, user, password, f"10.0.{n // 250}.{n % 250 + 1}")
    return client, reply.status_code


def _admin(server: Console):
    client, status = _login(server, ADMIN)
    assert status == 302
    return client, _csrf(client, "/admin/users")


def _post(client, csrf: str, **form):
    reply = client.post("/admin/users", data={"csrf": csrf, **form})
    return reply.status_code, reply.get_data(as_text=True)


def _audit(server: Console) -> list[tuple[str, str, dict]]:
    return [(e.actor, e.action, e.data) for e in server.ctx.audit.entries()]


def test_a_proctor_and_a_stranger_cannot_reach_the_users_page(server: Console) -> None:
    proctor, status = _login(server, PROCTOR)
    assert status == 302
    assert proctor.get("/admin/users").status_code == 403
    csrf = _csrf(proctor, "/incidents")
    assert proctor.post("/admin/users", data={"csrf": csrf, "do": "add", "name": "sneaky", "role": "centre_admin",
                                              "password": PASSWORD, "password_confirm": PASSWORD}).status_code == 403
    assert server.ctx.db.execute("SELECT 1 FROM users WHERE name = 'sneaky'").fetchone() is None
    stranger = _client(server)
    assert stranger.get("/admin/users").status_code == 302  # to the login page
    assert "Users</a>" not in proctor.get("/dashboard").get_data(as_text=True)  # no link for a proctor


def test_posts_without_the_csrf_token_are_refused(server: Console) -> None:
    admin, csrf = _admin(server)
    form = {"do": "add", "name": "no-token", "role": "proctor", "password": PASSWORD, "password_confirm": PASSWORD}
    assert admin.post("/admin/users", data=form).status_code == 400
    assert admin.post("/admin/users", data={**form, "csrf": csrf[:-2] + "xx"}).status_code == 400
    assert server.ctx.db.execute("SELECT 1 FROM users WHERE name = 'no-token'").fetchone() is None


@pytest.mark.parametrize("form, says, refused_with", [
    ({"name": "shorty", "role": "proctor", "password": "short", "password_confirm": "short"}, "at least 10", 400),
    ({"name": "typo", "role": "proctor", "password": PASSWORD, "password_confirm": PASSWORD + "!"}, "differ", 400),
    ({"name": "bad name!", "role": "proctor", "password": PASSWORD, "password_confirm": PASSWORD}, "name", 400),
    ({"name": "x" * 65, "role": "proctor", "password": PASSWORD, "password_confirm": PASSWORD}, "name", 400),
    ({"name": "boss", "role": "superuser", "password": PASSWORD, "password_confirm": PASSWORD}, "role", 400),
    ({"name": PROCTOR, "role": "proctor", "password": PASSWORD, "password_confirm": PASSWORD}, "already exists", 409),
])
def test_adding_a_user_refuses_bad_input(server: Console, form: dict, says: str, refused_with: int) -> None:
    admin, csrf = _admin(server)
    before = server.ctx.db.execute("SELECT COUNT(*) FROM users").fetchone()[0]
    status, page = _post(admin, csrf, do="add", **form)
    assert status == refused_with and "Refused:" in page and says in page
    assert server.ctx.db.execute("SELECT COUNT(*) FROM users").fetchone()[0] == before


def test_admin_adds_disables_enables_and_resets_a_user(server: Console) -> None:
    admin, csrf = _admin(server)
    status, page = _post(admin, csrf, do="add", name="nina", role="proctor", password=PASSWORD,
                         password_confirm=PASSWORD)
    assert status == 200 and "User nina (proctor) added." in page
    assert re.search(r'<tr id="user-nina" data-state="active">', page)
    digest = server.ctx.db.execute("SELECT password_hash, params FROM users WHERE name = 'nina'").fetchone()
    assert len(digest[0]) == 32 and json.loads(digest[1])["memory_cost"] >= 19 * 1024  # Argon2id, as the CLI

    nina, status = _login(server, "nina")
    assert status == 302 and nina.get("/dashboard").status_code == 200
    status, page = _post(admin, csrf, do="disable", name="nina")
    assert status == 200 and 'data-state="disabled"' in page
    assert nina.get("/dashboard").status_code == 302  # her open session stopped at once
    assert _login(server, "nina")[1] == 401

    assert _post(admin, csrf, do="enable", name="nina")[0] == 200
    assert nina.get("/dashboard").status_code == 302  # the old session stays ended
    nina, status = _login(server, "nina")
    assert status == 302

    status, page = _post(admin, csrf, do="reset_password", name="nina", password=NEW_PASSWORD,
                         password_confirm=NEW_PASSWORD)
    assert status == 200 and "reset" in page
    assert nina.get("/dashboard").status_code == 302  # a reset ends the account's sessions
    assert _login(server, "nina")[1] == 401 and _login(server, "nina", NEW_PASSWORD)[1] == 302
    status, page = _post(admin, csrf, do="reset_password", name="nina", password="short", password_confirm="short")
    assert status == 400 and "at least 10" in page

    audit = _audit(server)
    for action in ("user.add", "user.disable", "user.enable", "user.password_reset"):
        assert (ADMIN, action, {"name": "nina", **({"role": "proctor"} if action == "user.add" else {})}) in audit


def test_admin_unlocks_a_locked_out_user(server: Console) -> None:
    """Five wrong passwords at one desk hold the name back there (throttle.Backoff); the Users page
    shows it locked, and a centre admin lifts it."""
    admin, csrf = _admin(server)
    _post(admin, csrf, do="add", name="lars", role="proctor", password=PASSWORD, password_confirm=PASSWORD)
    for _ in range(5):
        assert app_login(server, "lars", "wrong password!!", address="10.9.9.9")[1].status_code == 401
    assert app_login(server, "lars", address="10.9.9.9")[1].status_code == 401  # held back, even the right password
    page = admin.get("/admin/users").get_data(as_text=True)
    assert 'id="user-lars" data-state="locked"' in page and 'value="unlock"' in page
    status, page = _post(admin, csrf, do="unlock", name="lars")
    assert status == 200 and 'id="user-lars" data-state="active"' in page
    assert app_login(server, "lars", address="10.9.9.9")[1].status_code == 302
    assert (ADMIN, "user.unlock", {"name": "lars"}) in _audit(server)


def test_admin_cannot_lock_the_centre_out(server: Console) -> None:
    admin, csrf = _admin(server)
    status, page = _post(admin, csrf, do="disable", name=ADMIN)
    assert status == 403 and "your own account" in page
    _post(admin, csrf, do="add", name="other-admin", role="centre_admin", password=PASSWORD, password_confirm=PASSWORD)
    other, status = _login(server, "other-admin")
    other_csrf = _csrf(other, "/admin/users")
    assert _post(other, other_csrf, do="disable", name=ADMIN)[0] == 200
    status, page = _post(other, other_csrf, do="disable", name="other-admin")
    assert status == 403 and "your own account" in page
    assert _post(other, other_csrf, do="enable", name=ADMIN)[0] == 200
    status, page = _post(admin := _admin(server)[0], _csrf(admin, "/admin/users"), do="disable", name="nobody")
    assert status == 404 and "no user named &#39;nobody&#39;" in page  # escaped
    status, page = _post(admin, _csrf(admin, "/admin/users"), do="promote", name=PROCTOR)
    assert status == 400 and "unknown user action" in page
    accounts = server.core.accounts
    accounts.set_disabled("other-admin", True, "it-desk")
    with pytest.raises(ConsoleError, match="last enabled centre admin"):  # the CLI acts as nobody in particular
        accounts.set_disabled(ADMIN, True, "it-desk")
    accounts.set_disabled("other-admin", False, "it-desk")


def test_an_admin_resetting_their_own_password_keeps_this_session(server: Console) -> None:
    _admin(server)
    server.core.accounts.add("selfie", "centre_admin", PASSWORD, by="test")
    mine, _ = _login(server, "selfie")
    elsewhere, _ = _login(server, "selfie")
    status, _ = _post(mine, _csrf(mine, "/admin/users"), do="reset_password", name="selfie",
                      password=NEW_PASSWORD, password_confirm=NEW_PASSWORD)
    assert status == 200
    assert mine.get("/admin/users").status_code == 200 and elsewhere.get("/dashboard").status_code == 302
