"""Each seat tile's release-attestation badge in headless Chromium, updated live.

Simulated kiosks sign their measurement over each connection's login challenge (as kiosk/link.py
does); the dashboard is open throughout, so every badge change arrives over its socket: a hello, a
new connection, and an allow-list edit made by the CLI in another process while the kiosk stays
connected. The badge says what it means in words; its colour only helps.
"""

from __future__ import annotations

import hashlib

import pytest

from exam_core import protocol
from tests.support.console_world import PASSWORD, PROCTOR, RunningConsole, cli, console_tab

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RELEASED = hashlib.sha256(b"badge: released build").hexdigest()
PATCHED = hashlib.sha256(b"badge: patched build").hexdigest()
TEXT = {"passed": "build passed", "unknown_build": "unknown build", "failed": "attestation failed",
        "not_checked": "build not checked"}


@pytest.fixture
def dashboard(browser, running_console: RunningConsole):
    with console_tab(browser) as page:
        page.goto(running_console.url + "/login")
        page.fill("input[name=name]", PROCTOR)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#link-status:has-text('live')")
        yield page
        assert not [e for e in page.errors if "Content Security Policy" in e]


def _badge(page, kiosk_id: str, status: str, timeout: float = 10_000):
    """Wait until the tile's badge shows ``status``; returns the badge element."""
    badge = page.wait_for_selector(f"#tile-{kiosk_id} .attestation[data-attestation={status}]", timeout=timeout)
    assert badge.inner_text() == TEXT[status]  # words, not colour alone
    return badge


def _kiosk(running: RunningConsole, kiosk_id: str, measurement: str | None, hello: bool = True):
    kiosk = running.kiosk(kiosk_id, connect=False)
    kiosk.measurement = measurement
    if hello:
        kiosk.connect()
    else:  # log in only: no hello (so no attestation) on this connection yet
        kiosk.loop.run(kiosk.sio.connect(running.url, namespaces=[protocol.KIOSK_NAMESPACE],
                                         auth=lambda: kiosk.make_auth(), transports=["websocket"]))
    return kiosk


def test_tiles_show_each_kiosks_attestation_live(dashboard, running_console: RunningConsole) -> None:
    page, data = dashboard, running_console.setup.data
    waiting = _kiosk(running_console, "kiosk-wait", RELEASED, hello=False)
    _badge(page, "kiosk-wait", "not_checked")

    released = _kiosk(running_console, "kiosk-rel", RELEASED)
    badge = _badge(page, "kiosk-rel", "unknown_build")  # no allow-list yet: nothing is a known release
    assert "recorded only" in badge.get_attribute("title")
    patched = _kiosk(running_console, "kiosk-patched", PATCHED)
    _badge(page, "kiosk-patched", "unknown_build")
    bare = _kiosk(running_console, "kiosk-bare", None)
    assert "missing" in _badge(page, "kiosk-bare", "failed").get_attribute("title")

    cli(data, "release-allowlist", "add", RELEASED, "--release", "2026.11", "--by", "admin")
    badge = _badge(page, "kiosk-rel", "passed")  # the CLI edited the list; no new hello was needed
    assert badge.get_attribute("title") == "release 2026.11"
    badge = _badge(page, "kiosk-patched", "unknown_build")
    assert PATCHED in badge.get_attribute("title") and "recorded only" not in badge.get_attribute("title")

    waiting.hello()  # its first hello, with a fresh attestation
    _badge(page, "kiosk-wait", "passed")

    released.attestation_override = released.last_attestation  # replayed on the next connection: stale
    released.disconnect()
    _badge(page, "kiosk-rel", "not_checked")
    released.connect()
    assert "stale" in _badge(page, "kiosk-rel", "failed").get_attribute("title")

    tile_text = page.inner_text("#tile-kiosk-patched")
    assert "unknown build" in tile_text
    for kiosk in (waiting, released, patched, bare):
        kiosk.disconnect()
