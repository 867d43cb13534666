# ruff: noqa: E501  (the QTI fixtures are written one element per line, as authoring tools write them)
"""QTI item families whose key is made of template variables (issue 18, second half): the correct
choice drawn among fixed identifiers, a mapping whose keys and values a draw computes, and a
numeric key computed by the draw and accepted within a tolerance (QTI equal with toleranceMode).

Every instance is plain QTI read by the ordinary reader with all its checks, so a draw whose
correct identifier is not among the choices shown is refused like a plain item would be.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from exam_core.model import AnswerKey, Item, ResponseKey, Tolerance
from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.items.qti.families import draw_instance, parse_item
from item_bank_sync.items.qti.writer import item_to_qti
from item_bank_sync.results.scoring import score_response
from tests.support.qti_families import MAPPED_FAMILY, PRODUCT_FAMILY, QTI22, choice_family, family22, no_media

CITIES = {"A": "France", "B": "Italy", "C": "Spain"}


def _instance(source: bytes, form_id: str) -> tuple[Item, AnswerKey]:
    parsed = parse_item(source, "family.xml", no_media)
    item, key, _ = draw_instance(parsed.item, parsed.key, form_id, 1, lambda sha: b"")
    return item, key


def test_the_correct_choice_is_drawn_among_fixed_identifiers() -> None:
    seen = set()
    for form in "ABCDEFGHIJ":
        item, key = _instance(choice_family(), form)
        right = key.responses[0].correct
        assert f"capital of {CITIES[right]}?" in item.body_html  # the question asks about the drawn one
        assert [c.id for c in item.interactions[0].choices] == ["A", "B", "C"]
        seen.add(right)
    assert seen == {"A", "B", "C"}


def test_a_drawn_correct_choice_that_is_not_shown_is_refused_by_the_reader() -> None:
    hidden = '<simpleChoice identifier="D" templateIdentifier="RIGHT" showHide="show">Lyon</simpleChoice>'
    with pytest.raises(ItemRejected) as refused:
        parse_item(choice_family("OTHER", hidden), "capital.xml", no_media)
    assert "correctResponse" in refused.value.element and "'D' is not one of the options" in refused.value.problem


def test_mapping_keys_and_values_come_from_the_draw() -> None:
    values = set()
    for form in "ABCDEF":
        item, key = _instance(MAPPED_FAMILY, form)
        a = int(item.body_html.split("3 times ")[1].split("?")[0])
        (response,) = key.responses
        assert response.template == "map_response" and response.mapping == {str(3 * a): 2.5, "0": -1.0}
        assert response.max_score == 2.5
        values.add(a)
    assert len(values) > 2


def test_a_mapping_variable_without_a_single_value_is_refused_naming_the_entry() -> None:
    unset = MAPPED_FAMILY.replace(b'<setTemplateValue identifier="PTS">', b'<setTemplateValue identifier="R">')
    with pytest.raises(ItemRejected) as refused:
        parse_item(unset, "mapped.xml", no_media)
    assert refused.value.element == "responseDeclaration[RESPONSE]//mapEntry@mappedValue"
    assert "PTS" in refused.value.problem


def test_area_mapping_from_template_variables() -> None:
    """A hotspot-free point family: the target circle's centre and its points are drawn."""
    decls = ('<templateDeclaration identifier="CIRCLE" cardinality="single" baseType="string"/>'
             '<templateDeclaration identifier="PTS" cardinality="single" baseType="float"/>')
    processing = """
    <setTemplateValue identifier="A"><randomInteger min="2" max="9"/></setTemplateValue>
    <setTemplateValue identifier="PTS"><baseValue baseType="float">2</baseValue></setTemplateValue>
    <templateCondition><templateIf><gt><variable identifier="A"/><baseValue baseType="integer">5</baseValue></gt>
      <setTemplateValue identifier="CIRCLE"><baseValue baseType="string">60,60,10</baseValue></setTemplateValue></templateIf>
      <templateElse><setTemplateValue identifier="CIRCLE"><baseValue baseType="string">20,20,10</baseValue></setTemplateValue></templateElse>
    </templateCondition>"""
    src = family22(processing, declarations=decls,
                   rp='<responseProcessing template="http://www.imsglobal.org/question/qti_v2p2/rptemplates/map_response_point"/>')
    src = src.replace(b'baseType="integer">\n    <correctResponse><value>0</value></correctResponse>',
                      b'baseType="point"><areaMapping defaultValue="0"><areaMapEntry shape="circle" coords="{CIRCLE}" '
                      b'mappedValue="{PTS}"/></areaMapping>')
    src = src.replace(b'<p><textEntryInteraction responseIdentifier="RESPONSE" expectedLength="3"/></p>',
                      b'<selectPointInteraction responseIdentifier="RESPONSE" maxChoices="1"><object type="image/png" '
                      b'data="grid.png" width="80" height="80"/></selectPointInteraction>')
    png = _tiny_png()
    parsed = parse_item(src, "point.xml", lambda src, el: png)
    coords = set()
    for form in "ABCDEFGH":
        item, key, _ = draw_instance(parsed.item, parsed.key, form, 1, lambda sha: png)
        a = int(item.body_html.split("3 times ")[1].split("?")[0])
        (area,) = key.responses[0].area_mapping
        assert area.coords == ((60, 60, 10) if a > 5 else (20, 20, 10)) and area.value == 2.0
        coords.add(area.coords)
    assert len(coords) == 2


def _tiny_png() -> bytes:
    import io

    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (80, 80), "white").save(out, "PNG")
    return out.getvalue()


def test_a_numeric_family_within_a_relative_tolerance() -> None:
    """QTIWorks' classic: V and I drawn, the key V*I, accepted within 1 % (the tolerance itself a
    template variable), worth 2; a value just outside scores 0."""
    products = set()
    for form in "ABCDEF":
        item, key = _instance(PRODUCT_FAMILY, form)
        amps, volts = re.search(r"draws (\d+\.\d) A from a (\d+) V", item.body_html).groups()
        (response,) = key.responses
        power = float(amps) * int(volts)
        assert response.correct == pytest.approx(power)
        assert response.tolerance == Tolerance("relative", 1.0, 1.0)
        assert score_response(power * 0.9901, response) == 2.0 and score_response(power * 0.9899, response) == 0.0
        products.add(power)
    assert len(products) > 3


@pytest.mark.parametrize(("attrs", "around", "inside", "outside"), [
    ('toleranceMode="absolute" tolerance="0.5"', "response", 10.5, 10.6),
    ('toleranceMode="absolute" tolerance="0.5 0" includeLowerBound="false"', "response", 10.2, 9.5),
    ('toleranceMode="relative" tolerance="10"', "correct", 9.0, 8.9),
])
def test_plain_items_with_equal_and_a_tolerance_import_score_and_export(attrs: str, around: str, inside: float,
                                                                        outside: float) -> None:
    """Not only families: a plain item scored by equal within a tolerance (correct 10) is a
    match_correct with that tolerance, and export writes it back so it re-imports equal."""
    order = ('<correct identifier="RESPONSE"/><variable identifier="RESPONSE"/>' if around == "correct"
             else '<variable identifier="RESPONSE"/><correct identifier="RESPONSE"/>')
    src = f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="{QTI22}" identifier="ten" title="Ten" adaptive="false" timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="float"><correctResponse><value>10</value></correctResponse></responseDeclaration>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
  <itemBody><p>How many? <textEntryInteraction responseIdentifier="RESPONSE"/></p></itemBody>
  <responseProcessing><responseCondition><responseIf><equal {attrs}>{order}</equal>
    <setOutcomeValue identifier="SCORE"><baseValue baseType="float">1</baseValue></setOutcomeValue></responseIf></responseCondition></responseProcessing>
</assessmentItem>""".encode()
    parsed = parse_item(src, "ten.xml", no_media)
    (key,) = parsed.key.responses
    assert key.tolerance is not None and key.tolerance.around == around
    assert (score_response(inside, key), score_response(outside, key), score_response(None, key)) == (1.0, 0.0, 0.0)
    again = parse_item(item_to_qti(parsed.item, parsed.key, lambda src: src), "ten-export.xml", no_media)
    assert again.key.responses == parsed.key.responses
    assert AnswerKey.from_dict(parsed.key.to_dict()) == parsed.key


def test_a_tolerance_that_is_not_numbers_or_on_a_string_is_refused() -> None:
    base = MAPPED_FAMILY  # any family: only its processing is replaced
    bad = b'<responseProcessing><responseCondition><responseIf><equal toleranceMode="relative" tolerance="a lot">' \
          b'<variable identifier="RESPONSE"/><correct identifier="RESPONSE"/></equal><setOutcomeValue identifier="SCORE">' \
          b'<baseValue baseType="float">1</baseValue></setOutcomeValue></responseIf></responseCondition></responseProcessing>'
    src = base.replace(b'<responseProcessing template="http://www.imsglobal.org/question/qti_v2p2/rptemplates/map_response"/>', bad)
    with pytest.raises(ItemRejected) as refused:
        parse_item(src, "bad.xml", no_media)
    assert refused.value.element == "responseProcessing/responseCondition[1]/equal@tolerance"
    assert "ResponseKey" not in refused.value.problem
    with pytest.raises(Exception, match="applies only to match_correct of a single integer or float"):
        ResponseKey.from_dict({"response_id": "R", "cardinality": "single", "base_type": "string",
                               "template": "match_correct", "correct": "x",
                               "tolerance": {"mode": "absolute", "low": 1, "high": 1}})


def test_the_corpus_families_draw_keys_that_fit_what_each_form_shows() -> None:
    """The families written for the corpus (tests/data/qti-corpus/invigil/family-*.xml), drawn for
    twelve forms: each instance is a plain item the reader accepts, and its key fits its text."""
    folder = Path(__file__).parents[2] / "data" / "qti-corpus" / "invigil"
    checks = {
        "family-mathassess-divide.xml": lambda item, rk: rk.correct == round(
            int(_find(r"that is (\d+)", item)) / int(_find(r"divided by (\d+)", item)) + 1e-9, 2)
            and rk.tolerance == Tolerance("absolute", 0.005, 0.005),
        "family-random-word.xml": lambda item, rk: rk.correct == {"resistor": "OHM", "capacitor": "FARAD",
                                                                  "inductor": "HENRY"}[_find(r"a (\w+) is", item)],
        "family-cable-map-qti3.xml": lambda item, rk: max(rk.mapping.values()) == 2.0 and set(rk.mapping) <= {
            c.id for c in item.interactions[0].choices} and ("MM10" in rk.mapping) == (int(_find(r"a (\d+) A", item)) > 30),
        "family-ohm-sigfig-qti3.xml": lambda item, rk: rk.correct == pytest.approx(
            int(_find(r"<mn>(\d+)</mn><mn>", item)) / float(_find(r"<mn>([\d.]+)</mn></mfrac>", item)), rel=5e-3)
            and rk.tolerance == Tolerance("relative", 2.0, 2.0),
    }
    for name, fits in checks.items():
        parsed = parse_item((folder / name).read_bytes(), name, no_media)
        answers = set()
        for form in range(12):
            item, key, _ = draw_instance(parsed.item, parsed.key, f"F{form}", 1, lambda sha: b"")
            (rk,) = key.responses
            assert fits(item, rk), (name, form, item.body_html, rk)
            answers.add(str(rk.correct) + str(rk.mapping))
        assert len(answers) > 1, name


def _find(pattern: str, item: Item) -> str:
    found = re.search(pattern, item.body_html + " ".join(i.prompt_html for i in item.interactions))
    assert found, (pattern, item.body_html)
    return found.group(1)
