"""Standard-setting pages in real Chromium over a real HTTPS server: a psychometrician imports two
rounds of ratings with the impact between them and recommends a cut without the flagged trainer, a
decision maker adopts it; the panel's declared conflicts (markup shown as text) and the trainer's
flag are on the page, the psychometrician is not offered the adoption, each action writes its CLI
command's audit entry, and the cut in force reaches scoring's ``standard-setting cut``."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.support.psychometrics_world import ITEM_IDS, build_form_world
from tests.support.body_pages import audit_entries, look, origin

HOSTILE = '<b>bold</b><img src=x onerror="document.title=1">'


def _ratings(tmp: Path, name: str, levels: dict[str, float]) -> Path:
    path = tmp / name
    path.write_text("panellist,item_id,rating\n" + "".join(f"{p},{i},{v}\n" for p, v in levels.items()
                                                           for i in ITEM_IDS))
    return path


def test_a_study_from_ratings_to_the_adopted_cut(central, signed_in_page, tmp_path):
    build_form_world(central.data_dir)
    panel = tmp_path / "panel.csv"
    panel.write_text(f"panellist_id,trained_candidates,conflicts\nP1,no,\nP2,no,{HOSTILE}\nP3,yes,prep course\n")
    central.json("standard-setting", "open", "ANG", "--scheme", "S2@1", "--form", "FA@1", "--panel", panel,
                 "--by", "chair")
    page = signed_in_page("psy", ("psychometrician",))
    page.goto(f"{origin(page)}/standard-setting/")
    page.get_by_role("link", name="ANG").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Standard-setting study ANG")
    expect(page.locator("#panel")).to_contain_text(HOSTILE)                 # declared text shown as text
    expect(page.locator("#panel")).to_contain_text("trained candidates")    # the trainer's flag
    assert page.locator("main img, #panel b").count() == 0
    expect(page.get_by_role("button", name="Adopt the cut")).to_have_count(0)
    assert look(page, "standard-setting-study") == []

    page.get_by_label("Ratings CSV").set_input_files(str(_ratings(tmp_path, "r1.csv", {"P1": .5, "P2": .6, "P3": .4})))
    page.get_by_role("button", name="Import the ratings").click()
    expect(page.get_by_role("status")).to_contain_text("Round 1: 36 ratings")
    page.get_by_role("link", name="Back to study ANG").click()
    page.get_by_label("Ratings CSV").set_input_files(str(_ratings(tmp_path, "r2.csv", {"P1": .55, "P2": .6, "P3": .4})))
    page.get_by_label("Round").fill("2")
    page.get_by_role("button", name="Import the ratings").click()
    expect(page.locator("main")).to_contain_text("record the impact of round 1")   # refused: impact first
    page.go_back()
    page.get_by_role("button", name="Record the impact of the latest round").click()
    expect(page.get_by_role("status")).to_contain_text("candidates would pass")
    page.get_by_role("link", name="Back to study ANG").click()
    page.get_by_label("Round").fill("2")
    page.get_by_label("Ratings CSV").set_input_files(str(tmp_path / "r2.csv"))
    page.get_by_role("button", name="Import the ratings").click()
    page.get_by_role("link", name="Back to study ANG").click()
    page.get_by_label("Leave out panellists flagged for conflicts").check()
    page.get_by_role("button", name="Recommend the cut of the latest round").click()
    expect(page.get_by_role("status")).to_contain_text("recommended cut 6.90")     # 12 x mean(.55, .6)

    board = signed_in_page("dm", ("decision_maker",))
    board.goto(f"{origin(board)}/standard-setting/ANG")
    board.get_by_label("Cut to adopt").fill("7")
    board.get_by_label("Why the body adopts this cut").fill("recommendation rounded up")
    board.get_by_role("button", name="Adopt the cut").click()
    expect(board.get_by_role("status")).to_contain_text("Cut 7 is in force for scheme S2@1")
    board.get_by_role("link", name="Back to study ANG").click()
    expect(board.locator("#in-force")).to_contain_text("7")
    assert look(board, "standard-setting-adopted") == []

    adopted = audit_entries(central.data_dir, "standard_setting.adopted")
    assert adopted[-1]["actor"] == "dm" and adopted[-1]["data"]["cut"] == 7
    assert [e["actor"] for e in audit_entries(central.data_dir, "standard_setting.rate")] == ["psy", "psy"]
    assert central.json("standard-setting", "cut", "--form", "FB@1")["cut"] == 7
