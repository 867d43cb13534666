"""The centre admin page: uploads, pairing codes, retention, refusals (in-process)."""

from __future__ import annotations

import io
import re

from proctor_console.app import Console
from tests.support.console_world import ADMIN, PROCTOR, ConsoleSetup, app_login, form_csrf, make_package

_csrf, _login = form_csrf, app_login


def test_admin_uploads_roster_and_packages_in_the_web_ui(server: Console, console_setup: ConsoleSetup) -> None:
    admin, _ = _login(server, ADMIN)
    csrf = _csrf(admin, "/admin")
    reply = admin.post("/admin", data={"csrf": csrf, "do": "roster", "file": (io.BytesIO(
        b"candidate_id,name,scheme,seat\ncand-9,Edsger Dijkstra,scheme-a,B1\n"), "roster.csv")},
        content_type="multipart/form-data")
    assert "Imported 1 candidate" in reply.get_data(as_text=True)
    path = make_package(console_setup, "pkg-web")
    upload = (io.BytesIO(path.read_bytes()), path.name)
    reply = admin.post("/admin", data={"csrf": csrf, "do": "packages", "files": upload},
                       content_type="multipart/form-data")
    assert "pkg-web" in reply.get_data(as_text=True)
    reply = admin.post("/admin", data={"csrf": csrf, "do": "pair"})
    assert re.search(r'id="pairing-code">[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}<', reply.get_data(as_text=True))
    proctor, _ = _login(server, PROCTOR)
    assert proctor.post("/admin", data={"csrf": _csrf(proctor, "/incidents"), "do": "pair"}).status_code == 403


def test_admin_refusals_name_the_reason_with_their_status(server: Console) -> None:
    admin, _ = _login(server, ADMIN)
    csrf = _csrf(admin, "/admin")
    for form, says, status in (({"do": "retention", "days": "0"}, "1 to 3650", 400),
                               ({"do": "retention", "days": "many"}, "whole number", 400),
                               ({"do": "promote"}, "unknown admin action", 400),
                               ({"do": "revoke", "kiosk_id": "kiosk-never-paired"}, "not paired", 404),
                               ({"do": "packages"}, "at least one package", 400)):
        reply = admin.post("/admin", data={"csrf": csrf, **form})
        page = reply.get_data(as_text=True)
        assert reply.status_code == status and "Refused:" in page and says in page, (form, reply.status_code)
