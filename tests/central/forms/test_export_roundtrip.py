"""``export`` writes a QTI 3.0 content package that ``import`` reads back to the very same items."""

from __future__ import annotations

import zipfile
from pathlib import Path

from lxml import etree

from item_bank_sync.context import CentralContext
from tests.support.central_cli import Central


def test_export_import_round_trip(central: Central, samples: Path, tmp_path: Path) -> None:
    central.run("import", samples / "2_1", "--area", "general")
    central.run("import", samples / "3_0", "--area", "reading", "--assume-match-correct")
    central.approve_all()
    approved = central.json("items", "list", "--status", "approved")["items"]
    areas = {"general": sum(r["competency_area"] == "general" for r in approved), "reading": 3}
    (tmp_path / "s.yaml").write_text(
        "format: invigil-scheme/1\nid: ALL\nversion: 1\ntitle: All\nduration_minutes: 30\ncut_score_percent: 50\n"
        "blueprint:\n" + "".join(f"  - {{area: {a}, items: {n}}}\n" for a, n in areas.items()))
    central.json("schemes", "add", tmp_path / "s.yaml")
    form_id = central.json("forms", "build", "--scheme", "ALL", "--count", "1", "--seed", "9")["forms"][0]["form_id"]
    out = tmp_path / "export.zip"
    exported = central.json("export", "--form", form_id, "--out", out)
    assert exported["items"] == len(approved) and exported["contains_answer_keys"]

    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        manifest = etree.fromstring(archive.read("imsmanifest.xml"))
        item_xml = etree.fromstring(archive.read("items/hotspot.xml"))
    assert "imsmanifest.xml" in names and "test.xml" in names and sum(n.startswith("media/") for n in names) == 3
    assert etree.QName(item_xml).localname == "qti-assessment-item"
    assert etree.QName(item_xml).namespace == "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
    assert {r.get("type") for r in manifest.iter("{*}resource")} == {"imsqti_item_xmlv3p0", "imsqti_test_xmlv3p0"}

    fresh = Central(tmp_path / "fresh")
    fresh.json("init", "--body-id", "other-body", "--name", "Other")
    imported = fresh.json("import", out)
    assert len(imported["imported"]) == len(approved) and imported["rejected"] == []
    assert all(r["warnings"] == [] for r in imported["imported"])
    source_bank = CentralContext(central.data_dir).item_bank()
    target_bank = CentralContext(fresh.data_dir).item_bank()
    for row in approved:
        version = row["version"]
        assert target_bank.item(row["item_id"], 1) == source_bank.item(row["item_id"], version).__class__.from_dict(
            {**source_bank.item(row["item_id"], version).to_dict(), "version": 1})
        source_key = source_bank.answer_key(row["item_id"], version)
        assert target_bank.answer_key(row["item_id"], 1).responses == source_key.responses
    again = central.json("import", out)  # into the bank it came from: nothing changes
    assert {r["outcome"] for r in again["imported"]} == {"unchanged"}
