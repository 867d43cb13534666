"""Inline response processing: what is proven equal to per-response templates is imported, and
every near miss (a rule that would score differently) is refused naming the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.items.importer import ImportOptions, iter_sources
from item_bank_sync.items.qti.reader import ParsedItem
from tests.support.central_items import QTI21, write_qti

MATCH = '<match><variable identifier="{r}"/><correct identifier="{r}"/></match>'
SET = '<setOutcomeValue identifier="{o}">{e}</setOutcomeValue>'
NUM = '<baseValue baseType="float">{v}</baseValue>'
PLUS = '<sum><variable identifier="SCORE"/>{e}</sum>'


def match_rule(r: str = "R1", then: str = SET.format(o="SCORE", e=PLUS.format(e=NUM.format(v=1))),
               other: str = "") -> str:
    return (f'<responseCondition><responseIf>{MATCH.format(r=r)}{then}</responseIf>'
            + (f"<responseElse>{other}</responseElse>" if other else "") + "</responseCondition>")


def two_choice_item(rules: str, score_default: str = "") -> str:
    """Two choice interactions R1, R2 (correct A and B) scored by ``rules``."""
    decls = "".join(f'<responseDeclaration identifier="{r}" cardinality="single" baseType="identifier">'
                    f'<correctResponse><value>{v}</value></correctResponse></responseDeclaration>'
                    for r, v in (("R1", "A"), ("R2", "B")))
    inter = "".join(f'<choiceInteraction responseIdentifier="{r}" maxChoices="1"><simpleChoice identifier="A">a'
                    '</simpleChoice><simpleChoice identifier="B">b</simpleChoice></choiceInteraction>'
                    for r in ("R1", "R2"))
    default = f"<defaultValue><value>{score_default}</value></defaultValue>" if score_default else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?><assessmentItem xmlns="{QTI21}" identifier="rp" title="rp" '
            f'adaptive="false" timeDependent="false">{decls}<outcomeDeclaration identifier="SCORE" '
            f'cardinality="single" baseType="float">{default}</outcomeDeclaration>'
            f'<outcomeDeclaration identifier="FB" cardinality="single" baseType="identifier"/>'
            f'<itemBody>{inter}</itemBody><responseProcessing>{rules}</responseProcessing></assessmentItem>')


def parse(tmp_path: Path, xml: str) -> ParsedItem | ItemRejected:
    (outcome,) = list(iter_sources([write_qti(tmp_path, "i.xml", xml)], ImportOptions()))
    return outcome


FEEDBACK = ('<responseCondition><responseIf><gte><variable identifier="SCORE"/>' + NUM.format(v=2) + '</gte>'
            + SET.format(o="FB", e='<baseValue baseType="identifier">good</baseValue>')
            + '</responseIf></responseCondition>')


@pytest.mark.parametrize("rules, keys", [
    (match_rule("R1") + match_rule("R2"), [("R1", 1.0), ("R2", 1.0)]),
    (SET.format(o="SCORE", e=NUM.format(v=0)) + match_rule("R1") + FEEDBACK + match_rule(
        "R2", SET.format(o="SCORE", e=PLUS.format(e=NUM.format(v=3)))), [("R1", 1.0), ("R2", 3.0)]),
    (match_rule("R1", SET.format(o="SCORE", e=NUM.format(v=2)), SET.format(o="SCORE", e=NUM.format(v=0)))
     + match_rule("R2"), [("R1", 2.0), ("R2", 1.0)]),
])
def test_sums_of_match_correct_are_imported_with_their_weights(tmp_path: Path, rules: str,
                                                               keys: list[tuple[str, float]]) -> None:
    outcome = parse(tmp_path, two_choice_item(rules))
    assert isinstance(outcome, ParsedItem), getattr(outcome, "reason", "")
    assert [(k.response_id, k.max_score) for k in outcome.key.responses] == keys
    assert {k.template for k in outcome.key.responses} == {"match_correct"}


@pytest.mark.parametrize("rules, default, element, problem", [
    (match_rule("R1"), "", "choiceInteraction[R2]", "nothing in responseProcessing scores 'R2'"),
    (match_rule("R1") + match_rule("R1"), "", "responseCondition[2]", "scores R1 a second time"),
    (match_rule("R1") + match_rule("R2", SET.format(o="SCORE", e=NUM.format(v=1))), "", "responseCondition[2]",
     "only the first scoring rule may assign"),
    (match_rule("R1") + match_rule("R2"), "1", "outcomeDeclaration[SCORE]", "other than 0"),
    (match_rule("R1", SET.format(o="SCORE", e=NUM.format(v=1)), SET.format(o="SCORE", e=NUM.format(v=0.5)))
     + match_rule("R2"), "", "responseCondition[1]", "custom response processing"),
    (match_rule("R1", SET.format(o="SCORE", e=PLUS.format(e=NUM.format(v=0)))) + match_rule("R2"), "",
     "responseCondition[1]", "must be above zero"),
    (match_rule("R1") + match_rule("R2") + match_rule("R3"), "", "responseProcessing", "'R3', which no interaction"),
    (match_rule("R1") + match_rule("R2") + "<exitResponse/>", "", "exitResponse[3]", "custom response processing"),
    (match_rule("R1") + match_rule("R2", SET.format(o="SCORE", e=PLUS.format(e=NUM.format(v=1)))
                                      + SET.format(o="MAXSCORE", e=NUM.format(v=9))), "", "responseCondition[2]",
     "custom response processing"),
    ("<responseCondition/>", "", "responseCondition[1]", "custom response processing"),
])
def test_near_misses_are_refused_naming_the_rule(tmp_path: Path, rules: str, default: str, element: str,
                                                 problem: str) -> None:
    outcome = parse(tmp_path, two_choice_item(rules, default))
    assert isinstance(outcome, ItemRejected), "expected a refusal"
    assert element in outcome.element and problem in outcome.problem, outcome.reason


def test_xinclude_text_and_cycles(tmp_path: Path) -> None:
    (tmp_path / "note.txt").write_text("Mind the gap & the edge.", "utf-8")
    body = '<p>Note: <xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="note.txt" parse="text"/></p>'
    xml = two_choice_item(match_rule("R1") + match_rule("R2")).replace("<itemBody>", f"<itemBody>{body}")
    outcome = parse(tmp_path, xml)
    assert isinstance(outcome, ParsedItem), getattr(outcome, "reason", "")
    assert outcome.item.body_html.startswith("<p>Note: Mind the gap &amp; the edge.</p>")
    (tmp_path / "loop.xml").write_text('<div xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" '
                                       'xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="loop.xml"/></div>')
    looped = xml.replace('href="note.txt" parse="text"', 'href="loop.xml"')
    refused = parse(tmp_path, looped)
    assert isinstance(refused, ItemRejected) and "nested deeper" in refused.problem
