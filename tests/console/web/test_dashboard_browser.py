"""The proctor dashboard in headless Chromium against a real console and simulated kiosks.

The page's Socket.IO client is the official one from npm (served from node_modules by the console);
the kiosks are real python-socketio clients speaking exam_core.protocol.
"""

from __future__ import annotations

import cv2
import pytest
from skimage import data as skimage_data

from exam_core.jsonio import b64e
from tests.support.console_world import PASSWORD, PROCTOR, RunningConsole, console_tab, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]




def _snapshot_jpeg() -> str:
    """A real photograph (scikit-image's astronaut) as a small JPEG, as a kiosk camera would send."""
    frame = cv2.cvtColor(cv2.resize(skimage_data.astronaut(), (160, 120)), cv2.COLOR_RGB2BGR)
    ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 70])
    assert ok
    return b64e(jpeg.tobytes())


@pytest.fixture
def console_page(browser, running_console: RunningConsole):
    with console_tab(browser) as page:
        yield page


def _login(page, url: str, user: str = PROCTOR) -> None:
    page.goto(url + "/login")
    page.fill("input[name=name]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/dashboard")


def test_login_refuses_wrong_password(console_page, running_console: RunningConsole) -> None:
    page = console_page
    page.goto(running_console.url + "/login")
    page.fill("input[name=name]", PROCTOR)
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert "wrong user name or password" in page.inner_text(".error")


def test_proctor_runs_a_sitting_in_the_browser(console_page, running_console: RunningConsole) -> None:
    page, url = console_page, running_console.url
    kiosk = running_console.kiosk("kiosk-p1")
    kiosk.heartbeat(progress={"answered": 0, "total": 40}, camera_fps=14.0,
                    thumbnail_jpeg=_snapshot_jpeg())
    _login(page, url)
    response = page.request.get(url + "/dashboard")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector("#link-status:has-text('live')")  # the npm socket.io client joined /proctor
    tile = page.wait_for_selector("#tile-kiosk-p1")
    assert tile.get_attribute("data-status") == "free"
    assert page.evaluate("document.querySelector('#tile-kiosk-p1 img').naturalWidth") > 0

    tile.click()
    page.select_option("#admit-form select[name=candidate_id]", "cand-2")
    page.select_option("#admit-form select[name=package_id]", "pkg-open")
    page.check("#admit-form input[name=identity_checked]")
    page.click("#admit-form button[type=submit]")
    wait_until(lambda: kiosk.state == "admitted")
    kiosk.heartbeat(progress={"answered": 0, "total": 40}, remaining_seconds=4500)
    page.wait_for_selector("#tile-kiosk-p1[data-status=admitted]")
    assert "Alan Turing" in page.inner_text("#tile-kiosk-p1")

    page.click("button[data-action=start]")
    wait_until(lambda: kiosk.state == "in_progress")
    assert kiosk.content_key is not None
    kiosk.heartbeat(progress={"answered": 3, "total": 40}, remaining_seconds=4400)
    page.wait_for_selector("#tile-kiosk-p1[data-status=in_progress]")
    assert "3/40 answered · 1 h 13 min left" in page.inner_text("#tile-kiosk-p1")  # time in words
    assert page.get_by_role("button", name="Seat A2, Alan Turing, in progress, 3/40 answered · 1 h 13 min left, "
                            "kiosk kiosk-p1, attestation failed").get_attribute("id") == "tile-kiosk-p1"

    page.fill("form[data-action=pause] input[name=reason]", "candidate unwell")
    page.click("form[data-action=pause] button")
    wait_until(lambda: kiosk.state == "paused")
    page.fill("form[data-action=extend] input[name=minutes]", "5")
    page.fill("form[data-action=extend] input[name=reason]", "lost time while unwell")
    page.click("form[data-action=extend] button")
    wait_until(lambda: any(c["type"] == "extend" for c in kiosk.commands))
    page.click("button[data-action=resume]")
    wait_until(lambda: kiosk.state == "in_progress")

    kiosk.send_event(kiosk.make_event("face.multiple", "high", rule="faces_more_than",
                                      thresholds={"faces": 1, "seconds": 3},
                                      evidence={"faces": 2, "snapshot_jpeg": _snapshot_jpeg()}))
    alert = page.wait_for_selector("#alert-queue li")
    assert "HIGH" in alert.inner_text() and "Seat A2 · Alan Turing (cand-2)" in alert.inner_text()
    alert.query_selector("button:has-text('Details')").click()  # thresholds and measurements, as lists
    text = alert.inner_text()
    assert "faces_more_than" in text and "Rule's thresholds:\nFaces: 1\nSeconds: 3" in text
    assert "Measured:\nFaces: 2" in text
    assert page.evaluate("document.querySelector('#alert-queue li img').naturalWidth") == 160
    alert.query_selector("input[name=reason]").fill("second person was the invigilator")
    alert.query_selector("button:has-text('Acknowledge')").click()
    page.wait_for_selector("#alert-queue li", state="detached")

    page.fill("#incident-form textarea[name=text]", "Candidate felt unwell at 10:05; paused 4 minutes.")
    page.select_option("#incident-form select[name=category]", "health")
    page.click("#incident-form button")
    page.wait_for_selector("#action-result:has-text('recorded about Alan Turing (cand-2), seat A2')")

    page.fill("form[data-action=end] input[name=reason]", "candidate withdrew")
    page.click("form[data-action=end] button")
    page.get_by_role("button", name="End Alan Turing's exam").click()  # the confirmation names the candidate
    wait_until(lambda: kiosk.state == "ended")
    assert [c["type"] for c in kiosk.commands] == ["admit", "start", "pause", "extend", "resume", "end"]

    page.goto(url + "/kiosks/kiosk-p1/timeline")  # the per-candidate timeline, in time order
    rows = page.inner_text("table.grid tbody")
    assert "face.multiple" in rows and "pause (acked)" in rows and "incident: health" in rows
    assert rows.index("start (acked)") < rows.index("face.multiple") < rows.index("\tend (acked)")

    page.goto(url + "/sessions/pkg-open/report")
    body = page.inner_text("body")
    assert "Alan Turing" in body and "candidate withdrew" in body and "Candidate felt unwell" in body
    assert "second person was the invigilator" in body
    page.emulate_media(media="print")
    assert page.evaluate("getComputedStyle(document.querySelector('.no-print')).display") == "none"
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
    assert not [e for e in page.errors if "Content Security Policy" in e]
    kiosk.disconnect()
