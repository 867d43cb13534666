"""Identity of imported items, the import report and --dry-run, through the real CLI and bank.db.

Items from different sources reuse identifiers (``choice``, ``question1``); before, the second
silently became a new *version* of the first, and re-importing both made ever more versions.
Now a clash is refused with what to do, ``--namespace`` keeps sources apart, and re-importing
unchanged files is a no-op.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from item_bank_sync.context import CentralContext
from item_bank_sync.db.migrate import head_of
from tests.central.items.qti_corpus_table import CORPUS, IMPORTED, REFUSED, SOURCES
from tests.support.central_cli import Central
from tests.support.central_db import central_db, execute, rows, value
from tests.support.central_items import choice_item, write_qti


def two_sources(tmp_path: Path) -> tuple[Path, Path]:
    tao = tmp_path / "tao"
    onyx = tmp_path / "onyx"
    write_qti(tao, "choice.xml", choice_item(identifier="choice", body_extra="<p>TAO's question</p>"))
    write_qti(onyx, "choice.xml", choice_item(identifier="choice", body_extra="<p>ONYX's question</p>"))
    return tao, onyx


def test_a_second_source_reusing_an_identifier_is_a_clash_not_a_version(central: Central, tmp_path: Path) -> None:
    tao, onyx = two_sources(tmp_path)
    assert central.json("import", tao)["imported"][0]["outcome"] == "created"
    clash = central.json("import", onyx, code=1)
    (refused,) = clash["rejected"]
    assert refused["item_id"] == "choice" and "tao/choice.xml" in refused["reason"]
    assert "--namespace" in refused["reason"] and "--on-clash new-version" in refused["reason"]
    assert central.json("items", "show", "choice")["versions"] == [1]
    for _ in range(2):  # re-importing both, unchanged, is a no-op every time
        again = central.json("import", tao)
        assert [r["outcome"] for r in again["imported"]] == ["unchanged"]
        central.json("import", onyx, code=1)
    assert central.json("items", "show", "choice")["versions"] == [1]


def test_namespaces_keep_sources_apart_and_are_recorded(central: Central, tmp_path: Path) -> None:
    tao, onyx = two_sources(tmp_path)
    central.json("import", tao, "--namespace", "tao")
    central.json("import", onyx, "--namespace", "onyx")
    ids = sorted(r["item_id"] for r in central.json("items", "list")["items"])
    assert ids == ["onyx.choice", "tao.choice"]
    shown = central.json("items", "show", "onyx.choice")
    assert (shown["namespace"], shown["source_key"]) == ("onyx", "onyx/choice.xml")
    assert "ONYX's question" in shown["item"]["body_html"] and shown["key"]["item_id"] == "onyx.choice"
    bad = central.run("import", onyx, "--namespace", "a.b")
    assert bad.exit_code == 2 and "letters, digits" in bad.stderr


def test_an_edited_file_is_the_next_version_and_on_clash_can_say_so(central: Central, tmp_path: Path) -> None:
    tao, onyx = two_sources(tmp_path)
    central.json("import", tao)
    write_qti(tao, "choice.xml", choice_item(identifier="choice", body_extra="<p>TAO's question, edited</p>"))
    assert central.json("import", tao)["imported"][0]["outcome"] == "new_version"
    moved = central.json("import", onyx, "--on-clash", "new-version")
    assert [(r["outcome"], r["version"]) for r in moved["imported"]] == [("new_version", 3)]


def test_dry_run_reports_and_changes_nothing(central: Central, tmp_path: Path) -> None:
    before = _rows(central.data_dir)
    dry = central.json("import", *[CORPUS / s for s in SOURCES], "--dry-run", code=1)
    assert dry["dry_run"] is True
    assert len(dry["imported"]) == len(IMPORTED) and len(dry["rejected"]) == len(REFUSED)
    assert {r["outcome"] for r in dry["imported"]} == {"created"}
    assert _rows(central.data_dir) == before and not any(p.is_file() for p in (central.data_dir / "media").rglob("*"))
    real = central.json("import", *[CORPUS / s for s in SOURCES], code=1)
    assert [(r["item_id"], r["outcome"]) for r in real["imported"]] == [(r["item_id"], r["outcome"])
                                                                       for r in dry["imported"]]
    assert real["summary"] == dry["summary"]
    again = central.json("import", *[CORPUS / s for s in SOURCES], "--dry-run", code=1)
    assert {r["outcome"] for r in again["imported"]} == {"unchanged"}


def test_report_groups_by_source_folder_and_reason(central: Central) -> None:
    report = central.json("import", *[CORPUS / s for s in SOURCES], code=1)["summary"]
    folders = {Path(f["folder"].split("!")[0]).name + ("!" + f["folder"].split("!")[1] if "!" in f["folder"] else ""): f
               for f in report["folders"]}
    pie = folders["pie-qti"]
    assert (pie["imported"], pie["refused"]) == (4, 4)
    assert pie["refused_by_reason"]["outcomeProcessing: is not supported at the top level of an item"] == 1
    assert sum(pie["refused_by_reason"].values()) == 4
    assert report["totals"]["imported"] == len(IMPORTED) and report["totals"]["refused"] == len(REFUSED)
    assert folders["invigil-package!items"]["warnings"] >= 3
    assert sum(report["totals"]["refused_by_reason"].values()) == len(REFUSED)
    human = central.run("import", CORPUS / "pie-qti")
    assert "import report" in human.output and "pie-qti" in human.output


def test_a_bank_from_before_provenance_is_migrated(tmp_path: Path) -> None:
    """A version-3 bank.db gains the columns; its rows have no source key, so they cannot clash."""
    data = tmp_path / "central"
    central = Central(data)
    central.json("init", "--body-id", "b", "--name", "B")
    write_qti(tmp_path / "a", "choice.xml", choice_item(identifier="choice"))
    central.json("import", tmp_path / "a")
    bank = central_db(data).bank
    execute(bank, "UPDATE items SET source_key = NULL")  # make it look as a version-3 bank wrote it
    write_qti(tmp_path / "b", "choice.xml", choice_item(identifier="choice", body_extra="<p>new</p>"))
    assert central.json("import", tmp_path / "b")["imported"][0]["outcome"] == "new_version"
    assert value(bank, "SELECT version_num FROM alembic_version WHERE version_num LIKE 'bank_%'") == head_of("bank")


def test_weighted_cloze_and_rubric_items_survive_export_and_import(central: Central, tmp_path: Path) -> None:
    """The writer puts inline per-response sums and the scorer rubric back; import reads the same key."""
    names = ["invigil/cloze-sum.xml", "invigil/weighted-maxscore.xml", "invigil/weighted-constant-qti3.xml",
             "invigil/essay-scorer-rubric.xml", "invigil/inline-map-response-guarded.xml"]
    folder = tmp_path / "some"
    folder.mkdir()
    for name in names:
        (folder / Path(name).name).write_bytes((CORPUS / name).read_bytes())
    central.json("import", folder, "--area", "general")
    central.approve_all()
    (tmp_path / "s.yaml").write_text("format: invigil-scheme/1\nid: S\nversion: 1\ntitle: S\nduration_minutes: 30\n"
                                     f"cut_score_percent: 50\nblueprint:\n  - {{area: general, items: {len(names)}}}\n")
    central.json("schemes", "add", tmp_path / "s.yaml")
    form = central.json("forms", "build", "--scheme", "S", "--count", "1", "--seed", "1")["forms"][0]["form_id"]
    out = tmp_path / "export.zip"
    central.json("export", "--form", form, "--out", out)
    with zipfile.ZipFile(out) as archive:
        cloze = archive.read("items/cloze-sum.xml").decode()
    assert "qti-response-processing>" in cloze and "RESPONSE_3" in cloze  # inline rules, not a template
    fresh = Central(tmp_path / "fresh")
    fresh.json("init", "--body-id", "other", "--name", "Other")
    fresh.json("import", out)
    source, target = CentralContext(central.data_dir).item_bank(), CentralContext(fresh.data_dir).item_bank()
    for name in names:
        item_id = Path(name).stem
        assert target.answer_key(item_id, 1).responses == source.answer_key(item_id, 1).responses, item_id
        assert target.answer_key(item_id, 1).rubric_html == source.answer_key(item_id, 1).rubric_html
    assert "fault path" in target.answer_key("essay-scorer-rubric", 1).rubric_html
    assert {r["outcome"] for r in central.json("import", out)["imported"]} == {"unchanged"}


def _rows(data_dir: Path) -> list[tuple]:
    bank = central_db(data_dir).bank
    return rows(bank, "SELECT item_id, version FROM items ORDER BY item_id, version") + \
        rows(bank, "SELECT sha256 FROM media ORDER BY sha256") + rows(bank, "SELECT COUNT(*) FROM item_status")
