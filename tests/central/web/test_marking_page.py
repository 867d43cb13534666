"""Marking pages in real Chromium over real intake data: two markers mark one essay blind with the
rubric beside it, disagree, and a third marker adjudicates; the agreement figures count it; a mark
given on the page records the same rows as one given with ``marking mark --by``; axe-core on each
page."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect
from sqlalchemy import select, update

from exam_core.sync_wire import EnvelopeMeta
from item_bank_sync.bank.schema import items
from item_bank_sync.items.importer import ImportOptions, iter_sources
from item_bank_sync.items.qti.reader import ParsedItem
from item_bank_sync.results.intake import Intake
from item_bank_sync.results.schema import attempt_roles, marking_tasks, marks
from tests.support.central_cli import Central
from tests.support.central_db import audit_of, central_db
from tests.central.items.qti_corpus_table import CORPUS
from tests.support.central_items import QTI21
from tests.support.central_world import CENTRE_ID, KEYS, World, build_world
from tests.support.staff_web import SHOTS, StaffWeb, axe_serious

RUBRIC = "Award 2 points per safety check named and explained."
ESSAY = f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="{QTI21}" identifier="q3" title="Safety essay" adaptive="false" timeDependent="false">
<responseDeclaration identifier="RESPONSE" cardinality="single" baseType="string"/>
<outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
<itemBody><p>Describe two safety checks.</p><extendedTextInteraction responseIdentifier="RESPONSE">
<prompt>Write your answer</prompt></extendedTextInteraction>
<rubricBlock view="scorer"><p>{RUBRIC}</p></rubricBlock></itemBody></assessmentItem>"""


@pytest.fixture
def world(tmp_path: Path) -> World:
    """The results tests' world, its essay item (q3) given real content and a scorer rubric, and two
    attempts received: att-1 and att-2 each wait for two marks on their essay."""
    world = build_world(tmp_path / "central", cut_score=5.0)
    (tmp_path / "q3.xml").write_text(ESSAY)
    parsed = next(iter_sources([tmp_path / "q3.xml"], ImportOptions()))
    assert isinstance(parsed, ParsedItem)
    key: dict[str, Any] = parsed.key.to_dict()
    key["responses"][0].update(KEYS["q3"])  # the world's human key, worth 4 points
    stores = central_db(world.data_dir)
    with stores.bank.begin() as conn:
        conn.execute(update(items).where(items.c.item_id == "q3", items.c.version == 1)
                     .values(item_json=json.dumps(parsed.item.to_dict()), key_json=json.dumps(key)))
    intake = Intake(stores.bank, stores.results, world.keys, [])
    for attempt_id, essay in (("att-1", "Check the <b>guard</b> and the stop button."), ("att-2", "Short")):
        intake.receive(world.seal(attempt_id, {"q1": "A", "q2": ["A", "C"], "q3": essay}), CENTRE_ID,
                       EnvelopeMeta(proctors=("Pat Proctor",)))
    return world


@pytest.fixture
def staff_web(world: World) -> Iterator[StaffWeb]:
    """The staff application over the world's data directory (replaces the conftest's fixture)."""
    web = StaffWeb(world.data_dir)
    try:
        yield web
    finally:
        web.close()


def _task_of(world: World, attempt_id: str) -> int:
    with central_db(world.data_dir).results.connect() as conn:
        query = select(marking_tasks.c.task_id).where(marking_tasks.c.attempt_id == attempt_id)
        return conn.execute(query).scalar_one()


def _recorded(world: World, task_id: int) -> list[tuple[str, str, float]]:
    with central_db(world.data_dir).results.connect() as conn:
        return sorted((m, k, s) for m, k, s in conn.execute(
            select(marks.c.marker, marks.c.kind, marks.c.score).where(marks.c.task_id == task_id)))


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"items-{name}.png"), full_page=True)


def _give(page, url: str, task_id: int, score: str, note: str, button: str) -> None:
    page.goto(f"{url}/marking/")
    page.get_by_role("link", name=f"Task {task_id}").click()
    page.get_by_label("score").fill(score)
    page.get_by_label("Note").fill(note)
    page.get_by_role("button", name=button).click()


def test_a_blind_marking_round_with_adjudication_and_agreement_figures(world, staff_web, signed_in_page):
    url, task = staff_web.url, _task_of(world, "att-2")
    mia = signed_in_page("mia", ("marker",))
    mia.goto(f"{url}/marking/")
    assert axe_serious(mia) == []
    mia.get_by_role("link", name=f"Task {task}").click()
    expect(mia.get_by_role("region", name="Rubric")).to_contain_text(RUBRIC)
    expect(mia.get_by_role("region", name="The candidate's response")).to_contain_text("Short")
    expect(mia.locator("main")).to_contain_text("Describe two safety checks.")
    assert axe_serious(mia) == []
    _shot(mia, "marking-task")
    mia.get_by_label("score").fill("0")
    mia.get_by_label("Note").fill("no check named")
    mia.get_by_role("button", name="Record my mark").click()
    expect(mia.locator(".flash")).to_contain_text(f"Task {task}: your mark is recorded (task open)")

    max_ = signed_in_page("max", ("marker",))
    max_.goto(f"{url}/marking/tasks/{task}")
    expect(max_.locator("main")).not_to_contain_text("mia")                     # blind: no other mark shown
    expect(max_.locator("main")).not_to_contain_text("no check named")
    max_.get_by_label("score").fill("4")
    max_.get_by_role("button", name="Record my mark").click()
    expect(max_.locator(".flash")).to_contain_text("task adjudication")

    mia.goto(f"{url}/marking/tasks/{task}")
    expect(mia.locator("#mark-refusal")).to_contain_text("You have marked this task")
    expect(mia.get_by_role("button", name="Settle with this score")).to_have_count(0)

    ada = signed_in_page("ada", ("marker",))
    ada.goto(f"{url}/marking/")
    expect(ada.get_by_role("table", name="Disagreements for you to adjudicate (1)")).to_be_visible()
    ada.get_by_role("table", name="Disagreements for you to adjudicate (1)").get_by_role("link").click()
    expect(ada.get_by_role("table", name="The two marks that disagree")).to_contain_text("no check named")
    assert axe_serious(ada) == []
    ada.get_by_label("score").fill("2")
    ada.get_by_role("button", name="Settle with this score").click()
    expect(ada.locator(".flash")).to_contain_text("final score 2")
    assert _recorded(world, task) == [("ada", "adjudication", 2.0), ("max", "mark", 4.0), ("mia", "mark", 0.0)]

    ada.goto(f"{url}/marking/agreement")
    facts = dict(zip(ada.locator("main dl dt").all_inner_texts(), ada.locator("main dl dd").all_inner_texts()))
    assert facts["Responses marked by two markers"] == "1"
    assert facts["Exact agreement (same score)"] == facts["Adjacent agreement (within one point)"] == "0 %"
    assert facts["Sent to adjudication"] == "100 %"
    assert facts["Mean difference between two marks"] == "4.00 points"
    assert axe_serious(ada) == []
    _shot(ada, "marking-agreement")


def test_a_mark_on_the_page_records_what_marking_mark_records(world, staff_web, signed_in_page):
    """Page and CLI call the same function: the same marks, the same impartiality record, and the
    same audit entries (same action, same actor; ids and scores, never the response or the note)."""
    url, by_page, by_cli = staff_web.url, _task_of(world, "att-1"), _task_of(world, "att-2")
    mia = signed_in_page("mia", ("marker",))
    max_ = signed_in_page("max", ("marker",))
    ada = signed_in_page("ada", ("marker",))
    _give(mia, url, by_page, "0", "no check named", "Record my mark")
    _give(max_, url, by_page, "4", "two checks", "Record my mark")
    expect(max_.locator(".flash")).to_contain_text("task adjudication")
    ada.goto(f"{url}/marking/tasks/{by_page}")
    ada.get_by_label("score").fill("2")
    ada.get_by_label("Note").fill("one check")
    ada.get_by_role("button", name="Settle with this score").click()
    expect(ada.locator(".flash")).to_contain_text("final score 2")
    cli = Central(world.data_dir)
    cli.json("marking", "mark", str(by_cli), "--by", "mia", "--score", "0", "--note", "no check named")
    cli.json("marking", "mark", str(by_cli), "--by", "max", "--score", "4", "--note", "two checks")
    cli.json("marking", "adjudicate", str(by_cli), "--by", "ada", "--score", "2", "--note", "one check")
    expected = [("ada", "adjudication", 2.0), ("max", "mark", 4.0), ("mia", "mark", 0.0)]
    assert _recorded(world, by_page) == _recorded(world, by_cli) == expected
    with central_db(world.data_dir).results.connect() as conn:
        roles = sorted(conn.execute(select(attempt_roles.c.attempt_id, attempt_roles.c.person, attempt_roles.c.role)
                                    .where(attempt_roles.c.role == "marker")))
    assert roles == [("att-1", "max", "marker"), ("att-1", "mia", "marker"),
                     ("att-2", "max", "marker"), ("att-2", "mia", "marker")]
    entries = [e for e in audit_of(world.data_dir).entries() if e.action.startswith("marking.")]
    shown = [(e.actor, e.action, {k: v for k, v in e.data.items() if k != "task_id"}) for e in entries]
    page_half = [
        ("mia", "marking.mark", {"attempt_id": "att-1", "score": 0.0, "status": "open", "final_score": None}),
        ("max", "marking.mark", {"attempt_id": "att-1", "score": 4.0, "status": "adjudication", "final_score": None}),
        ("ada", "marking.adjudicate", {"attempt_id": "att-1", "score": 2.0, "status": "done", "final_score": 2.0})]
    cli_half = [(who, action, {**data, "attempt_id": "att-2"}) for who, action, data in page_half]
    assert shown == page_half + cli_half
    assert [e.data["task_id"] for e in entries] == [by_page] * 3 + [by_cli] * 3
    chain_text = json.dumps([e.data for e in entries])
    for secret in ("Short", "guard", "no check named", "two checks", "one check"):   # response and notes stay out
        assert secret not in chain_text


def test_a_marker_with_a_declared_conflict_is_refused_on_the_page_as_by_the_cli(world, staff_web, signed_in_page):
    """The page runs the CLI's impartiality check (ISO/IEC 17024 4.3): the attempt's candidate id maps
    to a registered person through a booking, and a marker who declared a relationship with that person
    is refused with the reason; no mark is recorded; another marker marks it."""
    from exam_core.timestamps import utc_text
    from item_bank_sync.registry import actors, conflicts, persons
    from tests.support.central_db import bank_of, execute

    ctx, task = world.context, _task_of(world, "att-1")
    pid = persons.add(ctx, actors.staff("ada", actors.ADMIN), given_name="Ann", family_name="Lee",
                      email="ann@example.org").person_id
    bank_of(world.data_dir)["bookings"].insert({
        "booking_id": "B-0000000000000001", "session_id": "S-0000000000000001", "person_id": pid,
        "application_id": "A-0000000000000001", "candidate_id": "C-0000000000000001", "status": "booked", "seat": 1,
        "queue_position": 1, "created_at": utc_text(), "created_by": "test"})
    execute(central_db(world.data_dir).results, "UPDATE attempts SET candidate_id = ? WHERE attempt_id = ?",
            "C-0000000000000001", "att-1")
    conflicts.declare(ctx, actors.staff("mia", "marker"), person_id=pid, relationship="relative")
    mia = signed_in_page("mia", ("marker",))
    _give(mia, staff_web.url, task, "3", "two checks", "Record my mark")
    expect(mia.locator("main")).to_contain_text("Conflict of interest")
    expect(mia.locator("main")).to_contain_text("relative")
    assert _recorded(world, task) == []
    assert [e for e in audit_of(world.data_dir).entries() if e.action == "conflict.refused"]
    max_ = signed_in_page("max", ("marker",))
    _give(max_, staff_web.url, task, "3", "two checks", "Record my mark")
    assert _recorded(world, task) == [("max", "mark", 3.0)]


STROKE = (200, 0, 0)


def _drawing_answer() -> str:
    """What the kiosk saves: the lines alone on a transparent canvas of the picture's size (400 x 300)."""
    lines = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    ImageDraw.Draw(lines).line([(100, 150), (300, 150)], fill=(*STROKE, 255), width=8)
    out = io.BytesIO()
    lines.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def _draw_into(world: World) -> None:
    """The world's q3 replaced by the corpus drawing item (a 40 x 30 blue picture shown at 400 x 300),
    its picture in the bank's media, and a third attempt, att-3, whose q3 is a red line across it."""
    parsed = next(iter_sources([CORPUS / "invigil/drawing-human.xml"], ImportOptions()))
    assert isinstance(parsed, ParsedItem)
    item, key = parsed.item.to_dict(), parsed.key.to_dict()
    item["item_id"] = key["item_id"] = "q3"
    key["responses"][0].update(KEYS["q3"], base_type="file")
    stores = central_db(world.data_dir)
    with stores.bank.begin() as conn:
        conn.execute(update(items).where(items.c.item_id == "q3", items.c.version == 1)
                     .values(item_json=json.dumps(item), key_json=json.dumps(key)))
    for ref, data in parsed.media.values():
        world.context.item_bank().media.put(ref, data)
    Intake(stores.bank, stores.results, world.keys, []).receive(
        world.seal("att-3", {"q1": "A", "q2": ["A", "C"], "q3": _drawing_answer()}), CENTRE_ID,
        EnvelopeMeta(proctors=("Pat Proctor",)))


def test_a_drawing_is_shown_to_the_marker_over_the_item_s_picture(world, staff_web, signed_in_page):
    """The marker sees the candidate's lines where they were drawn on the picture (pixels checked in
    a screenshot of the page), with a text alternative, and never the data string."""
    _draw_into(world)
    page = signed_in_page("mia", ("marker",))
    page.goto(f"{staff_web.url}/marking/tasks/{_task_of(world, 'att-3')}")
    figure = page.get_by_role("region", name="The candidate's response").locator("figure.drawing")
    image = figure.get_by_role("img", name="The candidate's drawing over Open circuit with a gap")
    expect(image).to_be_visible()
    expect(figure).to_contain_text("Lines were drawn from x 100 to 300 and y 147 to 154")
    expect(page.locator("main")).not_to_contain_text("data:image/png")
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [400, 300]
    shot = Image.open(io.BytesIO(image.screenshot())).convert("RGB")
    sx, sy = shot.width / 400, shot.height / 300

    def at(x: int, y: int) -> tuple[int, ...]:
        pixel = shot.getpixel((int(x * sx), int(y * sy)))
        assert isinstance(pixel, tuple)
        return pixel
    assert all(_near(at(x, 150), STROKE) for x in (110, 200, 290))          # the lines, where drawn
    assert all(_near(at(x, y), (20, 90, 160)) for x, y in ((50, 50), (200, 250), (350, 100)))  # the picture
    assert axe_serious(page) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "H24-marking-drawing.png"), full_page=True)


def _near(got: tuple[int, ...], want: tuple[int, ...], slack: int = 40) -> bool:
    return all(abs(a - b) <= slack for a, b in zip(got, want))


def test_a_drawing_that_does_not_read_is_reported_never_decoded() -> None:
    """Candidate bytes from the wire: a PNG declaring a 100 000 pixel canvas, or bytes that are no PNG,
    are not decoded; the marker is told, and an empty canvas says nothing was drawn."""
    import struct
    import zlib

    from exam_core.model import Interaction
    from item_bank_sync.web.items.drawings import drawing_view

    header = struct.pack(">II5B", 100_000, 100_000, 8, 6, 0, 0, 0)
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + header))
    bomb = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + header + crc
    drawing = Interaction(type="drawing", response_id="R", cardinality="single", base_type="file")
    for value in ("data:image/png;base64," + base64.b64encode(bomb).decode(),
                  "data:image/png;base64," + base64.b64encode(b"GIF89a....").decode()):
        view = drawing_view(drawing, value, None)
        assert view.src == "" and "could not be read" in view.described
    empty = io.BytesIO()
    Image.new("RGBA", (20, 10), (0, 0, 0, 0)).save(empty, format="PNG")
    view = drawing_view(drawing, "data:image/png;base64," + base64.b64encode(empty.getvalue()).decode(), None)
    assert view.src.startswith("data:image/png;base64,") and view.described == "Nothing was drawn."
    assert view.alt == "The candidate's drawing over the item's picture"


def test_a_drawing_is_shown_to_the_re_marker_over_the_item_s_picture(world, staff_web, signed_in_page):
    """On appeal, the marker a handler asks sees the drawing as the marking page shows it (over the
    item's picture, with a text alternative), never its data string (issue 17's re-mark page)."""
    from item_bank_sync.cases import handling, remark_requests
    from item_bank_sync.results.marking import record_mark

    _draw_into(world)
    for marker in ("Mia Marker", "Max Marker"):                    # the essay's two agreeing marks
        record_mark(central_db(world.data_dir).results, _task_of(world, "att-3"), marker, 2)
    ctx = world.context
    case_id = handling.lodge(ctx, "reg", "appeal", "result", "cand-3", "My drawing was right.", attempt_id="att-3")
    handling.acknowledge(ctx, "reg", case_id, days=20)
    handling.assign(ctx, "ada", case_id, "hana")
    request_id = remark_requests.ask(ctx, "hana", case_id, "q3", "rae")
    page = signed_in_page("rae", ("marker",))
    page.goto(f"{staff_web.url}/cases/remarks/{request_id}")
    figure = page.locator("figure.drawing")
    expect(figure.get_by_role("img", name="The candidate's drawing over Open circuit with a gap")).to_be_visible()
    expect(figure).to_contain_text("Lines were drawn from x 100 to 300 and y 147 to 154")
    expect(page.locator("main")).not_to_contain_text("data:image/png")
    expect(page.locator("main")).not_to_contain_text("My drawing was right")
    assert axe_serious(page) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "H26-remark-drawing.png"), full_page=True)
