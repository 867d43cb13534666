"""An item family on the staff item page, in real Chromium (issue 18): the bank's preview instance
with its seed, the key computed for it, "Draw another instance" by keyboard showing another draw
with its own key (nothing stored), the candidate frame showing the same draw, and axe-core clean."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from item_bank_sync.items.qti.templates import Draw
from tests.support.central_db import central_db, sql
from tests.support.staff_web import SHOTS, axe_serious
from tests.support.qti_families import PRODUCT_FAMILY, family22


def _tab_to(page: Any, element_id: str, limit: int = 60) -> None:
    for _ in range(limit):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"#{element_id} never took the focus by Tab")


def _shown_and_key(page: Any) -> tuple[int, int]:
    body = page.frame_locator("iframe.preview").locator("body")
    expect(body).to_contain_text(re.compile(r"3 times \d+\?"))  # drawn by the kiosk's own scripts
    text = body.inner_text()
    shown = int(re.search(r"3 times (\d+)\?", text).group(1))
    key = int(page.locator("#h-key ~ table code").first.inner_text())
    return shown, key


def test_a_family_shows_its_preview_seed_and_draws_another_by_keyboard(central, staff_web, signed_in_page,
                                                                      tmp_path: Path) -> None:
    folder = tmp_path / "fam"
    folder.mkdir()
    (folder / "triple.xml").write_bytes(family22(""))
    central.json("import", folder, "--by", "wendy")
    rita = signed_in_page("rita", ("reviewer",))
    rita.goto(f"{staff_web.url}/items/triple")
    family = rita.locator("#family")
    expect(family).to_contain_text("This item is a family")
    expect(family).to_contain_text(f"the bank's preview, seed {Draw('preview', 'triple', 0).seed_hex[:16]}")
    shown, key = _shown_and_key(rita)
    assert key == 3 * shown
    assert axe_serious(rita) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    rita.screenshot(path=str(SHOTS / "H23-family-preview.png"), full_page=True)

    before = sql(central_db(central.data_dir).bank).execute("SELECT COUNT(*) FROM items").fetchone()[0]
    draws = set()
    for n in (1, 2, 3):
        _tab_to(rita, "draw-another")
        rita.keyboard.press("Enter")
        expect(rita.locator("#family")).to_contain_text(
            f"preview draw {n}, seed {Draw('preview', 'triple', n).seed_hex[:16]}")
        shown, key = _shown_and_key(rita)
        assert key == 3 * shown  # the key computed for this draw
        draws.add(shown)
    assert len(draws | {shown}) >= 2
    rita.screenshot(path=str(SHOTS / "H23-family-draw3.png"), full_page=True)
    assert axe_serious(rita) == []
    _tab_to(rita, "draw-preview")
    rita.keyboard.press("Enter")
    expect(rita.locator("#family")).to_contain_text("the bank's preview")
    after = sql(central_db(central.data_dir).bank).execute("SELECT COUNT(*) FROM items").fetchone()[0]
    assert after == before  # drawing is read-only


def test_a_numeric_family_s_key_shows_its_tolerance(central, staff_web, signed_in_page, tmp_path: Path) -> None:
    """"V x I within 1 %": the reviewer reads the tolerance next to the computed key, not a bare number."""
    folder = tmp_path / "fam"
    folder.mkdir()
    (folder / "product.xml").write_bytes(PRODUCT_FAMILY)
    central.json("import", folder, "--by", "wendy")
    rita = signed_in_page("rita", ("reviewer",))
    rita.goto(f"{staff_web.url}/items/product")
    body = rita.frame_locator("iframe.preview").locator("body")
    expect(body).to_contain_text(re.compile(r"draws \d+\.\d A from a \d+ V supply"))
    amps, volts = re.search(r"draws (\d+\.\d) A from a (\d+) V", body.inner_text()).groups()
    cell = rita.locator("#h-key ~ table td").nth(1)
    expect(cell).to_contain_text("within relative tolerance 1.0 %")
    assert abs(float(cell.locator("code").inner_text()) - float(amps) * int(volts)) < 1e-6
    assert axe_serious(rita) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    rita.screenshot(path=str(SHOTS / "H27-family-tolerance.png"), full_page=True)
