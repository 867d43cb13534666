"""Item versions and their document control, recorded in the item history and the audit chain."""

from __future__ import annotations

from pathlib import Path

from exam_core import keys
from tests.support.central_db import audit_of
from tests.support.central_items import choice_item, write_qti


def test_versions_status_history_and_audit(central, tmp_path: Path) -> None:
    path = write_qti(tmp_path, "q.xml", choice_item("q1"))
    first = central.json("import", path)["imported"][0]
    assert (first["version"], first["outcome"]) == (1, "created")
    assert central.json("import", path)["imported"][0]["outcome"] == "unchanged"

    refused = central.run("items", "approve", "q1", "--by", "ann", "--json")
    assert refused.exit_code == 1 and "needs reviewed" in refused.data["error"]
    central.json("items", "review", "q1", "--by", "ann", "--note", "checked wording")
    four_eyes = central.run("items", "approve", "q1", "--by", "ann", "--json")
    assert four_eyes.exit_code == 1 and "second person" in four_eyes.data["error"]
    approved = central.json("items", "approve", "q1", "--by", "bob")
    assert (approved["from"], approved["status"]) == ("reviewed", "approved")

    write_qti(tmp_path, "q.xml", choice_item("q1", correct="B"))  # a changed key is a changed item
    second = central.json("import", path)["imported"][0]
    assert (second["version"], second["outcome"]) == (2, "new_version")
    listed = central.json("items", "list", "--all-versions")["items"]
    assert [(r["version"], r["status"]) for r in listed] == [(1, "approved"), (2, "draft")]
    assert central.json("items", "list", "--status", "approved")["items"] == []  # latest is a draft
    shown = central.json("items", "show", "q1", "--version", "1")
    assert shown["key"]["responses"][0]["correct"] == "A" and shown["versions"] == [1, 2]
    assert [(h["version"], h["to"], h["by"]) for h in shown["history"]] == [
        (1, "draft", shown["created_by"]), (1, "reviewed", "ann"), (1, "approved", "bob"),
        (2, "draft", shown["created_by"])]
    assert shown["history"][1]["note"] == "checked wording"
    central.json("items", "retire", "q1", "--by", "carol", "--version", "1", "--note", "superseded")
    assert central.json("items", "show", "q1", "--version", "1")["status"] == "retired"

    log = audit_of(central.data_dir)
    actions = [(e.action, e.actor) for e in log.entries()]
    assert actions[0][0] == "central.init"
    assert [a for a in actions if a[0].startswith("item.")] == [
        ("item.import", shown["created_by"]), ("item.review", "ann"), ("item.approve", "bob"),
        ("item.import", shown["created_by"]), ("item.retire", "carol")]
    central_key = keys.load_signing_public_key(central.data_dir / "keys" / "central-signing.pub")
    report = log.verify(central_key)  # raises AuditTamperedError on a broken chain or bad checkpoint
    assert report.entries == len(actions) and report.checkpoints == len(actions) and report.signatures_checked


def test_list_filters(central, tmp_path: Path) -> None:
    write_qti(tmp_path / "a", "one.xml", choice_item("alpha-1"))
    write_qti(tmp_path / "b", "two.xml", choice_item("beta-1"))
    central.json("import", tmp_path / "a", "--area", "area-a")
    central.json("import", tmp_path / "b", "--area", "area-b")
    assert [r["item_id"] for r in central.json("items", "list", "--area", "area-b")["items"]] == ["beta-1"]
    assert [r["item_id"] for r in central.json("items", "list", "--search", "alpha")["items"]] == ["alpha-1"]
    assert len(central.json("items", "list", "--interaction", "choice")["items"]) == 2
    assert central.json("items", "list", "--interaction", "order")["items"] == []
    missing = central.run("items", "show", "nope", "--json")
    assert missing.exit_code == 1 and "no item nope" in missing.data["error"]
