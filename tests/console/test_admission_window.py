"""Admission keeps to the signed session's time (README "Life cycle": admission checked the forms,
not the time window), with real parts: rosters signed by the central key and imported with the
console's CLI, the console serving over HTTPS, a proctor on ``/proctor``, a simulated kiosk on
``/kiosk``, and the Roster page in headless Chromium.

- From 60 minutes before the start until the window closes (start + the roster's ``window_minutes``)
  a candidate is admitted; before or after, refused with both times in the centre's time zone.
- A centre admin (never a proctor) allows one admission outside the time with a reason, by the CLI
  or the Roster page: the same audit entry; the admission records the grant and uses it up.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from exam_core import protocol, roster_wire
from exam_core.model import AccommodationPolicy
from exam_core.timestamps import format_time, utc_now
from proctor_console import services
from proctor_console.accounts import User
from proctor_console.context import ConsoleContext
from proctor_console.errors import Conflict, Forbidden
from proctor_console.wording import local_time
from tests.support.console_world import ADMIN, ConsoleSetup, RunningConsole, axe, browser_login, cli, wait_until

pytestmark = [pytest.mark.slow]

MINUTE = timedelta(minutes=1)


def _import(running: RunningConsole, tmp_path: Path, session_id: str, candidate_id: str, starts: datetime,
            window_minutes: int = 60) -> None:
    """A roster signed by the central key: one candidate booked for ``session_id`` (pkg-open's form)."""
    _import_to(running.setup, tmp_path, session_id, candidate_id, starts, window_minutes)


def _import_to(setup: ConsoleSetup, tmp_path: Path, session_id: str, candidate_id: str, starts: datetime,
               window_minutes: int = 60) -> None:
    roster = roster_wire.SessionRoster(
        centre_id="centre-1", session_id=session_id, version=1, issued_at=format_time(utc_now() - MINUTE),
        scheme_id="scheme-a", scheme_version=1, starts_at=format_time(starts), window_minutes=window_minutes,
        forms=("form-1",), accommodation_policy=AccommodationPolicy(("extra_time_percent",), 50),
        candidates=(roster_wire.RosterCandidate(candidate_id, f"Candidate {candidate_id}", ""),))
    path = tmp_path / f"{session_id}.signed"
    path.write_bytes(roster_wire.make_roster(setup.central.key, roster))
    assert "imported" in cli(setup.data, "roster", "import-signed", str(path))


def _act(running: RunningConsole, **payload: Any) -> dict[str, Any]:
    proctor, csrf, _ = running.proctor_socket(running.login())
    try:
        return proctor.call("action", {"csrf": csrf, **payload}, namespace=protocol.PROCTOR_NAMESPACE, timeout=30)
    finally:
        proctor.disconnect()


def _admit(running: RunningConsole, kiosk_id: str, candidate_id: str) -> dict[str, Any]:
    return _act(running, type="admit", kiosk_id=kiosk_id, candidate_id=candidate_id, package_id="pkg-open",
                identity_checked=True)


def _cancel(running: RunningConsole, kiosk: Any) -> None:
    assert _act(running, type="cancel_admission", kiosk_id=kiosk.kiosk_id, reason="test moves on")["ok"]
    wait_until(lambda: kiosk.state == "idle")
    wait_until(lambda: _free(running, kiosk.kiosk_id))


def _free(running: RunningConsole, kiosk_id: str) -> bool:
    """The console's record frees the seat once the cancellation is acked."""
    with sqlite3.connect(running.setup.data / "console.db") as db:
        return db.execute("SELECT COUNT(*) FROM attempts WHERE kiosk_id = ? AND state = 'admitted'",
                          [kiosk_id]).fetchone()[0] == 0


def _shown(running: RunningConsole, moment: datetime) -> str:
    return local_time(format_time(moment), ConsoleContext(running.setup.data).time_zone, seconds=False)


def test_admission_inside_the_window_and_refused_outside_it(running_console: RunningConsole,
                                                            tmp_path: Path) -> None:
    now = utc_now().replace(microsecond=0)
    _import(running_console, tmp_path, "S-soon", "win-soon", now + timedelta(minutes=50))       # early allowance
    _import(running_console, tmp_path, "S-later", "win-later", now + timedelta(hours=3))
    _import(running_console, tmp_path, "S-past", "win-past", now - timedelta(hours=2), window_minutes=90)
    kiosk = running_console.kiosk("kiosk-window")
    assert _admit(running_console, "kiosk-window", "win-soon")["ok"]
    wait_until(lambda: kiosk.state == "admitted")
    _cancel(running_console, kiosk)

    early = _admit(running_console, "kiosk-window", "win-later")
    assert not early["ok"] and early["code"] == "conflict"
    opens, closes = now + timedelta(hours=2), now + timedelta(hours=4)
    assert (f"booked for session S-later, whose admission has not opened yet: admission from "
            f"{_shown(running_console, opens)} (60 minutes before the start) until {_shown(running_console, closes)}"
            ) in early["error"], early
    late = _admit(running_console, "kiosk-window", "win-past")
    assert not late["ok"] and "whose admission is closed" in late["error"]
    assert f"until {_shown(running_console, now - timedelta(minutes=30))}" in late["error"]
    assert "roster allow-outside-window" in late["error"]
    kiosk.disconnect()


def test_a_centre_admin_allows_one_admission_outside_the_time(running_console: RunningConsole,
                                                              tmp_path: Path) -> None:
    data, url = running_console.setup.data, running_console.url
    now = utc_now().replace(microsecond=0)
    _import(running_console, tmp_path, "S-gone", "win-cli", now - timedelta(hours=3))
    _import(running_console, tmp_path, "S-gone-2", "win-web", now - timedelta(hours=3))
    kiosk = running_console.kiosk("kiosk-window-2")
    refused = subprocess_cli(data, "roster", "allow-outside-window", "win-cli", "--reason", "late train",
                             "--by", "paula")
    assert refused.returncode != 0 and "centre admin" in refused.stderr + refused.stdout
    assert "may be admitted once outside" in cli(data, "roster", "allow-outside-window", "win-cli", "--reason",
                                                 "late train, station closed", "--by", ADMIN)
    proctor = running_console.login()
    token = re.search(r'name="csrf" value="([^"]+)"', proctor.get(url + "/roster", timeout=10).text).group(1)
    form = {"candidate_id": "win-web", "reason": "the session moved on the day", "csrf": token}
    assert proctor.post(url + "/roster/window-override", data=form, timeout=10).status_code == 403
    admin = running_console.login(ADMIN)
    assert admin.post(url + "/roster/window-override", data={**form, "csrf": ""}, timeout=10).status_code in (400, 403)
    token = re.search(r'name="csrf" value="([^"]+)"', admin.get(url + "/roster", timeout=10).text).group(1)
    page = admin.post(url + "/roster/window-override", data={**form, "csrf": token}, timeout=10)
    assert page.status_code == 200 and "may be admitted once outside the session&#39;s time" in page.text
    again = admin.post(url + "/roster/window-override", data={**form, "csrf": token}, timeout=10)
    assert "already has an admission outside the window allowed" in again.text

    granted = [e for e in ConsoleContext(data).audit.entries() if e.action == "roster.window_override"]
    assert [(e.actor, sorted(e.data)) for e in granted] == [
        ("admin", ["candidate_id", "grant_id", "reason", "session_id"])] * 2  # the same entry from both faces
    assert _admit(running_console, "kiosk-window-2", "win-cli")["ok"]
    wait_until(lambda: kiosk.state == "admitted")
    admitted = [e for e in ConsoleContext(data).audit.entries() if e.action == "command.admit"][-1]
    assert admitted.data["outside_window"] == {"grant_id": granted[0].data["grant_id"], "allowed_by": "admin",
                                               "reason": "late train, station closed"}
    _cancel(running_console, kiosk)
    used = _admit(running_console, "kiosk-window-2", "win-cli")                                  # used up
    assert not used["ok"] and "whose admission is closed" in used["error"]
    assert _admit(running_console, "kiosk-window-2", "win-web")["ok"]
    kiosk.disconnect()


def test_a_grant_opens_only_the_session_it_was_given_for(bare_console: ConsoleSetup, tmp_path: Path) -> None:
    """The body moved the booking to another session after the grant: that session's window holds."""
    now = utc_now().replace(microsecond=0)
    _import_to(bare_console, tmp_path, "S-first", "win-moved", now - timedelta(hours=3))
    signed = services.signed_rosters(ConsoleContext(bare_console.data))
    grant = signed.allow_outside_window(User(ADMIN, "centre_admin"), "win-moved", "late train")
    held = signed.check_window("win-moved")
    assert held is not None and held.grant_id == grant and held.session_id == "S-first"
    _import_to(bare_console, tmp_path, "S-second", "win-moved", now + timedelta(hours=5))
    with pytest.raises(Conflict, match="booked for session S-second, whose admission has not opened yet"):
        signed.check_window("win-moved")
    assert signed.allow_outside_window(User(ADMIN, "centre_admin"), "win-moved", "early start") != grant


def test_an_admin_in_conflict_with_the_candidate_grants_neither_admission(bare_console: ConsoleSetup,
                                                                          tmp_path: Path) -> None:
    """Allowing an admission outside the window, or one more admission, acts on the candidate: an
    admin who declared a conflict with them is refused both, as a proctor is refused to admit."""
    now = utc_now().replace(microsecond=0)
    _import_to(bare_console, tmp_path, "S-conflict", "win-kin", now - timedelta(hours=3))
    ctx = ConsoleContext(bare_console.data)
    services.conflicts(ctx).declare(ADMIN, "win-kin", "my cousin")
    admin = User(ADMIN, "centre_admin")
    with pytest.raises(Forbidden, match="conflict of interest"):
        services.signed_rosters(ctx).allow_outside_window(admin, "win-kin", "late train")
    with pytest.raises(Forbidden, match="conflict of interest"):
        services.readmissions(ctx).allow(admin, "win-kin", "fire alarm")
    assert services.signed_rosters(ctx).pending_window_grant("win-kin", "S-conflict") is None
    assert services.readmissions(ctx).pending("win-kin") is None


@pytest.mark.browser
def test_the_roster_page_shows_the_window_and_takes_an_override_by_keyboard(
        browser: Any, running_console: RunningConsole, tmp_path: Path) -> None:
    now = utc_now().replace(microsecond=0)
    starts = now + timedelta(hours=5)
    _import(running_console, tmp_path, "S-page", "win-page", starts, window_minutes=45)
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1400, "height": 1000}, bypass_csp=True)
    try:
        page = context.new_page()
        browser_login(page, running_console.url, ADMIN)
        page.goto(running_console.url + "/roster")
        row = page.locator("#signed-rosters tr", has_text="S-page")
        assert row.locator(".admission-window").inner_text() == (
            f"from {_shown(running_console, starts - timedelta(minutes=60))} until "
            f"{_shown(running_console, starts + timedelta(minutes=45))}")
        problems = axe(page, "roster page with the window form")
        form = page.locator("#window-override-form")
        form.get_by_label("Candidate id").focus()
        page.keyboard.type("win-page")
        page.keyboard.press("Tab")
        page.keyboard.type("exam moved forward by the body")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Allow one admission outside the time"
        if os.environ.get("INVIGIL_SCREENSHOTS_DIR"):
            page.screenshot(path=str(Path(os.environ["INVIGIL_SCREENSHOTS_DIR"]) / "H29-window-roster.png"),
                            full_page=True)
        page.keyboard.press("Enter")
        page.wait_for_selector("[role=status]:has-text('win-page may be admitted once outside')")
        assert problems == []
    finally:
        context.close()


def subprocess_cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The console's CLI as a process, its exit status and output kept (``cli`` raises on failure)."""
    return subprocess.run([sys.executable, "-m", "proctor_console", "--data", str(data), *args],
                          capture_output=True, text=True, timeout=60)
