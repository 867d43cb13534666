"""Portal mail through the outbox. On the real portal process: registration answers while the relay
holds the connection open (the request never waits for SMTP), the mail waits in the outbox while
the relay fails and is delivered by ``mail send-pending`` later, with a link that still works.
In process: registering a known and an unknown address does the same work (one outbox row each,
the same time within a tolerance): no account enumeration by timing."""

from __future__ import annotations

import contextlib
import re
import socket
import statistics
import threading
import time
from pathlib import Path

import urllib3
from sqlalchemy import select, update

from item_bank_sync.db.sql import fetch_all, write
from item_bank_sync.mail import MailSettings, load_settings, save_settings
from item_bank_sync.mail.schema import mail_outbox
from item_bank_sync.portal import accounts
from tests.support.portal_site import PASSWORD, Portal, csrf_of, link_in, register
from tests.support.registry_body import make_body

urllib3.disable_warnings()
HOLD_SECONDS = 6.0


class Tarpit:
    """A TCP listener that takes connections and says nothing for ``HOLD_SECONDS``, then hangs up:
    a relay that is slow and then fails."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.2)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        held: list[tuple[socket.socket, float]] = []
        while not self.done.is_set():
            with contextlib.suppress(OSError):
                held.append((self.sock.accept()[0], time.monotonic()))
            for conn, since in [h for h in held if time.monotonic() - h[1] > HOLD_SECONDS]:
                conn.close()
                held.remove((conn, since))
        for conn, _ in held:
            conn.close()

    def close(self) -> None:
        self.done.set()
        self.thread.join(5)
        self.sock.close()


def _outbox(portal: Portal) -> list[dict[str, object]]:
    return [dict(r._mapping) for r in fetch_all(portal.body.ctx.open_bank_db(), select(
        mail_outbox.c.recipient, mail_outbox.c.state, mail_outbox.c.attempts))]


def test_registration_never_waits_for_the_relay_and_its_mail_survives_a_failure(portal: Portal) -> None:
    data_dir = portal.body.ctx.data_dir
    relay = load_settings(data_dir)
    assert relay is not None
    tarpit = Tarpit()
    try:
        save_settings(data_dir, MailSettings("127.0.0.1", tarpit.port, "portal@body.example"))
        http = portal.client()
        started = time.monotonic()
        assert register(portal, http, "cara@example.org").status_code == 200
        assert time.monotonic() - started < HOLD_SECONDS / 2
        end = time.monotonic() + 30
        while _outbox(portal)[0]["attempts"] == 0 and time.monotonic() < end:
            time.sleep(0.2)
        assert _outbox(portal) == [{"recipient": "cara@example.org", "state": "pending", "attempts": 1}]
    finally:
        tarpit.close()
    save_settings(data_dir, relay)
    with write(portal.body.ctx.open_bank_db()) as conn:
        conn.execute(update(mail_outbox).values(next_try_at="2000-01-01T00:00:00.000000Z"))
    assert portal.body.central.json("mail", "send-pending")["sent"] == 1
    (message,) = portal.inbox.to("cara@example.org")
    link = link_in(message).replace("https://127.0.0.1", portal.url.rsplit(":", 1)[0])
    page = http.get(link)
    assert http.post(link, data={"csrf": csrf_of(page.text)}).status_code == 200


def test_known_and_unknown_addresses_cost_the_same(tmp_path: Path) -> None:
    body = make_body(tmp_path)
    try:
        ctx = body.ctx

        def start(email: str) -> float:
            began = time.perf_counter()
            accounts.start_registration(ctx, email=email, given_name="Ann", family_name="Lee",
                                        date_of_birth="1990-01-01", password=PASSWORD, base_url="https://b.example")
            return time.perf_counter() - began

        start("ann@example.org")
        (row,) = fetch_all(ctx.open_bank_db(), select(mail_outbox.c.body))
        found = re.search(r"/portal/confirm/(\S+)", str(row[0]))
        assert found is not None
        accounts.complete_registration(ctx, found.group(1))
        known = [start("ann@example.org") for _ in range(5)]
        unknown = [start(f"new{i}@example.org") for i in range(5)]
        assert len(fetch_all(ctx.open_bank_db(), select(mail_outbox.c.outbox_id))) == 11   # one mail each
        slow, fast = max(statistics.median(known), statistics.median(unknown)), min(
            statistics.median(known), statistics.median(unknown))
        assert slow - fast < max(0.05, 0.25 * slow), (known, unknown)
        texts = [str(r[0]) for r in fetch_all(ctx.open_bank_db(), select(mail_outbox.c.body))]
        assert sum("already has an account" in t for t in texts) == 5
    finally:
        body.close()
