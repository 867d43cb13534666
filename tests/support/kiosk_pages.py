"""A real kiosk (runtime, Flask app, waitress on 127.0.0.1) for the page tests, with the helpers
that walk a candidate through it and check what a person would: one screen at a time, nothing of
another screen in the tab order, a header of one line, the question above the fold, targets of at
least 24 x 24 CSS pixels, and axe-core's verdict.

Why a module and not a conftest fixture: the page tests hold several kiosks at once (a second
candidate, a restarted kiosk) and need the same helpers in each test module.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from exam_core.jsonio import b64d

from kiosk.webapp import create_app, make_ui_server

from simulators.forms import make_attempt, make_content
from tests.support.kiosk_world import World, make_runtime

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path("/tmp/invigil/shots")
ALL_TOOLS = {"calculator": "scientific", "scratch_pad": True, "highlighter": True, "strike_through": True,
             "line_reader": True, "text_to_speech": True}
#: Rules that must never fail, whatever their impact (the issue found these on the old pages).
NEVER = {"page-has-heading-one", "region", "label"}
VIEWPORTS = {"1280x800": {"width": 1280, "height": 800}, "1024x768": {"width": 1024, "height": 768}}


class Kiosk:
    """One kiosk's runtime and candidate UI in this process; ``restart()`` is a kiosk restart."""

    def __init__(self, data_dir: Path, tools: dict[str, Any] | None = None, **accommodations: Any) -> None:
        self.data_dir = data_dir
        self.world = World(data_dir, content=make_content(tools=tools), **accommodations)
        self._serve()

    def _serve(self) -> None:
        self.runtime = make_runtime(self.world, self.data_dir)
        self.server = make_ui_server(create_app(self.runtime), 0)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.runtime.run_ticker()

    def command(self, kind: str, args: dict[str, Any] | None = None) -> None:
        ack = self.runtime.handle_command(self.world.command(kind, args or {}))
        assert ack.ok, ack.reason

    def admit(self, attempt_id: str | None = None, name: str = "Ada Lovelace", **accommodations: Any) -> None:
        """Admit a candidate (a new attempt when ``attempt_id`` is given) and cache the package."""
        if attempt_id is not None:
            attempt = make_attempt(attempt_id, **accommodations).to_dict()
            self.world.attempt = type(self.world.attempt).from_dict({**attempt, "candidate_name": name})
        assert self.runtime.handle_command(self.world.admit()).ok
        self.runtime.store_package("P1", self.world.package_bytes)

    def start(self) -> None:
        assert self.runtime.handle_command(self.world.release()).ok

    def restart(self) -> None:
        """Stop the runtime and server as a crash would, start them again on the same data and let
        the proctor approve the resume (the key is released again)."""
        self.close()
        self._serve()
        assert self.runtime.handle_command(self.world.release("resume_approved")).ok

    def envelope_payload(self) -> dict[str, Any]:
        entry = next(e for e in self.runtime.outbox.pending() if e.kind == "envelope")
        return self.world.open_envelope(b64d(json.loads(entry.body)["envelope"]))[1]

    def close(self) -> None:
        self.runtime.stop()
        self.server.shutdown()
        self.runtime.db.conn.close()


# --- walking the candidate flow -------------------------------------------------------------------

def heading(page, name: str) -> None:
    page.get_by_role("heading", name=name, level=1).wait_for()


def through_notice_and_agreement(page) -> None:
    heading(page, "How this examination is monitored")
    page.get_by_role("checkbox", name="I have read how this examination is monitored").check()
    page.get_by_role("button", name="Continue").click()
    heading(page, "Confidentiality and conduct agreement")
    page.get_by_role("checkbox", name="I have read and accept this agreement").check()
    page.get_by_role("button", name="Continue").click()
    heading(page, "Instructions")


def to_exam(page, kiosk: Kiosk) -> None:
    page.goto(kiosk.url)
    heading(page, "Please wait")
    kiosk.admit()
    page.get_by_role("button", name="Yes, these are my details").click()
    heading(page, "Waiting for the proctor")
    kiosk.start()
    through_notice_and_agreement(page)
    page.get_by_role("button", name="Begin the examination").click()
    heading(page, "Question 1 of 10: Single choice")


def open_fold(page, name: str) -> None:
    """Open the "Questions" or "Tools" list when the layout folds it (large text, 1024 px)."""
    toggle = page.locator("#nav-toggle" if name == "Questions" else "#tools-toggle")
    if toggle.get_attribute("aria-expanded") == "false":
        toggle.click()


def tool(page, name: str):
    """A tool's button, its list opened first if folded."""
    open_fold(page, "Tools")
    return page.get_by_role("button", name=name, exact=True)


def set_display(page, text_size: int | None = None, contrast: str | None = None, zoom: bool | None = None) -> None:
    """Change the display settings as a candidate does: the Display panel in the header."""
    page.get_by_role("button", name="Display").click()
    if text_size is not None:  # the largest offered up to text_size (175 and 200 % need the accommodation)
        offered = [int(v) for v in page.locator('input[name="text-size"]').evaluate_all("els => els.map(e => e.value)")]
        page.locator(f'input[name="text-size"][value="{max(v for v in offered if v <= text_size)}"]').check()
    if contrast is not None:
        page.get_by_role("radio", name="High contrast" if contrast == "high" else "Standard contrast").check()
    if zoom is not None and page.locator("#zoom-toggle").is_visible():  # offered only to those granted it
        page.locator("#zoom-toggle").set_checked(zoom)
    page.get_by_role("button", name="Close display settings").click()


# --- what a person would check ------------------------------------------------------------------

LAYOUT_JS = """(screen) => {
  const visible = (el) => el.checkVisibility({visibilityProperty: true, opacityProperty: true});
  const root = parseFloat(getComputedStyle(document.documentElement).fontSize);
  const screens = [...document.querySelectorAll('main > section.screen')].filter(visible).map((s) => s.id);
  const allowed = ['.topbar', '#notices', `#screen-${screen}`, 'dialog[open]', '#display-panel'];
  const focusable = [...document.querySelectorAll(
      'button, input, select, textarea, a[href], [tabindex]:not([tabindex="-1"])')]
    .filter((el) => visible(el) && !el.disabled && !el.closest('[inert]'));
  const stray = focusable.filter((el) => !allowed.some((sel) => el.closest(sel)))
    .map((el) => el.id || el.textContent.trim());
  const small = focusable.filter((el) => {
    if (el.closest('.hotspot-layer, .point-stage') || el.type === 'hidden') return false;
    const box = el.getBoundingClientRect();
    return box.width < 23.5 || box.height < 23.5;
  }).map((el) => {
    const box = el.getBoundingClientRect();
    return `${el.id || el.textContent.trim() || el.type} ${Math.round(box.width)}x${Math.round(box.height)}`;
  });
  const header = document.querySelector('.topbar').getBoundingClientRect();
  return {screens, stray, small, root, headerHeight: header.height,
          overflowX: document.documentElement.scrollWidth - window.innerWidth,
          h1: [...document.querySelectorAll('h1')].filter(visible).map((h) => h.textContent.trim())};
}"""

FOLD_JS = """() => {
  const heading = document.getElementById('item-heading').getBoundingClientRect();
  const stem = document.querySelector('#item-body > :first-child').getBoundingClientRect();
  const radio = document.querySelector('#item-body input[type=radio], #item-body input[type=checkbox]');
  return {headingBottom: heading.bottom, stemBottom: stem.bottom, height: window.innerHeight,
          radio: radio ? radio.getBoundingClientRect().height : null,
          root: parseFloat(getComputedStyle(document.documentElement).fontSize)};
}"""

TIMER_JS = """() => {
  window.scrollTo(0, document.documentElement.scrollHeight);
  const box = document.getElementById('timer').getBoundingClientRect();
  const shown = document.getElementById('timer').checkVisibility();
  window.scrollTo(0, 0);
  return {shown, top: box.top, bottom: box.bottom, height: window.innerHeight};
}"""


def check_screen(page, screen: str) -> dict[str, Any]:
    """Assert what every screen owes a candidate; returns the measurements."""
    m = page.evaluate(LAYOUT_JS, screen)
    assert m["screens"] == [f"screen-{screen}"], m["screens"]
    assert m["stray"] == [], f"focusable outside the {screen} screen: {m['stray']}"
    assert m["small"] == [], f"targets under 24x24 px on {screen}: {m['small']}"
    assert m["overflowX"] <= 1, f"{screen} scrolls sideways by {m['overflowX']} px"
    assert m["headerHeight"] <= 3.6 * m["root"], f"header of {m['headerHeight']} px wraps (root font {m['root']} px)"
    assert len(m["h1"]) == 1, m["h1"]
    return m


def check_question_in_view(page) -> None:
    m = page.evaluate(FOLD_JS)
    assert m["headingBottom"] <= m["height"] and m["stemBottom"] <= m["height"], m
    if m["radio"] is not None:
        assert m["radio"] >= min(m["root"], 1.1 * 18), m  # check boxes grow with the text


def check_timer_sticks(page) -> None:
    m = page.evaluate(TIMER_JS)
    assert m["shown"] and m["top"] >= 0 and m["bottom"] <= m["height"], m


def axe(page, where: str) -> list[str]:
    """axe-core on the page as it is (the context must bypass CSP to inject it): serious and
    critical violations, and any violation of the rules in NEVER."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{where}: {v['id']} ({v['impact']}) {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"] if v["impact"] in ("serious", "critical") or v["id"] in NEVER]


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))
