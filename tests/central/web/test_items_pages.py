"""Item bank pages in real Chromium: review then approval by two people (the CLI's audit entries),
a self-approval refused before the button and on POST, the answer key hidden from a marker,
markup in item text shown as text in the list and inert in the candidate preview, versions side
by side, axe-core on each page, a keyboard-only review, and 100,000 items sorted, filtered and
paged on the server."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import insert

from item_bank_sync.bank.schema import items
from tests.support.central_cli import Central
from tests.support.central_db import audit_of, central_db
from tests.support.central_items import choice_item, write_qti
from tests.support.staff_web import SHOTS, axe_serious

APPROVAL_NOTE = 'fit for use <script>top.pwned=1</script>'
HOSTILE_TITLE = '<b>bold</b><img src=x onerror="top.pwned=1">'


def _import(central: Central, folder: Path, *xml: tuple[str, str]) -> None:
    for name, text in xml:
        write_qti(folder, name, text)
    central.json("import", folder, "--by", "wendy")


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"items-{name}.png"), full_page=True)


def _csrf(page: Any) -> str:
    return page.locator("input[name=csrf]").first.get_attribute("value")


def _audit(central: Central, action: str, item_id: str) -> Any:
    found = [e for e in audit_of(central.data_dir).entries() if e.action == action and e.data.get("item_id") == item_id]
    assert len(found) == 1, (action, item_id, found)
    return found[0]


def _tab_to(page: Any, element_id: str, limit: int = 80) -> None:
    """Press Tab until the element with ``element_id`` has the focus (the keyboard alone)."""
    for _ in range(limit):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"#{element_id} never took the focus by Tab")


def test_review_then_approval_by_two_people_writes_the_cli_s_audit_entries(
        central, staff_web, staff_member, signed_in_page, tmp_path):
    staff_member("wendy", ("item_writer",))
    rita = signed_in_page("rita", ("reviewer", "approver"))
    alan = signed_in_page("alan", ("approver",))
    _import(central, tmp_path / "q", ("web1.xml", choice_item("web1")), ("cli1.xml", choice_item("cli1")))

    # rita reviews web1 with the keyboard alone
    rita.goto(f"{staff_web.url}/items/web1")
    _tab_to(rita, "note-review")
    rita.keyboard.type("clear and correct")
    rita.keyboard.press("Tab")
    assert rita.evaluate("document.activeElement.textContent") == "Mark version 1 reviewed"
    rita.keyboard.press("Enter")
    expect(rita.locator(".flash")).to_contain_text("web1 version 1: draft to reviewed")

    # the same person may not approve: said before the button, refused on a forged POST
    expect(rita.locator("#four-eyes")).to_contain_text("approval needs a second person")
    expect(rita.get_by_role("button", name="Approve version 1")).to_have_count(0)
    _shot(rita, "four-eyes")
    forged = rita.request.post(f"{staff_web.url}/items/web1/v/1/approve", form={"csrf": _csrf(rita), "note": ""})
    assert forged.status == 422 and "four eyes" in forged.text()
    assert axe_serious(rita) == []

    alan.goto(f"{staff_web.url}/items/web1")
    no_csrf = alan.request.post(f"{staff_web.url}/items/web1/v/1/approve", form={"note": ""})
    assert no_csrf.status == 400
    alan.get_by_label("Approval comment").fill(APPROVAL_NOTE)
    alan.get_by_role("button", name="Approve version 1").click()
    expect(alan.locator(".flash")).to_contain_text("reviewed to approved")
    expect(alan.locator("main dl")).to_contain_text("approved")
    expect(alan.get_by_role("table", name="Every status change of every version")).to_contain_text(APPROVAL_NOTE)
    assert alan.evaluate("window.pwned") is None
    _shot(alan, "approved")

    alan.get_by_label("Why retire it").fill("superseded")
    alan.get_by_role("button", name="Retire version 1").click()
    expect(alan.locator(".flash")).to_contain_text("approved to retired")

    central.json("items", "review", "cli1", "--by", "rita", "--note", "clear and correct")
    central.json("items", "approve", "cli1", "--by", "alan", "--note", APPROVAL_NOTE)
    central.json("items", "retire", "cli1", "--by", "alan", "--note", "superseded")
    for action, actor in (("item.review", "rita"), ("item.approve", "alan"), ("item.retire", "alan")):
        page_entry, cli_entry = _audit(central, action, "web1"), _audit(central, action, "cli1")
        assert page_entry.actor == cli_entry.actor == actor
        strip = {"status_id", "item_id"}
        assert {k: v for k, v in page_entry.data.items() if k not in strip} == \
               {k: v for k, v in cli_entry.data.items() if k not in strip}


def test_a_marker_sees_no_key_and_markup_in_item_text_stays_text(
        central, staff_web, staff_member, signed_in_page, tmp_path):
    staff_member("wendy", ("item_writer",))
    body = '<p>Is &lt;i&gt;this&lt;/i&gt; safe?</p><p><img src="diagram.png" alt="A wiring diagram"/></p>'
    (tmp_path / "q").mkdir()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(tmp_path / "q" / "diagram.png")
    hostile = choice_item("evil", body_extra=body).replace('title="T evil"',
                                                             'title="&lt;b&gt;bold&lt;/b&gt;&lt;img src=x '
                                                             'onerror=&quot;top.pwned=1&quot;&gt;"')
    _import(central, tmp_path / "q", ("evil.xml", hostile))
    write_qti(tmp_path / "q", "evil.xml", hostile.replace("Pick", "Pick one"))  # version 2 from the same file
    central.json("import", tmp_path / "q", "--by", "wendy")

    mark = signed_in_page("mark", ("marker",))
    mark.goto(f"{staff_web.url}/items/?f_item=evil")
    cell = mark.locator("table.data tbody tr").first
    expect(cell).to_contain_text(HOSTILE_TITLE)
    assert mark.locator("table.data tbody b, table.data tbody img").count() == 0
    assert axe_serious(mark) == []
    _shot(mark, "list-markup")

    mark.goto(f"{staff_web.url}/items/evil")
    expect(mark.get_by_role("heading", name="Answer key")).to_be_visible()
    expect(mark.locator("main")).to_contain_text("Your roles do not show answer keys")
    expect(mark.locator("main")).not_to_contain_text("Scoring of each response")
    frame_element = mark.locator("iframe.preview")
    assert frame_element.get_attribute("sandbox") == "allow-scripts"
    frame = mark.frame_locator("iframe.preview")
    expect(frame.get_by_role("radio", name="Yes")).to_be_visible()        # drawn by the kiosk's renderer
    expect(frame.locator("#item-heading")).to_contain_text(HOSTILE_TITLE)  # as text
    expect(frame.locator("#item-body")).to_contain_text("Is <i>this</i> safe?")
    assert frame.locator("#item-body i").count() == 0
    diagram = frame.get_by_role("img", name="A wiring diagram")              # media inlined: the frame has no cookie
    expect(diagram).to_be_visible()
    assert diagram.evaluate("img => img.naturalWidth") == 40
    assert diagram.get_attribute("src").startswith("data:image/png;base64,")
    assert mark.evaluate("window.pwned") is None
    assert axe_serious(mark) == []
    _shot(mark, "preview-marker")
    alone = mark.request.get(f"{staff_web.url}/items/evil/v/2/preview")
    assert alone.headers["content-security-policy"].startswith("sandbox allow-scripts;")  # sandboxed even when opened
    mark.goto(f"{staff_web.url}/items/evil/v/2/preview")                              # the frame's page itself
    expect(mark.get_by_role("radio", name="No")).to_be_visible()
    assert axe_serious(mark) == []

    mark.goto(f"{staff_web.url}/items/evil/diff?a=1&b=2")
    expect(mark.locator("table.diff")).to_contain_text("Pick one")
    expect(mark.locator("table.diff")).not_to_contain_text("correct")      # key lines left out
    assert axe_serious(mark) == []
    _shot(mark, "diff")
    forged = mark.request.post(f"{staff_web.url}/items/evil/v/2/review", form={"csrf": _csrf(mark), "note": ""})
    assert forged.status == 403

    pam = signed_in_page("pam", ("psychometrician",))
    pam.goto(f"{staff_web.url}/items/evil")
    expect(pam.locator("main")).to_contain_text("Scoring of each response")
    _shot(pam, "item-with-key")


def _seed(central: Central, count: int) -> None:
    """``count`` item rows written straight into the bank (a realistic bank size, in seconds)."""
    rows = [{"item_id": f"bulk{n:06d}", "version": 1, "content_hash": f"{n:064x}",
             "status": ("draft", "reviewed", "approved", "retired")[n % 4], "title": f"Title {(n * 7919) % count:06d}",
             "interaction_types": ("choice", "text_entry")[n % 2], "competency_area": f"area{n % 10}",
             "source": "bulk", "source_format": "yaml", "item_json": "{}", "key_json": "{}",
             "created_at": "2026-12-01T10:00:00Z", "created_by": f"author{n % 5}"} for n in range(count)]
    with central_db(central.data_dir).bank.begin() as conn:
        for start in range(0, count, 10_000):
            conn.execute(insert(items), rows[start:start + 10_000])


def test_a_hundred_thousand_items_are_filtered_sorted_and_paged_on_the_server(central, staff_web, signed_in_page):
    count = 100_000
    _seed(central, count)
    page = signed_in_page("rita", ("reviewer",))
    started = time.monotonic()
    page.goto(f"{staff_web.url}/items/?f_status=approved&f_area=area2&sort=title&dir=desc&page=2")
    elapsed = time.monotonic() - started
    matching = sorted((f"Title {(n * 7919) % count:06d}" for n in range(count) if n % 4 == 2 and n % 10 == 2),
                      reverse=True)
    expect(page.locator("caption").first).to_contain_text(f"({len(matching)} in all, 51 to 100 shown)")
    titles = page.locator("table.data tbody tr td:nth-child(4)").all_inner_texts()
    assert titles == matching[50:100]
    assert elapsed < 10, f"a page of 100,000 items took {elapsed:.1f} s"
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Title")
    page.get_by_role("link", name="Next").click()
    expect(page.locator("caption").first).to_contain_text("101 to 150 shown")
    page.goto(f"{staff_web.url}/items/?f_title=title 012345")
    expect(page.locator("caption").first).to_contain_text("(1 in all")
    assert axe_serious(page) == []
    _shot(page, "list-100k")
