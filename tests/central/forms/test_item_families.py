"""Item families on forms (issue 18): one instance per form version, drawn at build, packed and scored.

Real parts end to end: the QTI file goes through the importer into the bank, is reviewed and
approved by two people, a scheme is added and forms are built with the real assembly; the package
content is what publishing reads, and a kiosk-sealed envelope answering the instance is taken in by
the real intake, which scores it against the instance's key.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from PIL import Image

from exam_core.errors import ValidationError
from exam_core.sync_wire import ACCEPTED
from item_bank_sync.analysis.of_form import analyze_form
from item_bank_sync.analysis.report import render_html
from item_bank_sync.analysis.stats import FlagThresholds
from item_bank_sync.cases.keys import corrected_key
from item_bank_sync.forms.actions import add_scheme, build_forms
from item_bank_sync.forms.export import export_form
from item_bank_sync.forms.publish import form_content
from item_bank_sync.forms.store import form_instances
from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.items.importer import ImportOptions, iter_sources
from item_bank_sync.items.qti.templates import Draw, TemplateUnsatisfiable
from item_bank_sync.results.intake import Intake, load_form_scoring
from item_bank_sync.results.scoring import score_response
from item_bank_sync.web.items.markwork import task_page
from tests.support.central_db import bank_of, central_db, sql
from tests.support.central_world import CENTRE_ID, World, build_world
from tests.support.qti_families import ESSAY_FAMILY, MAPPED_FAMILY, PRODUCT_FAMILY, family22

SCHEME = """format: invigil-scheme/1
id: ALG
version: 1
title: Algebra
eligibility: None.
duration_minutes: 30
cut_score_percent: 50
blueprint:
  - {area: algebra, items: 1}
"""


def _bank_family(world: World, tmp_path: Path, source: bytes, picture: bool = False, item_id: str = "triple") -> None:
    folder = tmp_path / "families"
    folder.mkdir()
    (folder / "triple.xml").write_bytes(source)
    if picture:
        (folder / "img").mkdir()
        Image.new("RGB", (8, 8), "red").save(folder / "img" / "dot.png")
    parsed = list(iter_sources([folder], ImportOptions(area="algebra")))
    bank = world.context.item_bank()
    bank.store_batch(parsed, "alice")  # type: ignore[arg-type]  # a refusal here fails the test loudly
    bank.transition("review", item_id, "alice")
    bank.transition("approve", item_id, "bob")
    add_scheme(world.context, SCHEME.encode(), "alg.yaml", "carol")


def _shown(body_html: str) -> int:
    return int(re.search(r"3 times (\d+)\?", body_html).group(1))


@pytest.fixture
def world(tmp_path: Path) -> World:
    return build_world(tmp_path / "central")


def test_each_form_draws_once_and_its_key_scores_the_instance(world: World, tmp_path: Path) -> None:
    _bank_family(world, tmp_path, family22(""))
    built = build_forms(world.context, "ALG", None, 3, 11, "carol")
    forms = [(f["form_id"], f["version"]) for f in built.forms]
    shown = []
    for form_id, version in forms:
        content, _ = form_content(world.context, form_id, version)
        (item,) = content.items
        drawn = form_instances(world.context.open_bank_db(), form_id, version)["triple"]
        assert drawn[0] == item and drawn[2] == Draw(form_id, version, "triple", 1).seed_hex
        scoring = load_form_scoring(world.context.open_bank_db(), form_id, version)
        assert scoring.keys[0].responses[0].correct == 3 * _shown(item.body_html)  # the key is the instance's
        assert scoring.keys[0].family is None
        shown.append(_shown(item.body_html))
    assert len(set(shown)) > 1  # forms drew different instances
    again = build_forms(world.context, "ALG", None, 3, 11, "carol")  # unchanged: same forms, same instances
    assert {f["outcome"] for f in again.forms} == {"unchanged"}
    assert [_shown(form_content(world.context, f, v)[0].items[0].body_html) for f, v in forms] == shown


def test_a_right_answer_to_the_instance_scores_full_marks_through_intake(world: World, tmp_path: Path) -> None:
    _bank_family(world, tmp_path, family22(""))
    totals = _intake_totals(world)
    assert totals == {"att-right": 1.0, "att-wrong": 0.0}


def test_intake_scores_with_the_mapping_the_form_drew(world: World, tmp_path: Path) -> None:
    """The mapping's key and points are template variables: intake scores with the instance's."""
    _bank_family(world, tmp_path, MAPPED_FAMILY)
    assert _intake_totals(world) == {"att-right": 2.5, "att-wrong": 0.0}


def _intake_totals(world: World) -> dict[str, float]:
    """Build one form, take in a kiosk envelope answering its instance right and one answering
    wrong through the real intake, and return each attempt's total."""
    (form,) = build_forms(world.context, "ALG", None, 1, 3, "carol").forms
    content, _ = form_content(world.context, form["form_id"], form["version"])
    answer = 3 * _shown(content.items[0].body_html)
    bank = bank_of(world.data_dir)
    (row,) = bank.query("SELECT * FROM packages")
    bank["packages"].insert({**row, "package_id": "pkg-fam", "form_id": form["form_id"],
                             "form_version": form["version"]})
    db = central_db(world.data_dir)
    intake = Intake(db.bank, db.results, world.keys, [])
    over = {"form_id": form["form_id"], "form_version": form["version"], "package_id": "pkg-fam"}
    for attempt, given in (("att-right", answer), ("att-wrong", answer + 1)):
        sealed = world.seal(attempt, {"triple": given}, payload=world.payload(attempt, {"triple": given}, **over),
                            **over)
        outcome = intake.receive(sealed, CENTRE_ID)
        assert outcome.status == ACCEPTED, outcome.reason
    return dict(sql(db.results).execute("SELECT attempt_id, total FROM attempts").fetchall())


def test_an_unmet_constraint_fails_the_build_naming_the_item_and_stores_nothing(world: World,
                                                                               tmp_path: Path) -> None:
    """The importer refuses such a family at its preview draw, so this one is put in the bank as a
    family stored before (its text swapped for one whose constraint can never hold)."""
    _bank_family(world, tmp_path, family22(""))
    never = family22("""
    <setTemplateValue identifier="A"><randomInteger min="2" max="20"/></setTemplateValue>
    <templateConstraint><lt><variable identifier="A"/><baseValue baseType="integer">2</baseValue></lt>
    </templateConstraint>""")
    bank = bank_of(world.data_dir)
    (key_json,) = bank.execute("SELECT key_json FROM items WHERE item_id = 'triple'").fetchone()
    key = json.loads(key_json)
    key["family"]["qti"] = never.decode().split("?>", 1)[1]
    bank.execute("UPDATE items SET key_json = ? WHERE item_id = 'triple'", (json.dumps(key),))
    with pytest.raises(TemplateUnsatisfiable) as failed:
        build_forms(world.context, "ALG", None, 2, 5, "carol")
    assert failed.value.element == "templateConstraint of item triple v1" and "100 draws" in failed.value.problem
    counts = [bank.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("forms", "item_instances")]
    assert counts == [1, 0]  # the world's own form only: the failed build stored nothing


def test_form_export_writes_the_family_and_it_imports_back_equal(world: World, tmp_path: Path) -> None:
    _bank_family(world, tmp_path, family22(""))
    (form,) = build_forms(world.context, "ALG", None, 1, 3, "carol").forms
    out = tmp_path / "form.zip"
    export_form(world.context, form["form_id"], out, form["version"], "carol")
    (parsed,) = [p for p in iter_sources([out], ImportOptions(area="algebra")) if not isinstance(p, ItemRejected)]
    bank = world.context.item_bank()
    assert parsed.key.family == bank.answer_key("triple", 1).family and parsed.key.family is not None
    assert parsed.item.to_dict() == bank.item("triple", 1).to_dict()
    assert world.context.item_bank().store_batch([parsed], "alice")[0].outcome == "unchanged"


def test_a_family_cannot_be_a_corrected_key_for_a_rescore(world: World, tmp_path: Path) -> None:
    """Its stored key is the preview's, not any form's: a re-score with it would be wrong."""
    _bank_family(world, tmp_path, family22(""))
    with pytest.raises(ValidationError, match="is an item family"):
        corrected_key(world.context, "triple@1")


def test_a_family_with_a_picture_draws_it_from_the_bank_s_media(world: World, tmp_path: Path) -> None:
    _bank_family(world, tmp_path, family22("", body='<p><img src="img/dot.png" alt="A red dot"/></p>'), picture=True)
    family = world.context.item_bank().answer_key("triple", 1).family
    assert family is not None and "img/dot.png" not in family.qti and 'src="media:' in family.qti
    (form,) = build_forms(world.context, "ALG", None, 1, 3, "carol").forms
    content, media = form_content(world.context, form["form_id"], form["version"])
    (ref,) = content.items[0].media
    assert f'src="media:{ref.sha256}"' in content.items[0].body_html and media[ref.sha256].startswith(b"\x89PNG")
    out = tmp_path / "form.zip"
    export_form(world.context, form["form_id"], out, form["version"], "carol")
    (parsed,) = list(iter_sources([out], ImportOptions(area="algebra")))
    assert world.context.item_bank().store_batch([parsed], "alice")[0].outcome == "unchanged"  # type: ignore[list-item]


def test_the_cli_imports_a_family_with_a_warning_and_a_failed_draw_stops_the_build(central, tmp_path: Path) -> None:
    folder = tmp_path / "fam"
    folder.mkdir()
    (folder / "triple.xml").write_bytes(family22(""))
    report = central.json("import", folder, "--area", "algebra", "--by", "wendy")
    assert [r["outcome"] for r in report["imported"]] == ["created"]
    assert "an item family" in json.dumps(report)
    central.approve_all()
    scheme = tmp_path / "alg.yaml"
    scheme.write_text(SCHEME)
    central.json("schemes", "add", scheme, "--by", "psy")
    built = central.json("forms", "build", "--scheme", "ALG", "--count", "2", "--seed", "4", "--by", "psy")
    assert [f["outcome"] for f in built["forms"]] == ["created", "created"]
    bank = bank_of(central.data_dir)
    (key_json,) = bank.execute("SELECT key_json FROM items WHERE item_id = 'triple'").fetchone()
    key = json.loads(key_json)
    key["family"]["qti"] = key["family"]["qti"].replace('min="2"', 'min="30"')  # an empty range: 30..20
    bank.execute("UPDATE items SET key_json = ? WHERE item_id = 'triple'", (json.dumps(key),))
    failed = central.run("forms", "build", "--scheme", "ALG", "--count", "2", "--seed", "5", "--by", "psy")
    assert failed.exit_code == 1
    assert "item triple v1 randomInteger: min=30 max=20 step=1 is an empty range" in failed.output + failed.stderr
    assert bank.execute("SELECT COUNT(*) FROM forms").fetchone()[0] == 2  # the failed build stored nothing


def test_markers_see_the_instance_the_candidate_answered(world: World, tmp_path: Path) -> None:
    _bank_family(world, tmp_path, ESSAY_FAMILY.replace(b'identifier="essay-fam"', b'identifier="triple"'))
    (form,) = build_forms(world.context, "ALG", None, 1, 8, "carol").forms
    content, _ = form_content(world.context, form["form_id"], form["version"])
    volts = re.search(r"a (\d+) V supply", content.items[0].body_html).group(1)
    assert volts != re.search(r"a (\d+) V supply",  # the bank's preview drew another value
                              world.context.item_bank().item("triple", 1).body_html).group(1)
    bank = bank_of(world.data_dir)
    (row,) = bank.query("SELECT * FROM packages")
    bank["packages"].insert({**row, "package_id": "pkg-fam", "form_id": form["form_id"],
                             "form_version": form["version"]})
    db = central_db(world.data_dir)
    over = {"form_id": form["form_id"], "form_version": form["version"], "package_id": "pkg-fam"}
    answers = {"triple": "Because a fault must trip the breaker."}
    sealed = world.seal("att-1", answers, payload=world.payload("att-1", answers, **over), **over)
    assert Intake(db.bank, db.results, world.keys, []).receive(sealed, CENTRE_ID).status == ACCEPTED
    (task_id,) = sql(db.results).execute("SELECT task_id FROM marking_tasks").fetchone()
    page = task_page(db.results, world.context.item_bank(), task_id, "mo")
    assert f"a {volts} V supply" in page.prompt_html and f"name the {volts} V fault path" in page.rubric_html


def test_a_family_with_a_shared_stimulus_draws_the_passage_and_its_picture(world: World, tmp_path: Path) -> None:
    """A QTI 3 package whose family refers to a shared passage (with a picture): the passage is
    kept in the family, so each form's draw shows it before the body, and export re-imports equal."""
    package = Path(__file__).parents[2] / "data" / "qti-corpus" / "invigil-package"
    (parsed,) = [p for p in iter_sources([package], ImportOptions(area="algebra"))
                 if not isinstance(p, ItemRejected) and p.item.item_id == "stimulus-family"]
    bank = world.context.item_bank()
    bank.store_batch([parsed], "alice")
    bank.transition("review", "stimulus-family", "alice")
    bank.transition("approve", "stimulus-family", "bob")
    add_scheme(world.context, SCHEME.encode(), "alg.yaml", "carol")
    seen = set()
    for form in build_forms(world.context, "ALG", None, 4, 7, "carol").forms:
        content, media = form_content(world.context, form["form_id"], form["version"])
        (item,) = content.items
        assert item.body_html.startswith('<div class="stimulus">\n<p>The keeper trimmed the wick at dusk')
        (ref,) = item.media
        assert media[ref.sha256].startswith(b"\x89PNG")
        key = load_form_scoring(world.context.open_bank_db(), form["form_id"], form["version"]).keys[0]
        asked = "dusk" if "at dusk?" in item.interactions[0].prompt_html else "midnight"
        assert key.responses[0].correct == {"dusk": "WICK", "midnight": "CLOCK"}[asked]
        seen.add(asked)
        out = tmp_path / f"{form['form_id']}.zip"
        export_form(world.context, form["form_id"], out, form["version"], "carol")
        (again,) = list(iter_sources([out], ImportOptions(area="algebra")))
        assert bank.store_batch([again], "alice")[0].outcome == "unchanged"  # type: ignore[list-item]
    assert seen == {"dusk", "midnight"}


def test_item_analysis_says_a_family_s_numbers_are_one_instance_s(world: World, tmp_path: Path) -> None:
    """Per form, a family's statistics are its instance's: the report marks it with the seed, and
    they are not written as the item version's statistics (another form draws another instance)."""
    _bank_family(world, tmp_path, family22(""))
    _intake_totals(world)
    bank = bank_of(world.data_dir)
    (form_id, version, seed), = bank.execute("SELECT form_id, form_version, seed FROM item_instances").fetchall()
    analysis, title = analyze_form(world.context, f"{form_id}@{version}", FlagThresholds(), write_stats=True)
    (stats,) = analysis.items
    assert stats.family_seed == seed and stats.to_dict()["family_instance_seed"] == seed and stats.p == 0.5
    assert "1 item family (triple): statistics of this form's instance only" in title
    assert bank.execute("SELECT COUNT(*) FROM item_stats WHERE item_id = 'triple'").fetchone() == (0,)
    assert f"item family: this\n   form's instance (seed {seed[:12]})" in render_html(analysis, title)


def test_a_numeric_family_accepts_its_own_product_within_one_percent(world: World, tmp_path: Path) -> None:
    """"Compute V x I; accept within 1 %": each form's key is its own product, with the tolerance
    (a template variable) kept on the key that intake reads back from the form's draw."""
    _bank_family(world, tmp_path, PRODUCT_FAMILY, item_id="product")
    for form in build_forms(world.context, "ALG", None, 3, 13, "carol").forms:
        content, _ = form_content(world.context, form["form_id"], form["version"])
        amps, volts = re.search(r"draws (\d+\.\d) A from a (\d+) V", content.items[0].body_html).groups()
        (key,) = load_form_scoring(world.context.open_bank_db(), form["form_id"], form["version"]).keys[0].responses
        power = float(amps) * int(volts)
        assert key.correct == pytest.approx(power) and key.tolerance is not None and key.tolerance.low == 1.0
        # QTI equal(RESPONSE, correct): the 1 % band is around the answer given
        assert [score_response(v, key) for v in (power, round(power), power * 1.0099, power * 1.0102,
                                                 power * 0.9899)] == [2.0, 2.0, 2.0, 0.0, 0.0]
