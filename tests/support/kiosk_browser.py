"""A kiosk's candidate UI served in the test process (``Served``) and the steps the browser tests
share: reach the first question, wait for a save, and an axe-core scan.

``tests/support/kiosk_pages.py`` has the page tests' richer ``Kiosk`` (several kiosks, restarts,
screenshots); these serve the whole-exam, select-point and keyboard tests.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from playwright.sync_api import expect

from exam_core.jsonio import b64d
from kiosk.webapp import create_app, make_ui_server
from tests.support.kiosk_pages import AXE
from tests.support.kiosk_world import World, make_runtime


class Served:
    """The kiosk's Flask app and UI server on a real loopback port, in a thread of the test process."""

    def __init__(self, tmp_path: Path, **accommodations) -> None:
        self.world = World(tmp_path, **accommodations)
        self.runtime = make_runtime(self.world, tmp_path)
        self.app = create_app(self.runtime)
        self.server = make_ui_server(self.app, 0)  # the kiosk's own server, as `kiosk run` starts it
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.runtime.run_ticker()

    def admit_and_start(self) -> None:
        rt, world = self.runtime, self.world
        assert rt.handle_command(world.admit()).ok
        rt.store_package("P1", world.package_bytes)
        assert rt.handle_command(world.release()).ok

    def envelope_payload(self) -> dict:
        entry = next(e for e in self.runtime.outbox.pending() if e.kind == "envelope")
        return self.world.open_envelope(b64d(json.loads(entry.body)["envelope"]))[1]

    def close(self) -> None:
        self.runtime.stop()
        self.server.shutdown()


def saved(page) -> None:
    """Wait until the page says the last answer is saved."""
    expect(page.locator("#save-status")).to_have_text("Saved", timeout=5000)


def until_exam(page, served: Served, first_heading: str = "Question 1 of 10: Single choice") -> None:
    """From the waiting screen through identity, notice, agreement and instructions to the first question."""
    page.goto(served.url)
    page.get_by_role("heading", name="Please wait").wait_for()
    served.admit_and_start()
    page.get_by_role("button", name="Yes, these are my details").click()
    page.get_by_role("checkbox", name="I have read how this examination is monitored").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("checkbox", name="I have read and accept this agreement").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Begin the examination").click()
    page.get_by_role("heading", name=first_heading).wait_for()


def axe_violations(browser, url: str, steps) -> list[dict]:
    """axe-core's serious and critical violations after each of ``steps`` (each a function of the page)."""
    # axe-core is injected as a script tag, which the kiosk's CSP (script-src 'self') rightly
    # refuses; this context bypasses CSP for the scan only.
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 1024})
    page = context.new_page()
    try:
        page.goto(url)
        found = []
        for step in steps:
            step(page)
            page.add_script_tag(path=str(AXE))
            result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            found += [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
        return found
    finally:
        context.close()
