# ruff: noqa: E501  (the QTI fixtures are written one element per line, as authoring tools write them)
"""QTI template processing (issue 18): item families drawn with a stable seed, refused by name
where a construct is not supported, written back and re-imported equal.

The families here are written for these tests (licence-clean), modelled on the constructs of
1EdTech's and QTIWorks' template examples, in QTI 2.2 and QTI 3.0 spellings.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io

import pytest
from PIL import Image

from exam_core.model import AnswerKey, Item
from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.items.qti.families import draw_instance, family_to_qti, parse_item
from item_bank_sync.items.qti.reader import parse_qti_item
from item_bank_sync.items.qti.templates import Draw, TemplateUnsatisfiable, printed, round_to
from tests.support.qti_families import FAMILY, FAMILY3, MATHML, QTI22, choice_family, family22, no_media

def instance(parsed, form_id: str, version: int = 1) -> tuple[Item, AnswerKey, str]:
    return draw_instance(parsed.item, parsed.key, form_id, version, lambda sha: b"")


def test_the_draw_is_pinned_so_every_machine_and_python_draws_the_same() -> None:
    """Pinned numbers: a change to the generator would change every form's instance (and key)."""
    draw = Draw("F1", 1, "triple", 1)
    assert draw.seed_hex == "f2c4946c4dc10139b172823a9b045b7936b2d97301c8e00a85b254117f4710ba"
    assert [draw.below(1000) for _ in range(5)] == [752, 323, 318, 469, 738]
    seed = hashlib.sha256(b"invigil-template-draw/1\0x").digest()
    assert Draw("x").bits64() == int.from_bytes(hashlib.sha256(seed + bytes(8)).digest()[:8], "big")
    other = Draw("y")
    assert {other.below(19) for _ in range(300)} == set(range(19))  # every value can be drawn


def test_a_family_is_stored_with_a_preview_and_its_key_is_computed() -> None:
    parsed = parse_item(FAMILY, "triple.xml", no_media)
    a = int(parsed.item.body_html.split("3 times ")[1].split("?")[0])
    assert parsed.key.responses[0].correct == 3 * a  # setCorrectResponse, not the static 0
    assert "<mi>A</mi>" not in parsed.item.body_html and f"<mn>{a}</mn>" in parsed.item.body_html
    assert "printedVariable" not in parsed.item.body_html
    assert parsed.key.family is not None and "templateProcessing" in parsed.key.family.qti
    assert parsed.key.family.preview_seed == Draw("preview", "triple", 0).seed_hex
    assert any("an item family" in w for w in parsed.warnings)
    with pytest.raises(ItemRejected, match="templateProcessing"):  # the plain reader never reads a family
        parse_qti_item(FAMILY, "triple.xml", no_media)


def test_same_form_same_instance_other_forms_other_instances_and_the_key_fits() -> None:
    parsed = parse_item(FAMILY, "triple.xml", no_media)
    first, again = instance(parsed, "F1"), instance(parsed, "F1")
    assert first == again
    seen = set()
    for n in range(12):
        item, key, seed = instance(parsed, f"F{n}")
        a = int(item.body_html.split("3 times ")[1].split("?")[0])
        assert key.responses[0].correct == 3 * a and 2 <= a <= 20
        assert key.family is None and (item.item_id, item.version) == (parsed.item.item_id, parsed.item.version)
        assert seed == Draw(f"F{n}", 1, "triple", 1).seed_hex
        seen.add(a)
    assert len(seen) > 3  # forms draw anew
    assert instance(parsed, "F1", 2)[2] != first[2]  # a new form version draws anew


def test_qti3_family_conditions_show_hide_and_printed_format() -> None:
    parsed = parse_item(FAMILY3, "resistor.xml", no_media)
    for form in ("A", "B", "C", "D", "E", "F"):
        item, key, _ = instance(parsed, form)
        volts = int(item.body_html.split("<mn>")[1].split("</mn>")[0])
        assert volts in (6, 12, 18, 24)
        assert f"carries {volts / 4:.2f} A" in item.body_html
        assert key.responses[0].correct == ("HIGH" if volts > 12 else "LOW")
        assert ("That is a lot." in item.body_html) == (volts > 12)
        assert "template" not in item.body_html


@pytest.mark.parametrize(("value", "attrs", "text"), [
    (3.14159, {"format": "%.2f"}, "3.14"),
    (2.5, {"format": "%.0f"}, "2"),  # C's printf rounds half to even
    (7, {"format": "%03d"}, "007"),
    (1234.5, {"format": "%e"}, "1.234500e+03"),
    (10, {"base": "2"}, "1010"),
    (255, {"base": "16"}, "ff"),
    (0.1 + 0.2, {}, "0.3"),
    (42, {"format": "%d%%"}, "42%"),
])
def test_printed_variable_formats(value: object, attrs: dict[str, str], text: str) -> None:
    assert printed(value, attrs, "printedVariable[X]", "t") == text


def test_round_to_is_half_up_on_the_decimal_value() -> None:
    assert round_to(2 / 3, 3, "significantFigures") == 0.667
    assert round_to(2.675, 2, "decimalPlaces") == 2.68  # the decimal 2.675, not the binary 2.67499...
    assert round_to(1234.5, 2, "significantFigures") == 1200.0
    processing = """
    <setTemplateValue identifier="A"><randomInteger min="2" max="2"/></setTemplateValue>
    <setTemplateValue identifier="R"><roundTo roundingMode="significantFigures" figures="3"><divide>
      <variable identifier="A"/><baseValue baseType="integer">3</baseValue></divide></roundTo></setTemplateValue>
    <setCorrectResponse identifier="RESPONSE"><variable identifier="A"/></setCorrectResponse>"""
    parsed = parse_item(family22(processing, body='<p>R is <printedVariable identifier="R"/>.</p>'), "r.xml", no_media)
    assert "R is 0.667." in parsed.item.body_html


def test_unmet_constraint_fails_naming_the_item() -> None:
    never = """
    <setTemplateValue identifier="A"><randomInteger min="1" max="5"/></setTemplateValue>
    <templateConstraint><gt><variable identifier="A"/><baseValue baseType="integer">5</baseValue></gt></templateConstraint>"""
    with pytest.raises(TemplateUnsatisfiable, match=r"templateConstraint of item triple: was not met in 100 draws"):
        parse_item(family22(never), "never.xml", no_media)
    redrawn = """
    <setTemplateValue identifier="A"><randomInteger min="1" max="10"/></setTemplateValue>
    <templateConstraint><gte><variable identifier="A"/><baseValue baseType="integer">9</baseValue></gte></templateConstraint>
    <setCorrectResponse identifier="RESPONSE"><variable identifier="A"/></setCorrectResponse>"""
    parsed = parse_item(family22(redrawn), "redrawn.xml", no_media)
    for form in ("A", "B", "C", "D"):
        assert instance(parsed, form)[1].responses[0].correct in (9, 10)


@pytest.mark.parametrize(("processing", "element"), [
    ('<setTemplateValue identifier="A"><customOperator class="x"/></setTemplateValue>',
     "templateProcessing/setTemplateValue/customOperator"),
    ('<setOutcomeValue identifier="SCORE"><baseValue baseType="float">1</baseValue></setOutcomeValue>',
     "templateProcessing/setOutcomeValue"),
    ('<setTemplateValue identifier="A"><variable identifier="RESPONSE"/></setTemplateValue>',
     "templateProcessing/setTemplateValue/variable[RESPONSE]"),
    ('<setTemplateValue identifier="NOPE"><null/></setTemplateValue>', "templateProcessing/setTemplateValue[NOPE]"),
])
def test_unsupported_constructs_are_refused_by_name(processing: str, element: str) -> None:
    with pytest.raises(ItemRejected) as refused:
        parse_item(family22(processing), "bad.xml", no_media)
    assert refused.value.element == element


def test_unsupported_declarations_are_refused_by_name() -> None:
    record = '<templateDeclaration identifier="REC" cardinality="record"/>'
    with pytest.raises(ItemRejected) as refused:
        parse_item(family22("", declarations=record), "bad.xml", no_media)
    assert refused.value.element == "templateDeclaration[REC]" and "record" in refused.value.problem
    power = '<p><printedVariable identifier="A" powerForm="true"/></p>'
    with pytest.raises(ItemRejected, match="powerForm"):
        parse_item(family22("", body=power), "bad.xml", no_media)


def test_a_template_variable_in_response_processing_becomes_the_instance_constant() -> None:
    rp = """<responseProcessing><responseCondition><responseIf>
      <match><variable identifier="RESPONSE"/><correct identifier="RESPONSE"/></match>
      <setOutcomeValue identifier="SCORE"><variable identifier="POINTS"/></setOutcomeValue>
    </responseIf></responseCondition></responseProcessing>"""
    points = '<templateDeclaration identifier="POINTS" cardinality="single" baseType="float"/>'
    processing = """
    <setTemplateValue identifier="A"><randomInteger min="2" max="9"/></setTemplateValue>
    <setTemplateValue identifier="POINTS"><sum><baseValue baseType="float">1.5</baseValue><baseValue baseType="float">0.5</baseValue></sum></setTemplateValue>
    <setCorrectResponse identifier="RESPONSE"><variable identifier="A"/></setCorrectResponse>"""
    parsed = parse_item(family22(processing, declarations=points, rp=rp), "w.xml", no_media)
    key = parsed.key.responses[0]
    assert (key.template, key.max_score) == ("match_correct", 2.0)


def test_choices_shown_or_hidden_by_a_template_variable() -> None:
    src = FAMILY3.replace(b'<qti-simple-choice identifier="LOW">No</qti-simple-choice>',
                          b'<qti-simple-choice identifier="LOW" template-identifier="WHICH" show-hide="show">No'
                          b'</qti-simple-choice><qti-simple-choice identifier="HIGH2" template-identifier="WHICH" '
                          b'show-hide="hide">Quite</qti-simple-choice>')
    parsed = parse_item(src, "resistor.xml", no_media)
    seen = set()
    for form in ("A", "B", "C", "D", "E", "F", "G", "H"):
        item, key, _ = instance(parsed, form)
        ids = [c.id for c in item.interactions[0].choices]
        # LOW is shown only when WHICH is LOW; HIGH2 is hidden only when WHICH is HIGH2 (never)
        assert ids == (["HIGH", "LOW", "HIGH2"] if key.responses[0].correct == "LOW" else ["HIGH", "HIGH2"])
        assert "template" not in item.body_html + str(item.interactions)
        seen.add(len(ids))
    assert seen == {2, 3}


@pytest.mark.parametrize("source", [FAMILY, FAMILY3])
def test_export_and_reimport_equal(source: bytes) -> None:
    parsed = parse_item(source, "family.xml", no_media)
    again = parse_item(family_to_qti(parsed.key, lambda src: src), "exported.xml", no_media)
    assert again.key == parsed.key and again.item == parsed.item


@pytest.mark.parametrize(("processing", "element", "problem"), [
    ('<setTemplateValue identifier="A"><randomInteger min="0" max="100000000000000000000"/></setTemplateValue>',
     "randomInteger", "more than"),
    ('<setTemplateValue identifier="A"><baseValue baseType="string">x</baseValue></setTemplateValue>',
     "templateProcessing/setTemplateValue[A]", "not of baseType integer"),
    ('<setTemplateValue identifier="A"><random><baseValue baseType="integer">1</baseValue></random></setTemplateValue>',
     "templateProcessing//random", "cannot be evaluated"),
    ('<setTemplateValue identifier="A"><sum><baseValue baseType="string">x</baseValue><baseValue baseType="integer">1</baseValue></sum></setTemplateValue>',
     "templateProcessing//sum", "cannot be evaluated"),
    ('<setTemplateValue identifier="A"><randomInteger min="5" max="1"/></setTemplateValue>', "randomInteger",
     "empty range"),
    ('<setTemplateValue identifier="A"><randomInteger min="1" max="{NOPE}"/></setTemplateValue>', "@max",
     "neither a number nor a template variable"),
    ("<setTemplateValue identifier='A'><null/></setTemplateValue>" * 5001, "templateProcessing", "more than the 5000"),
])
def test_hostile_or_wrong_templates_are_refused_cleanly(processing: str, element: str, problem: str) -> None:
    with pytest.raises(ItemRejected) as refused:
        parse_item(family22(processing), "bad.xml", no_media)
    assert refused.value.element == element and problem in refused.value.problem


def test_printed_variable_with_a_base_or_index_that_is_not_a_number_is_refused_by_name() -> None:
    for attrs in ('base="x"', 'index="x"'):
        with pytest.raises(ItemRejected, match=f"printedVariable\\[N\\]@{attrs.split('=')[0]}: 'x' is not an integer"):
            parse_item(family22("", body=f'<p><printedVariable identifier="N" {attrs}/></p>', declarations=(
                '<templateDeclaration identifier="N" cardinality="ordered" baseType="integer"><defaultValue>'
                '<value>4</value><value>5</value></defaultValue></templateDeclaration>')), "p.xml", no_media)


def test_a_picture_shown_in_some_draws_only_is_refused_at_import_not_at_form_build() -> None:
    """Only the files the preview draw shows are read and kept: a picture the preview hides would
    break the build of every form that draws it, so the family is refused by name at import."""
    picture = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(picture, "PNG")
    flags = choice_family().replace(b"France</templateInline>", b'France <img src="fr.png" alt="flag"/></templateInline>')
    flags = flags.replace(b"Italy</templateInline>", b'Italy <img src="it.png" alt="flag"/></templateInline>')
    with pytest.raises(ItemRejected, match=r"img@src: '(fr|it).png' is shown in some draws of the family only"):
        parse_item(flags, "flags.xml", lambda src, element: picture.getvalue())


def test_overflow_is_null_and_null_shown_is_refused() -> None:
    overflow = """
    <setTemplateValue identifier="A"><randomInteger min="2" max="2"/></setTemplateValue>
    <setTemplateValue identifier="R"><power><baseValue baseType="float">10</baseValue><baseValue baseType="float">400</baseValue></power></setTemplateValue>"""
    with pytest.raises(ItemRejected, match="printedVariable\\[R\\]: shows template variable R, which has no value"):
        parse_item(family22(overflow, body='<p><printedVariable identifier="R"/></p>'), "o.xml", no_media)


OPERATORS = f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="{QTI22}" identifier="operators" title="Operators" adaptive="false" timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="multiple" baseType="identifier"/>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
  <templateDeclaration identifier="ORD" cardinality="ordered" baseType="integer"/>
  <templateDeclaration identifier="SET" cardinality="multiple" baseType="identifier"/>
  <templateDeclaration identifier="N" cardinality="single" baseType="integer"/>
  <templateDeclaration identifier="F" cardinality="single" baseType="float"/>
  <templateDeclaration identifier="B" cardinality="single" baseType="boolean"/>
  <templateDeclaration identifier="S" cardinality="single" baseType="string"/>
  <templateDeclaration identifier="R1" cardinality="single" baseType="integer"/>
  <templateDeclaration identifier="R2" cardinality="single" baseType="integer"/>
  <templateDeclaration identifier="P" cardinality="single" baseType="float"/>
  <templateProcessing>
    <setTemplateValue identifier="ORD"><ordered><baseValue baseType="integer">5</baseValue><baseValue baseType="integer">3</baseValue><baseValue baseType="integer">8</baseValue></ordered></setTemplateValue>
    <setTemplateValue identifier="N"><index n="2"><variable identifier="ORD"/></index></setTemplateValue>
    <setTemplateValue identifier="SET"><multiple><baseValue baseType="identifier">A</baseValue><baseValue baseType="identifier">C</baseValue></multiple></setTemplateValue>
    <setTemplateValue identifier="F"><roundTo roundingMode="decimalPlaces" figures="3"><product><mathConstant name="pi"/><variable identifier="N"/></product></roundTo></setTemplateValue>
    <setTemplateValue identifier="B"><and>
      <member><baseValue baseType="identifier">A</baseValue><variable identifier="SET"/></member>
      <contains><variable identifier="ORD"/><ordered><baseValue baseType="integer">3</baseValue><baseValue baseType="integer">8</baseValue></ordered></contains>
      <not><isNull><variable identifier="N"/></isNull></not>
      <equal toleranceMode="relative" tolerance="1"><variable identifier="F"/><baseValue baseType="float">9.4</baseValue></equal>
      <equal toleranceMode="absolute" tolerance="0.02"><variable identifier="F"/><baseValue baseType="float">9.44</baseValue></equal>
      <gt><integerModulus><baseValue baseType="integer">17</baseValue><baseValue baseType="integer">5</baseValue></integerModulus><baseValue baseType="integer">1</baseValue></gt>
      <lte><min><variable identifier="ORD"/></min><baseValue baseType="integer">3</baseValue></lte>
      <gte><max><variable identifier="ORD"/></max><baseValue baseType="integer">8</baseValue></gte>
      <match><integerDivide><baseValue baseType="integer">-7</baseValue><baseValue baseType="integer">2</baseValue></integerDivide><baseValue baseType="integer">-4</baseValue></match>
      <or><baseValue baseType="boolean">false</baseValue><lt><truncate><baseValue baseType="float">-2.7</baseValue></truncate><baseValue baseType="integer">-1</baseValue></lt></or>
      <isNull><divide><baseValue baseType="integer">1</baseValue><baseValue baseType="integer">0</baseValue></divide></isNull>
    </and></setTemplateValue>
    <templateCondition>
      <templateIf><variable identifier="B"/><setTemplateValue identifier="S"><baseValue baseType="string">all true</baseValue></setTemplateValue></templateIf>
      <templateElse><setTemplateValue identifier="S"><baseValue baseType="string">wrong</baseValue></setTemplateValue></templateElse>
    </templateCondition>
    <setTemplateValue identifier="R1"><round><baseValue baseType="float">2.5</baseValue></round></setTemplateValue>
    <setTemplateValue identifier="R2"><round><baseValue baseType="float">-2.5</baseValue></round></setTemplateValue>
    <setTemplateValue identifier="P"><power><baseValue baseType="integer">2</baseValue><baseValue baseType="integer">10</baseValue></power></setTemplateValue>
    <setCorrectResponse identifier="RESPONSE"><variable identifier="SET"/></setCorrectResponse>
    <exitTemplate/>
    <setCorrectResponse identifier="RESPONSE"><multiple><baseValue baseType="identifier">B</baseValue></multiple></setCorrectResponse>
  </templateProcessing>
  <itemBody>
    <p>ORD <printedVariable identifier="ORD" delimiter=", "/>; third <printedVariable identifier="ORD" index="3"/>; F <printedVariable identifier="F" format="%.3f"/>; S <printedVariable identifier="S"/>; R <printedVariable identifier="R1"/> <printedVariable identifier="R2"/>; P <printedVariable identifier="P"/>; N in base 2 <printedVariable identifier="N" base="2"/>.</p>
    <choiceInteraction responseIdentifier="RESPONSE" maxChoices="0">
      <simpleChoice identifier="A">a</simpleChoice><simpleChoice identifier="B">b</simpleChoice><simpleChoice identifier="C">c</simpleChoice>
    </choiceInteraction>
  </itemBody>
  <responseProcessing template="http://www.imsglobal.org/question/qti_v2p2/rptemplates/match_correct"/>
</assessmentItem>""".encode()


def test_operators_containers_and_exit_template() -> None:
    parsed = parse_item(OPERATORS, "operators.xml", no_media)
    assert ("ORD 5, 3, 8; third 8; F 9.425; S all true; R 3 -2; P 1024; N in base 2 11."
            in parsed.item.body_html)
    assert parsed.key.responses[0].correct == ["A", "C"]  # exitTemplate stopped before the last rule


def test_misplaced_rules_and_a_missing_shared_stimulus_are_refused_by_name() -> None:
    stray = '<templateCondition><setTemplateValue identifier="A"><null/></setTemplateValue></templateCondition>'
    with pytest.raises(ItemRejected) as refused:
        parse_item(family22(stray), "bad.xml", no_media)
    assert refused.value.element == "templateProcessing/templateCondition/setTemplateValue"
    branch = '<templateIf><baseValue baseType="boolean">true</baseValue></templateIf>'
    with pytest.raises(ItemRejected, match="templateProcessing/templateIf: is not supported"):
        parse_item(family22(branch), "bad.xml", no_media)
    stimulus = '<assessmentStimulusRef identifier="S1" href="passage.xml"/>'
    with pytest.raises(ItemRejected, match=r"assessmentStimulusRef\[S1\]: no media passage.xml"):
        parse_item(family22("", declarations=stimulus), "bad.xml", no_media)  # kept when found: see corpus


def test_a_math_name_of_a_variable_that_is_not_a_math_variable_is_kept_and_warned() -> None:
    body = f'<p><math xmlns="{MATHML}"><mi>R</mi></math></p>'
    parsed = parse_item(family22("", body=body), "w.xml", no_media)
    assert "<mi>R</mi>" in parsed.item.body_html
    assert any(w.startswith("math/mi[R]: spells template variable R") for w in parsed.warnings)


def test_a_form_draw_that_fails_names_the_item() -> None:
    parsed = parse_item(FAMILY, "triple.xml", no_media)
    broken = family22('<setCorrectResponse identifier="RESPONSE"><baseValue baseType="float">2.5</baseValue>'
                      '</setCorrectResponse>').decode().split("?>", 1)[1]
    key = dataclasses.replace(parsed.key, family=dataclasses.replace(parsed.key.family, qti=broken))
    with pytest.raises(ItemRejected) as failed:
        draw_instance(parsed.item, key, "F9", 1, lambda sha: b"")
    assert failed.value.element == "item triple v1 templateProcessing/setCorrectResponse[RESPONSE]"
    assert "not of baseType integer" in failed.value.problem and "form F9 v1" in failed.value.source


def test_show_hide_needs_a_known_variable_and_an_identifier() -> None:
    for body, element in [('<p><templateInline templateIdentifier="NOPE" identifier="X">x</templateInline></p>',
                           "templateInline[X]@templateIdentifier"),
                          ('<p><templateInline templateIdentifier="A">x</templateInline></p>',
                           "templateInline[]@identifier")]:
        with pytest.raises(ItemRejected) as refused:
            parse_item(family22("", body=body), "bad.xml", no_media)
        assert refused.value.element == element
