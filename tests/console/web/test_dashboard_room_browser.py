"""The dashboard as a proctor with 40 seats meets it, in headless Chromium against a real console.

Forty simulated kiosks (``tests/support/console_room.py``) speak the real ``/kiosk`` link; the
proctor works only through the page: by mouse where a person would, by keyboard alone in the walk,
and as a screen reader reads it (accessibility tree, one tab stop for the seats, no live region but
the announcers). axe-core runs at 1920x1080 and 1280x800 with no serious or critical violation.
The tests share one room and run in order: the later ones change it (alerts, a mass pause).
With ``INVIGIL_SCREENSHOTS_DIR`` set, the README's dashboard screenshot is written there.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.console_room import ADMITTED, Room, build_room
from tests.support.console_world import PASSWORD, PROCTOR, RunningConsole, axe, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORTS = {"1920x1080": {"width": 1920, "height": 1080}, "1280x800": {"width": 1280, "height": 800}}
#: Records what the announcers say (each change once), for the tests to read.
LISTEN = """() => {
  window.__said = [];
  for (const id of ["announcer", "announcer-urgent"]) {
    new MutationObserver(() => { const t = document.getElementById(id).textContent; if (t) window.__said.push(t); })
      .observe(document.getElementById(id), {childList: true, characterData: true, subtree: true});
  }
}"""


@pytest.fixture(scope="module")
def room(running_console: RunningConsole, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Room]:
    made = build_room(running_console, tmp_path_factory.mktemp("room"))
    yield made
    made.close()


@contextmanager
def board(browser: Any, running: RunningConsole, viewport: str = "1920x1080", axe: bool = False) -> Iterator[Any]:
    """A logged-in dashboard tab, live; ``axe``: CSP bypassed so axe-core can be injected (only then)."""
    context = browser.new_context(ignore_https_errors=True, viewport=VIEWPORTS[viewport], bypass_csp=axe)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("response", lambda r: page.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    try:
        page.goto(running.url + "/login")
        page.get_by_label("User name").fill(PROCTOR)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_selector("#link-status:has-text('live')")
        until(page, "document.querySelectorAll('#seat-map .tile').length === 40")
        page.evaluate(LISTEN)
        yield page
        assert not page.errors, page.errors
    finally:
        context.close()


def until(page: Any, expression: str) -> Any:
    """Poll a JS expression from Python (the console's CSP forbids the eval that
    ``page.wait_for_function`` uses)."""
    return wait_until(lambda: page.evaluate(f"() => ({expression})"))


def tile(page: Any, room: Room, seat: str) -> Any:
    return page.locator(f"#tile-{next(s for s in room.seats.values() if s.seat == seat).kiosk.kiosk_id}")


def seat_of(room: Room, seat: str):
    return next(s for s in room.seats.values() if s.seat == seat)


def visible_seats(page: Any) -> list[str]:
    return page.eval_on_selector_all("#seat-map li:not([hidden]) .tile", "ns => ns.map(n => n.dataset.seat)")


def focused(page: Any) -> dict[str, Any]:
    return page.evaluate("""() => { const e = document.activeElement;
      return {id: e.id, tag: e.tagName, text: (e.textContent || '').trim().slice(0, 80),
              label: e.getAttribute('aria-label') || '', name: e.name || ''}; }""")


def tab_to(page: Any, test: str, limit: int = 40, key: str = "Tab") -> dict[str, Any]:
    """Press Tab until ``test`` (a JS expression on ``e``, the focused element) holds."""
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate(f"(() => {{ const e = document.activeElement; return !!({test}); }})()"):
            return focused(page)
    raise AssertionError(f"Tab never reached {test}; last: {focused(page)}")


def test_seats_in_seat_order_with_search_and_filters(browser, room: Room, running_console: RunningConsole) -> None:
    with board(browser, running_console) as page:
        order = visible_seats(page)
        seated = [s for s in order if not s.startswith("kiosk-")]
        assert seated == sorted(seated, key=lambda s: (s[0], int(s[1:]))) and len(seated) == 38
        assert order[38:] == sorted(order[38:])  # the two kiosks nobody sits at come last
        tops = {s: tile(page, room, s).bounding_box()["y"] for s in ("A1", "A8", "B1", "E1")}
        assert tops["A1"] == tops["A8"] < tops["B1"] < tops["E1"]  # a room grid: row A, then B ...
        assert page.locator('[data-count="paused"]').first.inner_text() == "2"
        assert page.locator('[data-count="restart_waiting"]').first.inner_text() == "1"

        page.get_by_label("Find").fill("hopper")
        assert visible_seats(page) == ["A3"] and page.inner_text("#search-result") == "1 of 40 seats shown"
        page.get_by_label("Find").fill("C3")
        assert visible_seats(page) == ["C3"]
        page.get_by_label("Find").fill("r-05")
        assert visible_seats(page) == ["A5"]
        page.get_by_label("Find").fill("")
        for words, seats in (("Paused", ["A4", "C1"]), ("Restart waiting", ["B6"]), ("Submitted", ["D5", "E2"])):
            page.get_by_role("radio", name=re.compile(f"^{words}")).check()
            assert visible_seats(page) == seats, words
        page.get_by_role("radio", name=re.compile("^Needs attention")).check()
        assert {"B6", "C8"} <= set(visible_seats(page))  # waiting for approval; offline mid-exam
        assert page.get_by_role("button", name=re.compile(r"^Seat C8, Adele Goldberg, offline, ")).is_visible()
        page.get_by_role("radio", name=re.compile("^All")).check()
        assert len(visible_seats(page)) == 40


def test_keyboard_only_walk_of_the_proctor_flow(browser, room: Room, running_console: RunningConsole) -> None:
    """Find a seat, select it, pause, resume, extend, message and end, acknowledge an alert:
    keys only, at 1280x800; the panel offers only what fits and stands beside the seat."""
    seat = seat_of(room, "D3")  # Alan Kay, in progress
    kiosk = seat.kiosk
    room.alert(seat, "webcam.no_face", "high", "no_face", faces=0)
    with board(browser, running_console, "1280x800") as page:
        tab_to(page, "e.id === 'seat-search'")
        page.keyboard.type("Alan Kay")
        first = tab_to(page, "e.classList.contains('tile')")
        assert first["id"] == f"tile-{kiosk.kiosk_id}" and first["text"].startswith("Seat D3,Alan Kay,in progress,")
        page.keyboard.press("Enter")
        button = page.locator(f"#tile-{kiosk.kiosk_id}")
        assert button.get_attribute("aria-pressed") == "true"
        panel = page.locator("#panel")
        assert panel.is_visible() and panel.get_by_role("heading").inner_text() == "Seat D3 · Alan Kay"
        near, box = panel.bounding_box(), button.bounding_box()
        assert (abs(near["x"] - (box["x"] + box["width"])) <= 16 or abs(near["x"] + near["width"] - box["x"]) <= 16
                or abs(near["y"] - (box["y"] + box["height"])) <= 16), (near, box)  # beside the seat
        offered = panel.get_by_role("button").all_inner_texts()
        assert offered == ["×", "Pause", "Extend", "Send", "End exam…", "Declare a conflict of interest"]

        assert tab_to(page, "e.name === 'reason' && e.closest('form[data-action=pause]')")
        page.keyboard.type("toilet break")
        page.keyboard.press("Enter")
        wait_until(lambda: kiosk.state == "paused")
        page.wait_for_selector("#panel button[data-action=resume]:visible")
        assert focused(page)["id"] == "panel-title"  # the Pause button went away: focus stays in the panel
        tab_to(page, "e.dataset.action === 'resume'")
        page.keyboard.press("Enter")
        wait_until(lambda: kiosk.state == "in_progress")

        page.wait_for_selector("#panel form[data-action=pause]:visible")
        tab_to(page, "e.name === 'minutes'")
        page.keyboard.type("5")
        page.keyboard.press("Tab")
        page.keyboard.type("fire alarm")
        page.keyboard.press("Enter")
        wait_until(lambda: any(c["type"] == "extend" for c in kiosk.commands))
        tab_to(page, "e.name === 'text'")
        page.keyboard.type("Ten minutes left")
        page.keyboard.press("Enter")
        wait_until(lambda: kiosk.messages == ["Ten minutes left"])

        tab_to(page, "e.name === 'reason' && e.closest('form[data-action=end]')")
        page.keyboard.type("candidate withdrew")
        page.keyboard.press("Enter")
        dialog = page.get_by_role("dialog", name="End Alan Kay's exam?")
        dialog.wait_for()
        assert focused(page)["text"] == "Cancel"  # a destructive step starts on Cancel
        assert f"Seat D3 · Alan Kay ({seat.candidate_id}): the answers given so far are sealed" in dialog.inner_text()
        page.keyboard.press("Tab")
        assert focused(page)["text"] == "End Alan Kay's exam"
        page.keyboard.press("Enter")
        wait_until(lambda: kiosk.state == "ended")
        assert [c["type"] for c in kiosk.commands][-5:] == ["pause", "resume", "extend", "message", "end"]
        page.wait_for_selector(f"#tile-{kiosk.kiosk_id}[data-status=submitted]")
        page.keyboard.press("Escape")  # back to the seat
        assert focused(page)["id"] == f"tile-{kiosk.kiosk_id}" and not panel.is_visible()

        alert = page.locator("#alert-queue li", has_text="Seat D3 · Alan Kay")
        alert.wait_for()
        tab_to(page, "e.name === 'reason' && e.closest('#alert-queue li')?.textContent.includes('Alan Kay')")
        page.keyboard.type("candidate looked away to the clock")
        page.keyboard.press("Tab")
        assert focused(page)["text"] == "Acknowledge"
        page.keyboard.press("Enter")
        alert.wait_for(state="detached")

        tab_to(page, "e.id === 'seat-search'", key="Shift+Tab")
        page.keyboard.press("Control+a")
        page.keyboard.press("Backspace")  # every seat again
        tab_to(page, "e.classList.contains('tile')")
        seat_now = "document.activeElement.dataset.seat"
        below_a2 = page.evaluate("""() => {  // the seat drawn right under A2 (5 to a line at 1280 px)
          const box = (t) => t.getBoundingClientRect(), tiles = [...document.querySelectorAll('#seat-map .tile')];
          const a2 = box(tiles.find((t) => t.dataset.seat === 'A2'));
          const under = tiles.filter((t) => box(t).top > a2.bottom && Math.abs(box(t).left - a2.left) < 2);
          return under.sort((x, y) => box(x).top - box(y).top)[0].dataset.seat; }""")
        assert below_a2 == "A7"  # row A goes on: the next row of the room starts a line of its own
        for key, expected in (("Home", "A1"), ("ArrowRight", "A2"), ("ArrowDown", below_a2), ("ArrowUp", "A2"),
                              ("ArrowLeft", "A1")):
            page.keyboard.press(key)
            assert page.evaluate(seat_now) == expected, key
        row_b = page.evaluate("""() => [...document.querySelectorAll('#seat-map .tile')]
          .find((t) => t.dataset.seat === 'B1').getBoundingClientRect().left""")
        assert row_b == tile(page, room, "A1").bounding_box()["x"]  # B1 starts a line, under A1
        page.keyboard.press("End")
        assert page.evaluate(seat_now).startswith("kiosk-")
        assert page.eval_on_selector_all("#seat-map .tile", "ts => ts.filter(t => t.tabIndex === 0).length") == 1


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_what_a_screen_reader_meets_and_axe(browser, room: Room, running_console: RunningConsole,
                                            viewport: str) -> None:
    with board(browser, running_console, viewport, axe=True) as page:
        seats = page.get_by_role("list", name="Seats, in seat order")
        assert seats.get_by_role("button").count() == 40
        a1 = page.get_by_role("button", name=re.compile(
            r"^Seat A1, Ada Lovelace, in progress, \d+[/]40 answered · (\d+ h \d\d min|\d+ min) left, "
            r"kiosk kiosk-\d\d, build passed$"))
        assert a1.count() == 1 and a1.get_attribute("aria-pressed") == "false"
        assert page.get_by_role("button", name=re.compile(r"^Seat B6, Dennis Ritchie, restarted, approve resume, "
                                                          r"kiosk kiosk-\d\d, build passed$")).count() == 1
        live = page.eval_on_selector_all("[aria-live], [role=status], [role=alert], [role=log]",
                                         "ns => ns.map(n => n.id)")
        assert sorted(live) == ["action-result", "announcer", "announcer-urgent"]  # never the seat map
        assert page.evaluate("!document.querySelector('#seat-map').closest('[aria-live]')")
        assert page.get_by_role("heading", level=1).all_inner_texts() == ["Room"]
        violations = axe(page, f"{viewport} room")
        tile(page, room, "A2").click()
        assert page.get_by_role("region", name="Seat A2 · Alan Turing").is_visible()
        violations += axe(page, f"{viewport} seat panel")
        page.get_by_role("button", name=re.compile("^Pause everyone")).click()
        page.get_by_role("dialog").wait_for()
        violations += axe(page, f"{viewport} mass pause dialog")
        page.get_by_role("button", name="Cancel").click()
        page.goto(running_console.url + "/sessions/pkg-open/report")
        violations += axe(page, f"{viewport} session report")
        assert violations == []


def test_alerts_name_seat_and_candidate_fit_ten_and_sound_and_flash(browser, room: Room,
                                                                    running_console: RunningConsole) -> None:
    running = room.by_state("in_progress")
    with board(browser, running_console) as page:
        page.mouse.click(5, 300)  # a person's first click: the page may make sound from now on
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        loud = running[0]
        room.alert(loud, "webcam.multiple_faces", "high", "multiple_faces", faces=2)
        card = page.locator("#alert-queue li", has_text=f"Seat {loud.seat} · {loud.name} ({loud.candidate_id})")
        card.wait_for()
        until(page, "(window.invigilAlarms || []).length === 1")
        alarm = page.evaluate("window.invigilAlarms[0]")
        assert alarm["sound"] and alarm["flash"] and alarm["severity"] == "high"
        assert "flash" in card.get_attribute("class") and "flash" in tile(page, room, loud.seat).get_attribute("class")
        assert re.search(r"More than one face in view · 1× · since \d\d:\d\d, just now", card.inner_text())
        until(page, f"window.__said.some(s => s.startsWith('high alert: Seat {loud.seat} · {loud.name}'))")

        quiet = running[1]
        room.alert(quiet, "webcam.no_face", "medium", "no_face", faces=0)
        page.locator("#alert-queue li", has_text=f"Seat {quiet.seat} · {quiet.name}").wait_for()
        assert page.evaluate("window.invigilAlarms.length") == 1  # medium: no sound, no flash

        page.get_by_text("Sound and flash").click()
        page.get_by_label("Sound for a new high or critical alert").uncheck()
        room.alert(running[2], "webcam.no_face", "high", "no_face", faces=0)
        until(page, "window.invigilAlarms.length === 2")
        second = page.evaluate("window.invigilAlarms[1]")
        assert (second["severity"], second["sound"], second["flash"]) == ("high", False, True)
        assert not [u for u in requests if re.search(r"\.(wav|mp3|ogg)|audio", u)]  # the tone is made in the page

        for seat in running[3:12]:
            room.alert(seat, "webcam.no_face", "high", "no_face", faces=0)
        until(page, "document.querySelectorAll('#alert-queue li').length >= 12")
        boxes = page.eval_on_selector_all("#alert-queue li", "ls => ls.slice(0, 10).map(l => l.getBoundingClientRect())"
                                          ".map(r => [r.top, r.bottom])")
        assert all(top >= 0 and bottom <= 1080 for top, bottom in boxes), boxes  # ten fit on a 1080p screen
        for text in page.locator("#alert-queue li .alert-head").all_inner_texts():
            assert re.match(r"^(HIGH|MEDIUM) Seat [A-E]\d · .+ \(r-\d\d\)$", text), text
        if os.environ.get("INVIGIL_SCREENSHOTS_DIR"):
            page.locator("details.settings").evaluate("d => { d.open = false; }")
            tile(page, room, "B6").click()
            page.wait_for_timeout(4500)  # the flashes are over
            shots = Path(os.environ["INVIGIL_SCREENSHOTS_DIR"])
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / "proctor-dashboard.png"))
        page.reload()  # the setting stays with this browser
        page.wait_for_selector("#link-status:has-text('live')")
        page.get_by_text("Sound and flash").click()
        assert not page.get_by_label("Sound for a new high or critical alert").is_checked()
        assert page.get_by_label("Flash for a new high or critical alert").is_checked()


def test_restart_announced_once_and_approved_from_the_panel(browser, room: Room,
                                                            running_console: RunningConsole) -> None:
    seat = seat_of(room, "E4")  # Dorothy Vaughan
    with board(browser, running_console) as page:
        seat.kiosk.disconnect()
        seat.kiosk.content_key, seat.kiosk.needs_resume_approval = None, True
        seat.kiosk.connect()
        until(page, "window.__said.some(s => s.includes('Seat E4') && s.includes('restarted'))")
        page.wait_for_timeout(6000)  # a heartbeat from every kiosk: none of them is announced
        said = page.evaluate("window.__said")
        assert sum("Seat E4" in s for s in said) == 1, said
        tile(page, room, "E4").click()
        panel = page.locator("#panel")
        assert panel.get_by_role("button").all_inner_texts() == ["×", "Approve resume", "Send",
                                                                 "Declare a conflict of interest"]
        panel.get_by_role("button", name="Approve resume").click()
        wait_until(lambda: seat.kiosk.content_key is not None and not seat.kiosk.needs_resume_approval)
        page.wait_for_selector("#panel form[data-action=pause]:visible")
        page.wait_for_selector(f"#action-result:has-text('Approve resume, Seat E4 · Dorothy Vaughan "
                               f"({seat.candidate_id}): done.')")


def test_bulk_actions_name_who_they_reach(browser, room: Room, running_console: RunningConsole) -> None:
    with board(browser, running_console) as page:
        page.get_by_role("button", name="Start all admitted (4)").click()
        dialog = page.get_by_role("dialog", name="Start the exam for 4 admitted candidates?")
        names = dialog.get_by_role("listitem").all_inner_texts()
        assert [n.split(" · ")[0] for n in names] == [f"Seat {s}" for s in ADMITTED]
        assert "Tim Berners-Lee" in names[0]
        dialog.get_by_role("button", name="Start 4 exams").click()
        for seat in ADMITTED:
            wait_until(lambda seat=seat: seat_of(room, seat).kiosk.state == "in_progress")

        chosen = [seat_of(room, s) for s in ("A5", "C2", "D6")]
        tile(page, room, "A5").click()
        tile(page, room, "C2").click(modifiers=["Control"])
        tile(page, room, "D6").focus()
        page.keyboard.press("Control+Space")
        panel = page.locator("#panel")
        assert panel.get_by_role("heading").inner_text() == "3 seats selected"
        assert panel.get_by_role("listitem").all_inner_texts() == [
            f"Seat {s.seat} · {s.name} ({s.candidate_id})" for s in chosen]
        panel.get_by_role("spinbutton").fill("10")
        panel.get_by_role("textbox", name="Extension reason").fill("noise from the street")
        panel.get_by_role("button", name="Extend for 3 seats").click()
        for s in chosen:
            wait_until(lambda s=s: any(c["type"] == "extend" and c["args"]["seconds"] == 600 for c in s.kiosk.commands))
        panel.get_by_role("textbox", name="Message").fill("The noise will stop in five minutes")
        panel.get_by_role("button", name="Send to 3 seats").click()
        for s in chosen:
            wait_until(lambda s=s: s.kiosk.messages[-1:] == ["The noise will stop in five minutes"])

        running = [s for s in room.seats.values() if s.kiosk.state == "in_progress" and s.kiosk.connected]
        page.get_by_role("button", name=re.compile("^Pause everyone")).click()
        dialog = page.get_by_role("dialog")
        title = dialog.get_by_role("heading").inner_text()
        listed = dialog.get_by_role("listitem").all_inner_texts()
        assert title == f"Pause all {len(listed)} candidates in progress?" and len(listed) >= len(running)
        assert all(f"Seat {s.seat} · {s.name} ({s.candidate_id})" in listed for s in running)
        dialog.get_by_role("button", name="Cancel").click()
        assert not any(c["type"] == "pause" and c["args"].get("reason") == "fire alarm" for s in running
                       for c in s.kiosk.commands)  # cancelled: nobody paused
        page.get_by_role("button", name=re.compile("^Pause everyone")).click()
        dialog.get_by_role("textbox", name="Reason").fill("fire alarm")
        dialog.get_by_role("button", name=re.compile(r"^Pause \d+ candidates$")).click()
        for s in running:
            wait_until(lambda s=s: s.kiosk.state == "paused")
