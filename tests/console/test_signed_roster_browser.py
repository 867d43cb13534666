"""The signed roster at the admission desk, in headless Chromium against a real console process: a
roster signed by the central key is imported with ``roster import-signed``; the admit form shows the
chosen candidate's photo from it (and says when there is none), the Roster page shows each
candidate's origin and photo, axe-core finds no serious or critical violation on either page; a
candidate booked for a session is refused a package of a form their session does not deliver; a
candidate not on the roster is refused at admission until a centre admin adds them on the Roster
page with a reason, after which the admission goes through and the reason is in the audit chain.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from exam_core import protocol, roster_wire
from exam_core.model import AccommodationPolicy, Accommodations
from proctor_console.context import ConsoleContext
from tests.support.console_world import axe, browser_login
from tests.support.console_world import ADMIN, PROCTOR, RunningConsole, cli, console_tab, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]

def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (240, 300), (40, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def _signed_roster(running: RunningConsole, tmp_path: Path, session_id: str = "S-desk", form_id: str = "form-1",
                   candidates: tuple[roster_wire.RosterCandidate, ...] = ()) -> Path:
    """A roster signed by the central key for this centre: by default, session S-desk delivering
    pkg-open's form, with one candidate with a photo and extra time and one without either."""
    roster = roster_wire.SessionRoster(
        centre_id="centre-1", session_id=session_id, version=1, issued_at="2026-12-01T08:00:00Z",
        scheme_id="scheme-a", scheme_version=1, starts_at="2026-12-20T09:00:00Z", window_minutes=60,
        forms=(form_id,), accommodation_policy=AccommodationPolicy(("extra_time_percent",), 50),
        candidates=candidates or (roster_wire.RosterCandidate("sig-1", "Mary Somerville", "B1", _jpeg(),
                                                              Accommodations(extra_time_percent=25)),
                                  roster_wire.RosterCandidate("sig-2", "Emmy Noether", "B2")))
    path = tmp_path / f"{session_id}.signed"
    path.write_bytes(roster_wire.make_roster(running.setup.central.key, roster))
    return path


def _admit(running: RunningConsole, kiosk_id: str, candidate_id: str) -> dict[str, Any]:
    proctor, csrf, _ = running.proctor_socket(running.login())
    try:
        return proctor.call("action", {"csrf": csrf, "type": "admit", "kiosk_id": kiosk_id,
                                       "candidate_id": candidate_id, "package_id": "pkg-open",
                                       "identity_checked": True}, namespace=protocol.PROCTOR_NAMESPACE, timeout=30)
    finally:
        proctor.disconnect()


def test_the_admit_form_shows_the_roster_photo_and_an_override_needs_an_admin_and_a_reason(
        browser: Any, running_console: RunningConsole, tmp_path: Path) -> None:
    url, data = running_console.url, running_console.setup.data
    assert "roster version 1 imported" in cli(data, "roster", "import-signed", str(_signed_roster(running_console,
                                                                                                   tmp_path)))
    kiosk = running_console.kiosk("kiosk-desk")
    problems: list[str] = []
    # CSP bypassed only so that axe-core can be injected
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1400, "height": 1000}, bypass_csp=True)
    try:
        page = context.new_page()
        browser_login(page, url, PROCTOR)
        page.wait_for_selector("#link-status:has-text('live')")
        page.click("#tile-kiosk-desk")
        page.select_option("#admit-form select[name=candidate_id]", "sig-1")
        photo = page.locator("#admit-photo-img")
        photo.wait_for(state="visible")
        wait_until(lambda: page.evaluate("document.querySelector('#admit-photo-img').naturalWidth") == 240)
        assert photo.get_attribute("alt") == "Photo of Mary Somerville from the signed roster"
        assert "Compare the photo" in page.inner_text("#admit-photo")
        problems += axe(page, "dashboard, admit form with photo")
        page.select_option("#admit-form select[name=candidate_id]", "cand-1")          # CSV: no photo
        assert not photo.is_visible() and "No photo on the roster" in page.inner_text("#admit-photo")
        page.goto(url + "/roster")
        assert "signed roster of session S-desk" in page.inner_text("#candidate-sig-1")
        assert page.evaluate("document.querySelector('#candidate-sig-1 img').naturalWidth") == 240
        assert "CSV import" in page.inner_text("#candidate-cand-1")
        assert page.locator("#override-form").count() == 0                             # proctors cannot
        problems += axe(page, "roster page")
    finally:
        context.close()
    assert problems == []

    refused = _admit(running_console, "kiosk-desk", "walk-in")
    assert not refused["ok"] and "not on the roster" in refused["error"]
    other = _signed_roster(running_console, tmp_path, "S-other", "form-9",
                           (roster_wire.RosterCandidate("sig-9", "Sophie Germain", "C1"),))
    cli(data, "roster", "import-signed", str(other))
    refused = _admit(running_console, "kiosk-desk", "sig-9")          # booked for a session of another form
    assert not refused["ok"] and "delivers form-9; this package is form form-1" in refused["error"]
    with console_tab(browser) as page:
        browser_login(page, url, ADMIN)
        page.goto(url + "/roster")
        form = page.locator("#override-form")
        form.get_by_label("Candidate id").fill("walk-in")
        form.get_by_label("Name").fill("Walk In")
        form.get_by_label("Scheme").fill("scheme-a")
        form.get_by_label("Reason").fill("booked after the roster was sent")
        form.get_by_role("button", name="Add to the roster").click()
        page.wait_for_selector("[role=status]:has-text('walk-in added to the roster by admin')")
        assert "added by admin" in page.inner_text("#candidate-walk-in")
        assert not [e for e in page.errors if "Content Security Policy" in e]
    assert _admit(running_console, "kiosk-desk", "walk-in")["ok"]
    wait_until(lambda: kiosk.state == "admitted")
    override = [e for e in ConsoleContext(data).audit.entries() if e.action == "roster.override"]
    assert [(e.actor, e.data["reason"]) for e in override] == [("admin", "booked after the roster was sent")]
    kiosk.disconnect()


def test_photo_and_override_routes_refuse_who_may_not(running_console: RunningConsole, tmp_path: Path) -> None:
    """The photo only to signed-in staff and never cached; the override only from a centre admin's
    page (CSRF); an unknown or malformed candidate has no photo."""
    url, data = running_console.url, running_console.setup.data
    cli(data, "roster", "import-signed", str(_signed_roster(running_console, tmp_path)))
    anonymous = requests.get(url + "/roster/sig-1/photo", verify=False, allow_redirects=False, timeout=10)
    assert anonymous.status_code in (302, 401, 403) and not anonymous.content.startswith(b"\xff\xd8")
    proctor = running_console.login()
    photo = proctor.get(url + "/roster/sig-1/photo", timeout=10)
    assert photo.status_code == 200 and photo.headers["Content-Type"] == "image/jpeg"
    assert photo.headers["Cache-Control"] == "no-store" and photo.content.startswith(b"\xff\xd8\xff")
    assert proctor.get(url + "/roster/sig-2/photo", timeout=10).status_code == 404          # none on the roster
    assert proctor.get(url + "/roster/..%2Fx/photo", timeout=10).status_code == 404
    form = {"candidate_id": "walk-2", "name": "W", "scheme_id": "scheme-a", "seat": "", "reason": "late booking"}
    token = re.search(r'name="csrf" value="([^"]+)"', proctor.get(url + "/roster", timeout=10).text).group(1)
    assert proctor.post(url + "/roster/override", data={**form, "csrf": token}, timeout=10).status_code == 403
    admin = running_console.login(ADMIN)
    assert admin.post(url + "/roster/override", data=form, timeout=10).status_code in (400, 403)   # no CSRF
    assert "walk-2" not in cli(data, "roster", "list")
