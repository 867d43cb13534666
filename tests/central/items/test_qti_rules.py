"""Reject rather than guess: each rule of the QTI importer, with the element and problem it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.items.importer import ImportOptions, iter_sources
from item_bank_sync.items.qti.reader import ParsedItem
from tests.support.central_items import QTI21, choice_item, write_qti

MAP_RESPONSE = "http://www.imsglobal.org/question/qti_v2p1/rptemplates/map_response"


def parse(tmp_path: Path, xml: str, **options) -> ParsedItem | ItemRejected:
    (outcome,) = list(iter_sources([write_qti(tmp_path, "i.xml", xml)], ImportOptions(**options)))
    return outcome


def decl(card: str = "single", base: str = "identifier",
         inner: str = "<correctResponse><value>A</value></correctResponse>", ident: str = "RESPONSE") -> str:
    return (f'<responseDeclaration identifier="{ident}" cardinality="{card}" baseType="{base}">{inner}'
            '</responseDeclaration>')


@pytest.mark.parametrize("xml, element, problem", [
    (choice_item(declaration=decl(ident="OTHER")), "choiceInteraction[RESPONSE]", "is not declared"),
    (choice_item(correct="Z"), "correctResponse", "'Z' is not one of the options"),
    (choice_item(declaration=decl(card="ordered")), "choiceInteraction[RESPONSE]", "cardinality 'ordered'"),
    (choice_item(declaration=decl(base="string")), "choiceInteraction[RESPONSE]", "baseType 'string'"),
    (choice_item(interaction_attrs='responseIdentifier="RESPONSE" maxChoices="2"'), "choiceInteraction[RESPONSE]",
     "cardinality single does not fit"),
    (choice_item(processing='<responseProcessing><responseCondition/></responseProcessing>'), "responseProcessing",
     "custom response processing"),
    (choice_item(processing='<responseProcessing template="http://example.com/my_template"/>'), "responseProcessing",
     "not a standard template"),
    (choice_item(processing=f'<responseProcessing template="{MAP_RESPONSE}"/>'), "responseDeclaration[RESPONSE]",
     "needs a mapping"),
    (choice_item(declaration=decl(inner="")), "responseDeclaration[RESPONSE]", "needs a correctResponse"),
    (choice_item(processing=""), "responseProcessing", "nothing scores"),
    (choice_item(declaration=decl(ident="R2") , interaction_attrs='responseIdentifier="R2" maxChoices="1"'),
     "choiceInteraction[R2]", "scores the response RESPONSE"),
    (choice_item(identifier="bad id!"), "assessmentItem", "not a valid identifier"),
    (choice_item(choices='<simpleChoice identifier="A">x</simpleChoice><simpleChoice identifier="A">y</simpleChoice>'),
     "interactions[0].choices", "used twice"),
    (choice_item(declaration=decl(inner='<correctResponse><value>A</value></correctResponse>'
                                        '<mapping defaultValue="0"><mapEntry mapKey="Q" mappedValue="1"/></mapping>'),
                 processing=f'<responseProcessing template="{MAP_RESPONSE}"/>'),
     "mapEntry[Q]", "not one of the options"),
    (choice_item(body_extra='<choiceInteraction responseIdentifier="RESPONSE">'
                            '<simpleChoice identifier="C">c</simpleChoice></choiceInteraction>'),
     "choiceInteraction[RESPONSE]", "already uses"),
    (choice_item().replace("<prompt>Pick</prompt>",
                           '<prompt>Pick</prompt><textEntryInteraction responseIdentifier="X"/>'),
     "choiceInteraction[RESPONSE]/textEntryInteraction", "not supported inside"),
])
def test_rule(tmp_path: Path, xml: str, element: str, problem: str) -> None:
    outcome = parse(tmp_path, xml)
    assert isinstance(outcome, ItemRejected), "expected a rejection"
    assert element in outcome.element and problem in outcome.problem, outcome.reason


def text_entry(mapping: str, base: str = "string") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?><assessmentItem xmlns="{QTI21}" identifier="te" title="te" '
            f'adaptive="false" timeDependent="false"><responseDeclaration identifier="RESPONSE" cardinality="single" '
            f'baseType="{base}"><mapping defaultValue="0" upperBound="1">{mapping}</mapping></responseDeclaration>'
            f'<itemBody><p>Capital of France: <textEntryInteraction responseIdentifier="RESPONSE"/></p></itemBody>'
            f'<responseProcessing template="{MAP_RESPONSE}"/></assessmentItem>')


def test_case_insensitive_mapping_is_honoured_and_collisions_refused(tmp_path: Path) -> None:
    ok = parse(tmp_path, text_entry('<mapEntry mapKey="Paris" mappedValue="1" caseSensitive="false"/>'
                                    '<mapEntry mapKey="Lutece" mappedValue="2" caseSensitive="false"/>'))
    assert isinstance(ok, ParsedItem)
    key = ok.key.responses[0]
    assert key.case_sensitive is False and key.mapping == {"paris": 1.0, "lutece": 2.0}
    assert key.max_score == 1.0  # upperBound caps the best mapped value
    mixed = parse(tmp_path, text_entry('<mapEntry mapKey="Paris" mappedValue="1" caseSensitive="false"/>'
                                       '<mapEntry mapKey="X" mappedValue="1" caseSensitive="true"/>'))
    assert isinstance(mixed, ItemRejected) and "caseSensitive differs" in mixed.problem
    twice = parse(tmp_path, text_entry('<mapEntry mapKey="Paris" mappedValue="1" caseSensitive="false"/>'
                                       '<mapEntry mapKey="PARIS" mappedValue="1" caseSensitive="false"/>'))
    assert isinstance(twice, ItemRejected) and "same response twice" in twice.problem
    integer = parse(tmp_path, text_entry('<mapEntry mapKey="twelve" mappedValue="1"/>', base="integer"))
    assert isinstance(integer, ItemRejected) and "not an integer" in integer.problem
    canonical = parse(tmp_path, text_entry('<mapEntry mapKey="012" mappedValue="1"/>', base="integer"))
    assert isinstance(canonical, ParsedItem) and canonical.key.responses[0].mapping == {"12": 1.0}


def test_select_point_with_area_mapping(tmp_path: Path) -> None:
    png = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000c8000000640806000000") + b"\0" * 20
    (tmp_path / "map.png").write_bytes(png)
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><assessmentItem xmlns="{QTI21}" identifier="pt" title="pt" '
           'adaptive="false" timeDependent="false"><responseDeclaration identifier="RESPONSE" cardinality="single" '
           'baseType="point"><correctResponse><value>10 20</value></correctResponse><areaMapping defaultValue="0">'
           '<areaMapEntry shape="circle" coords="10,20,5" mappedValue="1"/></areaMapping></responseDeclaration>'
           '<itemBody><selectPointInteraction responseIdentifier="RESPONSE" maxChoices="1"><prompt>Click Paris</prompt>'
           '<object type="image/png" data="map.png"/></selectPointInteraction></itemBody><responseProcessing '
           'template="http://www.imsglobal.org/question/qti_v2p1/rptemplates/map_response_point"/></assessmentItem>')
    outcome = parse(tmp_path, xml)
    assert isinstance(outcome, ParsedItem), getattr(outcome, "reason", "")
    inter, key = outcome.item.interactions[0], outcome.key.responses[0]
    assert (inter.type, inter.base_type, inter.image.width, inter.image.height) == ("hotspot", "point", 200, 100)
    assert key.template == "map_response_point" and key.correct == [10.0, 20.0]
    assert key.area_mapping[0].coords == (10.0, 20.0, 5.0) and key.max_score == 1.0


@pytest.mark.parametrize("uri", [
    "http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct",
    "http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct.xml",
    "http://www.imsglobal.org/question/qti_v2p2/rptemplates/match_correct",
    "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml",
    "match_correct",
])
def test_template_spellings(tmp_path: Path, uri: str) -> None:
    outcome = parse(tmp_path, choice_item(processing=f'<responseProcessing template="{uri}"/>'))
    assert isinstance(outcome, ParsedItem) and outcome.key.responses[0].template == "match_correct"


def test_qti3_kebab_case_item(tmp_path: Path) -> None:
    xml = ('<?xml version="1.0" encoding="UTF-8"?>'
           '<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" '
           'identifier="q3" title="Q3" xml:lang="fr">'
           '<qti-response-declaration identifier="RESPONSE" cardinality="multiple" '
           'base-type="identifier"><qti-correct-response><qti-value>A</qti-value><qti-value>C</qti-value>'
           '</qti-correct-response></qti-response-declaration><qti-item-body><qti-choice-interaction '
           'response-identifier="RESPONSE" max-choices="0" shuffle="true"><qti-prompt>Which?</qti-prompt>'
           '<qti-simple-choice identifier="A">a</qti-simple-choice><qti-simple-choice identifier="B" fixed="true">b'
           '</qti-simple-choice><qti-simple-choice identifier="C">c</qti-simple-choice></qti-choice-interaction>'
           '</qti-item-body><qti-response-processing template="https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/'
           'match_correct.xml"/></qti-assessment-item>')
    outcome = parse(tmp_path, xml)
    assert isinstance(outcome, ParsedItem), getattr(outcome, "reason", "")
    inter = outcome.item.interactions[0]
    assert (outcome.item.language, inter.cardinality, inter.max_choices, inter.shuffle) == ("fr", "multiple", 0, True)
    assert inter.choices[1].fixed and outcome.key.responses[0].correct == ["A", "C"]
