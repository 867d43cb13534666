"""The same action through the CLI and through the web face leaves the same audit entry.

The services write the audit chain, not the faces: an operator's ``--by admin`` and a centre
admin logged in as ``admin`` are the same actor, and the entry names the same action with the same
data. Each action runs once through ``python -m proctor_console`` (a real process) and once through
the admin pages (the in-process app over the same data directory); the entries each run appended
are compared, with only what must differ (the kiosk, the user, the moment) masked.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

import pytest

from proctor_console.app import Console
from tests.support.console_world import (ADMIN, PASSWORD, ROSTER, ConsoleSetup, app_login, cli, form_csrf,
                                         pair_kiosk)

Entry = tuple[str, str, dict[str, Any]]


def _entries_of(server: Console, action: Callable[[], object]) -> list[Entry]:
    before = server.ctx.audit.head()
    action()
    start = before.seq + 1 if before else 1
    return [(e.actor, e.action, e.data) for e in server.ctx.audit.entries(start)]


def _masked(entries: list[Entry], *keys: str) -> list[Entry]:
    return [(actor, action, {k: ("<varies>" if k in keys else v) for k, v in data.items()})
            for actor, action, data in entries]


@pytest.fixture(scope="module")
def admin_page(server: Console) -> Callable[[dict[str, Any]], str]:
    """POST one admin form as the centre admin ``admin``; returns the page."""
    client, _ = app_login(server, ADMIN, PASSWORD, "10.9.0.1")

    def post(form: dict[str, Any], path: str = "/admin") -> str:
        reply = client.post(path, data={"csrf": form_csrf(client, path), **form},
                            content_type="multipart/form-data")
        assert reply.status_code == 200, reply.get_data(as_text=True)
        return reply.get_data(as_text=True)
    post.client = client  # type: ignore[attr-defined]
    return post


def test_a_pairing_code(server: Console, console_setup: ConsoleSetup, admin_page: Any) -> None:
    by_cli = _entries_of(server, lambda: cli(console_setup.data, "pair", "--by", ADMIN))
    by_web = _entries_of(server, lambda: admin_page({"do": "pair"}))
    assert _masked(by_cli, "expires") == _masked(by_web, "expires") == [
        (ADMIN, "kiosk.pairing_code", {"expires": "<varies>"})]


def test_revoking_a_kiosk(server: Console, console_setup: ConsoleSetup, admin_page: Any) -> None:
    for kiosk_id in ("kiosk-audit-1", "kiosk-audit-2"):
        pair_kiosk(server.registry, kiosk_id)
    by_cli = _entries_of(server, lambda: cli(console_setup.data, "kiosks", "revoke", "kiosk-audit-1",
                                             "--reason", "stolen", "--by", ADMIN))
    by_web = _entries_of(server, lambda: admin_page({"do": "revoke", "kiosk_id": "kiosk-audit-2",
                                                     "reason": "stolen"}))
    assert _masked(by_cli, "kiosk_id") == _masked(by_web, "kiosk_id") == [
        (ADMIN, "kiosk.revoked", {"kiosk_id": "<varies>", "reason": "stolen"})]


def test_importing_the_roster(server: Console, console_setup: ConsoleSetup, admin_page: Any) -> None:
    import io
    path = console_setup.data.parent / "roster.csv"
    path.write_text(ROSTER)
    by_cli = _entries_of(server, lambda: cli(console_setup.data, "roster", "import", str(path), "--by", ADMIN))
    by_web = _entries_of(server, lambda: admin_page({"do": "roster", "file": (io.BytesIO(ROSTER.encode()),
                                                                              "roster.csv")}))
    assert by_cli == by_web == [(ADMIN, "roster.import", {"rows": 3, "source": "roster.csv"})]


def test_setting_the_retention_period(server: Console, console_setup: ConsoleSetup, admin_page: Any) -> None:
    by_cli = _entries_of(server, lambda: cli(console_setup.data, "purge", "--days", "20", "--by", ADMIN))
    by_web = _entries_of(server, lambda: admin_page({"do": "retention", "days": "20"}))
    assert by_cli == by_web == [(ADMIN, "retention.set", {"days": 20}),
                                (ADMIN, "retention.purge", {"days": 20, "photo_days": 7, "thumbnails": 0,
                                                            "snapshots": 0, "photos": 0})]
    by_cli = _entries_of(server, lambda: cli(console_setup.data, "purge", "--days", "20", "--photo-days", "3",
                                             "--by", ADMIN))
    by_web = _entries_of(server, lambda: admin_page({"do": "retention", "days": "20", "photo_days": "3"}))
    purged = (ADMIN, "retention.purge", {"days": 20, "photo_days": 3, "thumbnails": 0, "snapshots": 0, "photos": 0})
    assert by_cli == by_web == [(ADMIN, "retention.set", {"days": 20}), (ADMIN, "retention.set_photos", {"days": 3}),
                                purged]


def test_adding_a_user(server: Console, console_setup: ConsoleSetup, admin_page: Any) -> None:
    by_cli = _entries_of(server, lambda: cli(console_setup.data, "users", "add", "audit-cli", "--role", "proctor",
                                             "--password-stdin", "--by", ADMIN, stdin=PASSWORD + "\n"))
    by_web = _entries_of(server, lambda: admin_page({"do": "add", "name": "audit-web", "role": "proctor",
                                                     "password": PASSWORD, "password_confirm": PASSWORD},
                                                    "/admin/users"))
    assert _masked(by_cli, "name") == _masked(by_web, "name") == [
        (ADMIN, "user.add", {"name": "<varies>", "role": "proctor"})]


def test_viewing_a_session_report(server: Console, console_setup: ConsoleSetup, admin_page: Any) -> None:
    by_cli = _entries_of(server, lambda: cli(console_setup.data, "report", "pkg-open", "--json", "--by", ADMIN))
    by_web = _entries_of(server, lambda: admin_page.client.get("/sessions/pkg-open/report.json"))
    assert by_cli == by_web == [(ADMIN, "report.view", {"session_id": "pkg-open"})]


def test_pinning_a_kiosk_to_a_seat(server: Console, console_setup: ConsoleSetup, admin_page: Any) -> None:
    for kiosk_id in ("kiosk-seat-1", "kiosk-seat-2"):
        pair_kiosk(server.registry, kiosk_id)
    by_cli = _entries_of(server, lambda: cli(console_setup.data, "kiosks", "seat", "kiosk-seat-1", "D4", "--by", ADMIN))
    by_web = _entries_of(server, lambda: admin_page({"do": "seat", "kiosk_id": "kiosk-seat-2", "seat": "D5"}))
    assert _masked(by_cli, "kiosk_id") == [(ADMIN, "kiosk.seat", {"kiosk_id": "<varies>", "seat": "D4"})]
    assert _masked(by_web, "kiosk_id") == [(ADMIN, "kiosk.seat", {"kiosk_id": "<varies>", "seat": "D5"})]
    client = admin_page.client

    def refused(kiosk_id: str, seat: str) -> tuple[int, str]:
        reply = client.post("/admin", data={"csrf": form_csrf(client, "/admin"), "do": "seat", "kiosk_id": kiosk_id,
                                            "seat": seat})
        return reply.status_code, reply.get_data(as_text=True)

    status, page = refused("kiosk-seat-2", "D4")
    assert status == 409 and "seat D4 is already kiosk kiosk-seat-1&#39;s" in page
    status, page = refused("kiosk-seat-2", "D\n6")
    assert status == 400 and "must be one line" in page
    status, page = refused("kiosk-nowhere", "D7")
    assert status == 404 and "is not paired" in page
    assert server.registry.seat_of("kiosk-seat-2") == "D5"
    assert server.dashboard.room.tile("kiosk-seat-2").seat == "D5"  # on the room map at once
    assert "has no fixed seat now" in cli(console_setup.data, "kiosks", "seat", "kiosk-seat-1", "", "--by", ADMIN)
    stored = {k["kiosk_id"]: k["seat"] for k in server.registry.list()}  # seat_of caches for the room map
    assert stored["kiosk-seat-1"] == ""
