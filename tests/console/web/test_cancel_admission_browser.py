"""Cancel admission on the dashboard, in headless Chromium against a real console, by keyboard only:
the admitted seat's panel offers it beside Start, the confirmation names the candidate and starts on
"Keep the admission" (not an ambiguous "Cancel"), the kiosk (simulated, on the real ``/kiosk`` link)
gets the command with the reason, and the seat is free again. axe-core finds nothing serious on the
panel or the dialog. With ``INVIGIL_SCREENSHOTS_DIR`` set, the panel and dialog are saved there.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.support.console_world import PROCTOR, RunningConsole, axe, browser_login, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REASON = "candidate at the wrong seat"


def _focused(page: Any) -> dict[str, Any]:
    return page.evaluate("""() => { const e = document.activeElement;
      return {id: e.id, text: (e.textContent || '').trim(), name: e.name || ''}; }""")


def _tab_to(page: Any, test: str, limit: int = 40) -> dict[str, Any]:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const e = document.activeElement; return !!({test}); }})()"):
            return _focused(page)
    raise AssertionError(f"Tab never reached {test}; last: {_focused(page)}")


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("INVIGIL_SCREENSHOTS_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / f"H29-cancel-admission-{name}.png"))


def test_cancel_admission_by_keyboard_frees_the_seat(browser: Any, running_console: RunningConsole) -> None:
    kiosk = running_console.kiosk("kiosk-cancel")
    proctor, csrf, _ = running_console.proctor_socket(running_console.login())
    admitted = proctor.call("action", {"csrf": csrf, "type": "admit", "kiosk_id": kiosk.kiosk_id,
                                       "candidate_id": "cand-1", "package_id": "pkg-open", "identity_checked": True},
                            namespace="/proctor", timeout=30)
    assert admitted["ok"], admitted
    wait_until(lambda: kiosk.state == "admitted")
    kiosk.heartbeat(progress={"answered": 0, "total": 10}, remaining_seconds=3600)
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        browser_login(page, running_console.url, PROCTOR)
        page.wait_for_selector("#link-status:has-text('live')")
        tile = page.locator(f"#tile-{kiosk.kiosk_id}")
        tile.wait_for()
        tile.focus()
        page.keyboard.press("Enter")
        panel = page.locator("#panel")
        assert panel.get_by_role("heading").inner_text() == "Seat A1 · Ada Lovelace"
        assert panel.get_by_role("button").all_inner_texts() == [
            "×", "Start", "Send", "Cancel admission…", "Declare a conflict of interest"]
        violations = axe(page, "panel of an admitted seat")
        _tab_to(page, "e.name === 'reason' && e.closest('form[data-action=cancel_admission]')")
        page.keyboard.type(REASON)
        _shot(page, "panel")
        page.keyboard.press("Enter")
        dialog = page.get_by_role("dialog", name="Cancel Ada Lovelace's admission?")
        dialog.wait_for()
        assert _focused(page)["text"] == "Keep the admission"  # a destructive step starts on keeping
        assert "nothing is sealed" in dialog.inner_text() and REASON in dialog.inner_text()
        violations += axe(page, "cancel admission dialog")
        _shot(page, "dialog")
        page.keyboard.press("Tab")
        assert _focused(page)["text"] == "Cancel Ada Lovelace's admission"
        page.keyboard.press("Enter")
        wait_until(lambda: kiosk.state == "idle")
        sent = [c for c in kiosk.commands if c["type"] == "cancel_admission"]
        assert len(sent) == 1 and sent[0]["args"] == {"reason": REASON}
        page.wait_for_selector(f"#tile-{kiosk.kiosk_id}[data-status=free]")
        page.wait_for_selector("#panel form[data-action=admit]:visible")  # the seat takes an admission again
        assert page.get_by_role("button", name="Keep the admission").count() == 0
        _shot(page, "after")
        assert violations == [] and errors == []
    finally:
        context.close()
        kiosk.disconnect()
        proctor.disconnect()
