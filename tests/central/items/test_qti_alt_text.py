"""The picture of a hotspot, selectPoint, graphic or drawing interaction is named by the item's own
text (issue 18): the image's ``alt`` or the object's fallback text, else the prompt; never the file
name. A picture with none of these is imported with a warning in the import report, and the page
then names it by its task ("Image to select areas on")."""

from __future__ import annotations

from pathlib import Path

import pytest

from exam_core.presentation import item_view
from tests.central.items.qti_corpus_table import CORPUS
from tests.support.central_items import QTI21, write_qti
from tests.support.qti_roundtrip import export_and_reimport, imported

MATCH_CORRECT = "http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"


def hotspot_item(image: str, prompt: str = "") -> str:
    return (f'<assessmentItem xmlns="{QTI21}" identifier="hs" title="Fuse" adaptive="false" timeDependent="false">'
            '<responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">'
            '<correctResponse><value>F</value></correctResponse></responseDeclaration>'
            '<outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>'
            f'<itemBody><hotspotInteraction responseIdentifier="RESPONSE" maxChoices="1">{prompt}{image}'
            '<hotspotChoice identifier="F" shape="rect" coords="0,0,10,10" hotspotLabel="Fuse"/>'
            '<hotspotChoice identifier="S" shape="rect" coords="20,0,30,10" hotspotLabel="Switch"/>'
            f'</hotspotInteraction></itemBody><responseProcessing template="{MATCH_CORRECT}"/></assessmentItem>')


def point_item(image: str, prompt: str = "") -> str:
    return (f'<assessmentItem xmlns="{QTI21}" identifier="sp" title="Point" adaptive="false" timeDependent="false">'
            '<responseDeclaration identifier="RESPONSE" cardinality="single" baseType="point">'
            '<areaMapping defaultValue="0"><areaMapEntry shape="circle" coords="5,5,5" mappedValue="1"/>'
            '</areaMapping></responseDeclaration>'
            '<outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>'
            f'<itemBody><selectPointInteraction responseIdentifier="RESPONSE" maxChoices="1">{prompt}{image}'
            '</selectPointInteraction></itemBody><responseProcessing '
            'template="http://www.imsglobal.org/question/qti_v2p1/rptemplates/map_response_point"/></assessmentItem>')


OBJECT = '<object type="image/png" data="images/circuit.png" width="40" height="30">{}</object>'
PROMPT = "<prompt>Select the <b>fuse</b> on the circuit.</prompt>"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "circuit.png").write_bytes((CORPUS / "invigil/images/circuit.png").read_bytes())
    return tmp_path


@pytest.mark.parametrize("make", [hotspot_item, point_item])
@pytest.mark.parametrize("image, prompt, alt", [
    (OBJECT.format("Circuit with a fuse and a switch"), PROMPT, "Circuit with a fuse and a switch"),
    ('<img src="images/circuit.png" alt="Circuit  diagram"/>', "", "Circuit diagram"),
    (OBJECT.format(""), PROMPT, "Select the fuse on the circuit."),          # the prompt says what it is for
])
def test_the_picture_is_named_by_the_item_s_own_text(folder: Path, make, image: str, prompt: str, alt: str) -> None:
    parsed = imported(write_qti(folder, "i.xml", make(image, prompt)))
    picture = parsed.item.interactions[0].image
    assert picture is not None and picture.alt == alt
    assert not any("text alternative" in w for w in parsed.warnings)
    assert item_view(parsed.item, 0)["interactions"][0]["image"]["alt"] == alt
    again = export_and_reimport(parsed, folder / "out")
    assert again.item == parsed.item


@pytest.mark.parametrize("make", [hotspot_item, point_item])
def test_a_picture_without_text_is_imported_with_a_warning_never_its_file_name(folder: Path, make) -> None:
    parsed = imported(write_qti(folder, "i.xml", make(OBJECT.format(""))))
    picture = parsed.item.interactions[0].image
    assert picture is not None and picture.alt == "" and picture.name == "circuit.png"
    (warning,) = [w for w in parsed.warnings if "text alternative" in w]
    assert warning.startswith(("hotspotInteraction[RESPONSE]/object", "selectPointInteraction[RESPONSE]/object"))
    assert "circuit.png" not in str(item_view(parsed.item, 0)["interactions"][0]["image"])


def test_a_picture_in_a_gap_without_a_label_is_not_named_by_its_file(folder: Path) -> None:
    unnamed = (CORPUS / "invigil/gap-match-gap-img.xml").read_text().replace(' objectLabel="Switch symbol"', "")
    for media in (CORPUS / "invigil/images").iterdir():
        (folder / "images" / media.name).write_bytes(media.read_bytes())
    parsed = imported(write_qti(folder, "g.xml", unnamed))
    pictures = {c.id: c.html for c in parsed.item.interactions[0].choices}
    assert 'alt="Lamp symbol"' in pictures["IMG_LAMP"] and 'alt="picture IMG_SW"' in pictures["IMG_SW"]
    assert any("gapImg[IMG_SW]: has no objectLabel or text; named 'picture IMG_SW'" in w for w in parsed.warnings)
