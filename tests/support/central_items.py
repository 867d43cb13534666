"""Small QTI items written on purpose for the importer tests: each argument of :func:`choice_item`
replaces one part, to make the item wrong in exactly one way."""

from __future__ import annotations

from pathlib import Path


def write_qti(folder: Path, name: str, xml: str) -> Path:
    """Write ``xml`` as ``folder/name`` (creating folders) and return its path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(xml, "utf-8")
    return path


QTI21 = "http://www.imsglobal.org/xsd/imsqti_v2p1"
MATCH_CORRECT = "http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"


def choice_item(identifier: str = "item1", body_extra: str = "", correct: str = "A",
                declaration: str | None = None, processing: str | None = None,
                choices: str = ('<simpleChoice identifier="A">Yes</simpleChoice>'
                                '<simpleChoice identifier="B">No</simpleChoice>'),
                interaction_attrs: str = 'responseIdentifier="RESPONSE" maxChoices="1"') -> str:
    """A small QTI 2.1 choice item; each argument replaces one part to make it wrong on purpose."""
    declaration = declaration if declaration is not None else (
        '<responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">'
        f'<correctResponse><value>{correct}</value></correctResponse></responseDeclaration>')
    processing = processing if processing is not None else f'<responseProcessing template="{MATCH_CORRECT}"/>'
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<assessmentItem xmlns="{QTI21}" identifier="{identifier}" '
            f'title="T {identifier}" adaptive="false" timeDependent="false">{declaration}'
            f'<outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>'
            f'<itemBody>{body_extra}<choiceInteraction {interaction_attrs}><prompt>Pick</prompt>{choices}'
            f'</choiceInteraction></itemBody>{processing}</assessmentItem>')
