"""Import page in real Chromium: a content package uploaded, its dry-run report read (nothing
changed), then confirmed; the audit entry is the CLI's ``import --by``; re-importing the same file
from the CLI is a no-op (same source keys); oversized, foreign and unauthorised uploads refused."""

from __future__ import annotations

import io
import os
import time
import zipfile
from pathlib import Path

from playwright.sync_api import expect

from item_bank_sync.items.importer import ImportOptions
from item_bank_sync.web.items import uploads
from tests.support.central_cli import Central
from tests.support.central_db import audit_of
from tests.support.central_items import choice_item
from tests.support.staff_web import SHOTS, axe_serious


MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" identifier="m1"><resources>
<resource identifier="r1" type="imsqti_item_xmlv2p1" href="items/good1.xml"/>
<resource identifier="r2" type="imsqti_item_xmlv2p1" href="items/good2.xml"/>
<resource identifier="r3" type="imsqti_item_xmlv2p1" href="items/broken.xml"/>
</resources></manifest>"""


def _package(path: Path) -> Path:
    """A content package of two good items and one that is not XML."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("imsmanifest.xml", MANIFEST)
        z.writestr("items/good1.xml", choice_item("good1"))
        z.writestr("items/good2.xml", choice_item("good2", correct="B"))
        z.writestr("items/broken.xml", "<assessmentItem")
    return path


def _imports(central: Central) -> list:
    return [e for e in audit_of(central.data_dir).entries() if e.action == "item.import"]


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"items-{name}.png"), full_page=True)


def test_upload_report_then_confirm_imports_as_the_cli_does(central, staff_web, signed_in_page, tmp_path):
    package = _package(tmp_path / "pkg.zip")
    wendy = signed_in_page("wendy", ("item_writer",))
    wendy.goto(f"{staff_web.url}/items/")
    wendy.get_by_role("link", name="Import items from QTI or YAML files").click()
    assert axe_serious(wendy) == []
    wendy.get_by_label("File (").set_input_files(str(package))
    wendy.get_by_label("Source namespace").fill("tao")
    wendy.get_by_role("button", name="Upload and show the report").click()
    expect(wendy.get_by_role("heading", level=1)).to_have_text("Import report: nothing changed yet")
    expect(wendy.locator("main")).to_contain_text("2 would be imported and 1 refused")
    expect(wendy.get_by_role("table", name="By source folder")).to_contain_text("pkg.zip!items")
    expect(wendy.get_by_role("table", name="Each file")).to_contain_text("tao.good1 version 1")
    assert central.json("items", "list") == {"items": []}                       # a dry run changed nothing
    assert axe_serious(wendy) == []
    _shot(wendy, "import-report")

    wendy.get_by_role("button", name="Confirm: import these items").click()
    expect(wendy.get_by_role("heading", level=1)).to_have_text("Import report")
    expect(wendy.locator("main")).to_contain_text("2 imported, 1 refused")
    assert [i["item_id"] for i in central.json("items", "list")["items"]] == ["tao.good1", "tao.good2"]
    _shot(wendy, "import-done")

    again = central.json("import", package, "--namespace", "tao", "--by", "wendy", code=1)  # broken.xml refused
    assert {row["outcome"] for row in again["imported"]} == {"unchanged"}    # same file, same source keys
    central.json("import", _package(tmp_path / "other.zip"), "--namespace", "cli", "--by", "wendy", code=1)
    by_page, by_cli = _imports(central)
    assert by_page.actor == by_cli.actor == "wendy"
    assert [sorted(i) for i in by_page.data["items"]] == [sorted(i) for i in by_cli.data["items"]]
    assert [i["source"].rsplit("!", 1)[1] for i in by_page.data["items"]] == \
           [i["source"].rsplit("!", 1)[1] for i in by_cli.data["items"]]


def test_uploads_refused_when_too_large_foreign_or_not_an_item_writer(
        central, staff_web, signed_in_page, tmp_path, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 2**20)  # the server runs in this process: a 1 MiB limit
    package = _package(tmp_path / "pkg.zip")
    wendy = signed_in_page("wendy", ("item_writer",))
    wendy.goto(f"{staff_web.url}/items/import/")
    wendy.get_by_label("File (").set_input_files(str(package))
    wendy.get_by_role("button", name="Upload and show the report").click()
    upload_id = wendy.locator("input[name=upload]").first.get_attribute("value")
    csrf = wendy.locator("input[name=csrf]").first.get_attribute("value")

    too_big = wendy.request.post(f"{staff_web.url}/items/import/", multipart={
        "csrf": csrf, "file": {"name": "big.zip", "mimeType": "application/zip", "buffer": b"\0" * (2**20 + 1)}})
    assert too_big.status == 422 and "larger than 1 MiB" in too_big.text()
    script = wendy.request.post(f"{staff_web.url}/items/import/", multipart={
        "csrf": csrf, "file": {"name": "<script>.html", "mimeType": "text/html", "buffer": b"<script>"}})
    assert script.status == 422 and "<script>" not in script.text()

    ivan = signed_in_page("ivan", ("item_writer",))
    ivan.goto(f"{staff_web.url}/items/import/")
    theirs = ivan.request.post(f"{staff_web.url}/items/import/confirm", form={
        "csrf": ivan.locator("input[name=csrf]").first.get_attribute("value"), "upload": upload_id})
    assert theirs.status == 422 and "another person" in theirs.text()

    rita = signed_in_page("rita", ("reviewer",))
    rita.goto(f"{staff_web.url}/items/import/")
    expect(rita.get_by_role("heading", level=1)).to_have_text("Not allowed")
    forged = rita.request.post(f"{staff_web.url}/items/import/confirm", form={
        "csrf": rita.locator("input[name=csrf]").first.get_attribute("value"), "upload": upload_id})
    assert forged.status == 403
    assert central.json("items", "list") == {"items": []}


def _upload_and_confirm(page, url: str, path: Path) -> None:
    page.goto(f"{url}/items/import/")
    page.get_by_label("File (").set_input_files(str(path))
    page.get_by_role("button", name="Upload and show the report").click()
    page.get_by_role("button", name="Confirm: import these items").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import report")


def test_a_changed_file_uploaded_again_becomes_its_next_version(central, staff_web, signed_in_page, tmp_path):
    """One file's source key does not depend on the upload (``uploaded/NAME``): its second upload
    is the same source, so changed content is version 2 and not a clash with another source."""
    wendy = signed_in_page("wendy", ("item_writer",))
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    (tmp_path / "one" / "single.xml").write_text(choice_item("single"))
    (tmp_path / "two" / "single.xml").write_text(choice_item("single", correct="B"))
    _upload_and_confirm(wendy, staff_web.url, tmp_path / "one" / "single.xml")
    _upload_and_confirm(wendy, staff_web.url, tmp_path / "two" / "single.xml")
    expect(wendy.get_by_role("table", name="Each file")).to_contain_text("single version 2")
    expect(wendy.get_by_role("table", name="Each file")).to_contain_text("new_version")
    shown = central.json("items", "show", "single")
    assert shown["versions"] == [1, 2] and shown["source_key"] == "uploaded/single.xml"
    assert not (central.data_dir / "uploads").exists() or not any((central.data_dir / "uploads").iterdir())


def test_an_upload_left_for_a_day_is_removed_by_the_next(tmp_path):
    root = tmp_path / "uploads"
    left = uploads.save(root, "a.xml", io.BytesIO(choice_item("a").encode()), "wendy", ImportOptions(), "refuse")
    day_ago = time.time() - uploads.MAX_AGE_SECONDS - 60
    os.utime(left.folder, (day_ago, day_ago))
    fresh = uploads.save(root, "b.xml", io.BytesIO(choice_item("b").encode()), "wendy", ImportOptions(), "refuse")
    assert not left.folder.exists() and fresh.path.is_file()
    assert fresh.path.relative_to(root).parts[1:] == ("uploaded", "b.xml")
