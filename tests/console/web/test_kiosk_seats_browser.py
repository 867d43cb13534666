"""A kiosk pinned to a seat (README "Console": kiosks had no fixed seat, so a free kiosk sat at the
end of the room map), in headless Chromium against a real console: a centre admin pins a free
kiosk on the admin page, and the proctors' room map shows it in seat order between the seats of
admitted candidates, with the seat label on the tile; axe-core finds nothing serious on the form.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.support.console_world import ADMIN, PROCTOR, RunningConsole, axe, browser_login, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("INVIGIL_SCREENSHOTS_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / f"H29-kiosk-seat-{name}.png"))


def test_a_pinned_free_kiosk_sits_in_seat_order(browser: Any, running_console: RunningConsole) -> None:
    url = running_console.url
    kiosks = {k: running_console.kiosk(k) for k in ("kiosk-s-1", "kiosk-s-3", "kiosk-s-free")}
    proctor, csrf, _ = running_console.proctor_socket(running_console.login())
    for kiosk_id, candidate_id in (("kiosk-s-1", "cand-1"), ("kiosk-s-3", "cand-3")):
        action = {"csrf": csrf, "type": "admit", "kiosk_id": kiosk_id, "candidate_id": candidate_id,
                  "package_id": "pkg-open", "identity_checked": True}
        reply = proctor.call("action", action, namespace="/proctor", timeout=30)
        assert reply["ok"], reply
        wait_until(lambda kiosk_id=kiosk_id: kiosks[kiosk_id].state == "admitted")
    admin = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 900}, bypass_csp=True)
    room = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 800})
    try:
        page = room.new_page()
        browser_login(page, url, PROCTOR)
        page.wait_for_selector("#link-status:has-text('live')")
        order = "[...document.querySelectorAll('#seat-map .tile')].map(t => t.id.slice(5))"
        wait_until(lambda: page.evaluate(order) == ["kiosk-s-1", "kiosk-s-3", "kiosk-s-free"])  # free: at the end

        form_page = admin.new_page()
        browser_login(form_page, url, ADMIN)
        form_page.goto(url + "/admin")
        form = form_page.locator("#seat-form")
        form.get_by_label("Kiosk").select_option("kiosk-s-free")
        form.get_by_label("Seat").focus()
        form_page.keyboard.type("A2")
        problems = axe(form_page, "admin page, kiosk seats")
        form_page.keyboard.press("Enter")
        form_page.wait_for_selector("[role=status]:has-text('Kiosk kiosk-s-free is at seat A2.')")
        assert "kiosk-s-free (seat A2)" in form.get_by_label("Kiosk").inner_text()

        wait_until(lambda: page.evaluate(order) == ["kiosk-s-1", "kiosk-s-free", "kiosk-s-3"])  # at once, in order
        tile = page.locator("#tile-kiosk-s-free")
        assert tile.get_attribute("data-seat") == "A2" and "A2" in tile.inner_text()
        _shot(page, "room")
        assert problems == []
    finally:
        admin.close()
        room.close()
        for kiosk in kiosks.values():
            kiosk.disconnect()
        proctor.disconnect()
