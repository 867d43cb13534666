"""Scale (likert) items (issue 18): a questionnaire item that gives each option its points in a
mapping, without response processing, is scored by that mapping with a warning in the report;
one without points stays refused, with a reason that says how to make it scoreable."""

from __future__ import annotations

from pathlib import Path

from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.results.scoring import score_response
from tests.support.central_items import QTI21, write_qti
from tests.support.qti_roundtrip import export_and_reimport, imported, parse


def likert(mapping: str) -> str:
    choices = "".join(f'<simpleChoice identifier="L{n}">{n}</simpleChoice>' for n in range(1, 6))
    return (f'<assessmentItem xmlns="{QTI21}" identifier="questionnaire" title="Scale" adaptive="false" '
            'timeDependent="false"><responseDeclaration identifier="RESPONSE" cardinality="single" '
            f'baseType="identifier">{mapping}</responseDeclaration><itemBody class="likert">'
            '<choiceInteraction responseIdentifier="RESPONSE" shuffle="false" maxChoices="1">'
            f'<prompt>Safety checks come first.</prompt>{choices}</choiceInteraction></itemBody></assessmentItem>')


POINTS = ('<mapping defaultValue="0">' + "".join(f'<mapEntry mapKey="L{n}" mappedValue="{n - 1}"/>'
                                                 for n in range(1, 6)) + "</mapping>")


def test_a_likert_item_with_points_is_scored_by_them(tmp_path: Path) -> None:
    parsed = imported(write_qti(tmp_path, "l.xml", likert(POINTS)))
    (key,) = parsed.key.responses
    assert key.template == "map_response"
    assert [score_response(f"L{n}", key) for n in range(1, 6)] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert score_response(None, key) == 0.0
    assert any("scored by its mapping (map_response)" in w for w in parsed.warnings)
    (tmp_path / "out").mkdir()
    again = export_and_reimport(parsed, tmp_path / "out")
    assert again.key == parsed.key and again.item == parsed.item


def test_a_likert_item_without_points_is_refused_saying_how_to_score_it(tmp_path: Path) -> None:
    outcome = parse(write_qti(tmp_path, "l.xml", likert("")))
    assert isinstance(outcome, ItemRejected)
    assert outcome.element == "responseProcessing"
    assert "give each option its points in a mapping" in outcome.problem
