"""The staff web application served for tests: a real HTTPS server on 127.0.0.1 in a thread of the
test process, staff accounts with passwords and TOTP, and Playwright pages signed in through the
real sign-in pages (codes from pyotp, an independent implementation of RFC 6238).

Fixtures using these are in tests/central/web/conftest.py.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp

from item_bank_sync.context import CentralContext
from item_bank_sync.staff.accounts import StaffBook
from item_bank_sync.web.server import WebServer, make_web_server
from tests.support.kiosk_pages import AXE

PASSWORD = "correct horse battery"
SHOTS = Path("/tmp/invigil/shots")


@dataclass
class StaffAccount:
    """A person made for a test: their password and, once enrolled, their TOTP secret."""

    name: str
    roles: tuple[str, ...]
    password: str = PASSWORD
    secret: str | None = None
    last_step: int = field(default=-1)

    def next_code(self) -> str:
        """A code of a step not used yet (each code is accepted once): now's, or the next one
        within the server's window, waiting for the clock when both are used."""
        assert self.secret is not None, f"{self.name} has not enrolled a second factor"
        totp = pyotp.TOTP(self.secret)
        while True:
            now_step = int(time.time() // totp.interval)
            step = max(now_step, self.last_step + 1)
            if step <= now_step + 1:
                self.last_step = step
                return totp.generate_otp(step)
            time.sleep(1)


class StaffWeb:
    """The staff app of one central body on ``url`` (HTTPS, the body's self-signed certificate)."""

    def __init__(self, data_dir: Path, config: dict[str, Any] | None = None) -> None:
        self.ctx = CentralContext(data_dir=data_dir)
        self.server: WebServer
        self.server, self.fingerprint = make_web_server(self.ctx, "127.0.0.1", 0, config=config)
        self.url = f"https://127.0.0.1:{self.server.server_port}"
        self.book = StaffBook(self.ctx)
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self._thread.join(5)
        self.ctx.close()


def sign_in(browser: Any, web: StaffWeb, account: StaffAccount, *, code: str | None = None) -> Any:
    """A new browser context's page through the sign-in pages (enrolling the first time)."""
    # CSP bypassed only so axe-core can be injected; tests/central/web/test_security.py checks the CSP itself
    context = browser.new_context(ignore_https_errors=True, bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{web.url}/signin")
    page.get_by_label("Name").fill(account.name)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    if "/signin/enrol" in page.url:
        account.secret = "".join(page.locator("#totp-secret").inner_text().split())
        page.get_by_label("Code from the app").fill(code or account.next_code())
        page.get_by_role("button", name="Confirm").click()
        page.get_by_role("heading", name="Your recovery codes").wait_for()
        page.get_by_role("link", name="Continue to the home page").click()
    else:
        page.get_by_label("Code").fill(code or account.next_code())
        page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Home").wait_for()
    return page


def axe_serious(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is (CSP bypassed by the context)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def shot(page: Any, name: str) -> None:
    """A full-page screenshot as /tmp/invigil/shots/staff-NAME.png (to look at by hand)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"staff-{name}.png"), full_page=True)
