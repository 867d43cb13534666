"""QTI interactions beyond the anchors (issue 18): slider and graphicOrder imported exactly, scored,
exported as QTI 3.0 and re-imported equal; their constructs we cannot deliver refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from exam_core.errors import ValidationError
from exam_core.model import AnswerKey
from item_bank_sync.context import CentralContext
from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.results.scoring import score_response
from tests.central.items.qti_corpus_table import CORPUS
from tests.support.central_cli import Central
from tests.support.central_items import QTI21, write_qti
from tests.support.qti_roundtrip import export_and_reimport, imported, parse

NEW = ("invigil/slider.xml", "invigil/slider-qti3-map.xml", "invigil/graphic-order.xml",
       "invigil/graphic-associate.xml", "invigil/graphic-gap-match-qti3.xml", "invigil/gap-match-gap-img.xml",
       "invigil/media-audio-plays.xml", "invigil/media-video-captions.xml", "invigil/drawing-human.xml")
MATCH_CORRECT = "http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"


@pytest.mark.parametrize("source", NEW)
def test_new_interactions_round_trip_through_export(tmp_path: Path, source: str) -> None:
    first = imported(CORPUS / source)
    again = export_and_reimport(first, tmp_path)
    assert again.item == first.item and again.key == first.key
    assert all("rubric for scorers kept" in w for w in again.warnings)  # said again; nothing else changed
    assert again.item.to_dict() == first.item.to_dict()  # the stored JSON too (content hash, no-op re-import)


def test_slider_keeps_its_range_and_presentation() -> None:
    item = imported(CORPUS / "invigil/slider-qti3-map.xml").item
    slider = item.interactions[0].slider
    assert slider is not None and item.interactions[0].base_type == "float"
    assert (slider.lower, slider.upper, slider.step, slider.step_label, slider.orientation, slider.reverse) == (
        0.0, 1.0, 0.25, True, "vertical", True)
    assert slider.positions() == 5 and slider.offers(0.75) and not slider.offers(0.8)


def test_items_without_a_slider_keep_their_stored_bytes() -> None:
    """Only a slider's interaction carries the new field: every other item's JSON (and so its content
    hash and the no-op re-import) is what it was before sliders."""
    (choice,) = imported(CORPUS / "invigil/cc2-match.xml").item.to_dict()["interactions"]
    assert "slider" not in choice


def test_new_interactions_are_scored_by_their_keys() -> None:
    exact = imported(CORPUS / "invigil/slider.xml").key.responses[0]
    assert [score_response(v, exact) for v in (230, 240, None)] == [1.0, 0.0, 0.0]
    mapped = imported(CORPUS / "invigil/slider-qti3-map.xml").key.responses[0]
    assert [score_response(v, mapped) for v in (0.75, 0.5, 0.25, None)] == [2.0, 1.0, 0.0, 0.0]
    order = imported(CORPUS / "invigil/graphic-order.xml").key.responses[0]
    assert score_response(["SWITCH", "LOCK", "TEST"], order) == 1.0
    assert score_response(["LOCK", "SWITCH", "TEST"], order) == 0.0


def slider_item(attrs: str, correct: str = "20", base: str = "integer") -> str:
    return (f'<assessmentItem xmlns="{QTI21}" identifier="s" title="s" adaptive="false" timeDependent="false">'
            f'<responseDeclaration identifier="RESPONSE" cardinality="single" baseType="{base}"><correctResponse>'
            f'<value>{correct}</value></correctResponse></responseDeclaration>'
            f'<itemBody><sliderInteraction responseIdentifier="RESPONSE" {attrs}><prompt>How many?</prompt>'
            f'</sliderInteraction></itemBody><responseProcessing template="{MATCH_CORRECT}"/></assessmentItem>')


def graphic_order_item(spots: str, attrs: str = "", card: str = "ordered") -> str:
    return (f'<assessmentItem xmlns="{QTI21}" identifier="g" title="g" adaptive="false" timeDependent="false">'
            f'<responseDeclaration identifier="RESPONSE" cardinality="{card}" baseType="identifier"><correctResponse>'
            f'<value>A</value><value>B</value></correctResponse></responseDeclaration><itemBody>'
            f'<graphicOrderInteraction responseIdentifier="RESPONSE" {attrs}>'
            f'<object type="image/png" data="images/circuit.png" width="400" height="300">plan</object>{spots}'
            f'</graphicOrderInteraction></itemBody><responseProcessing template="{MATCH_CORRECT}"/></assessmentItem>')


TWO_SPOTS = ('<hotspotChoice identifier="A" shape="rect" coords="0,0,10,10"/>'
             '<hotspotChoice identifier="B" shape="circle" coords="50,50,5"/>')


@pytest.mark.parametrize("xml, element, problem", [
    (slider_item('lowerBound="0" upperBound="100" step="10"', correct="25"), "correctResponse",
     "25 is not a value the slider offers (0 to 100 by 10)"),
    (slider_item('lowerBound="0" upperBound="100"', correct="101"), "correctResponse", "not a value the slider"),
    (slider_item('lowerBound="0" upperBound="1" step="0.5"', correct="1"), "sliderInteraction[RESPONSE]",
     "bounds or step are not whole numbers"),
    (slider_item('upperBound="100"'), "sliderInteraction[RESPONSE]", "needs lowerBound and upperBound"),
    (slider_item('lowerBound="100" upperBound="0"'), "sliderInteraction[RESPONSE].upper", "must be above lower"),
    (slider_item('lowerBound="0" upperBound="100" step="0"'), "sliderInteraction[RESPONSE].step",
     "must be above zero"),
    (slider_item('lowerBound="0" upperBound="1000000" step="1"'), "sliderInteraction[RESPONSE].step",
     "more than 100000 positions"),
    (slider_item('lowerBound="0" upperBound="100" orientation="diagonal"'), "@orientation", "not horizontal"),
    (slider_item('lowerBound="0" upperBound="100"', base="string"), "sliderInteraction[RESPONSE]",
     "baseType 'string'"),
    (graphic_order_item('<hotspotChoice identifier="A" shape="rect" coords="0,0,10,10"/>'),
     "graphicOrderInteraction[RESPONSE]", "at least two"),
    (graphic_order_item(TWO_SPOTS, 'maxChoices="1"'), "@maxChoices", "partial order"),
    (graphic_order_item(TWO_SPOTS, card="multiple"), "graphicOrderInteraction[RESPONSE]", "cardinality 'multiple'"),
    (graphic_order_item(TWO_SPOTS + '<simpleChoice identifier="C">c</simpleChoice>'),
     "graphicOrderInteraction[RESPONSE]/simpleChoice", "not supported inside"),
])
def test_constructs_we_cannot_deliver_are_refused_by_name(tmp_path: Path, xml: str, element: str,
                                                          problem: str) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "circuit.png").write_bytes((CORPUS / "invigil/images/circuit.png").read_bytes())
    outcome = parse(write_qti(tmp_path, "i.xml", xml))
    assert isinstance(outcome, ItemRejected), "expected a rejection"
    assert element in outcome.element and problem in outcome.problem, outcome.reason


def test_graphic_order_key_may_only_name_its_areas(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "circuit.png").write_bytes((CORPUS / "invigil/images/circuit.png").read_bytes())
    xml = graphic_order_item(TWO_SPOTS).replace("<value>B</value>", "<value>Z</value>")
    outcome = parse(write_qti(tmp_path, "i.xml", xml))
    assert isinstance(outcome, ItemRejected) and "'Z' is not one of the options" in outcome.problem
    fine = imported(write_qti(tmp_path, "ok.xml", graphic_order_item(TWO_SPOTS)))
    assert isinstance(fine.key, AnswerKey) and fine.key.responses[0].correct == ["A", "B"]
    assert fine.item.interactions[0].min_choices == fine.item.interactions[0].max_choices == 2


def test_pairs_on_images_are_scored_by_their_keys() -> None:
    pairs = imported(CORPUS / "invigil/graphic-associate.xml").key.responses[0]
    assert score_response([["S1", "L1"], ["LAMP", "N1"]], pairs) == 2.0      # a pair is unordered
    assert score_response([["L1", "S1"], ["L1", "LAMP"]], pairs) == 0.0      # 1 - 1
    assert score_response([["L1", "LAMP"]], pairs) == 0.0                    # lowerBound 0
    placed = imported(CORPUS / "invigil/graphic-gap-match-qti3.xml").key.responses[0]
    assert score_response([["SW", "B"], ["LAMPIMG", "A"]], placed) == 1.0
    assert score_response([["SW", "A"], ["LAMPIMG", "B"]], placed) == 0.0


def test_picture_choices_keep_their_names_and_media() -> None:
    parsed = imported(CORPUS / "invigil/graphic-gap-match-qti3.xml")
    inter = parsed.item.interactions[0]
    lamp, text, switch = inter.choices
    assert 'alt="Lamp symbol"' in lamp.html and text.html == "Switch" and 'alt="Switch symbol"' in switch.html
    assert inter.image is not None and inter.image.alt == "Circuit drawing"
    assert [h.match_max for h in inter.hotspots] == [1, 1]
    pictures = {html.split("media:")[1].split('"')[0] for html in (lamp.html, switch.html)}
    assert {m.sha256 for m in parsed.item.media} == pictures | {inter.image.sha256}  # all travel with the item


def graphic_item(interaction: str, decl: str) -> str:
    return (f'<assessmentItem xmlns="{QTI21}" identifier="g" title="g" adaptive="false" timeDependent="false">'
            f'{decl}<itemBody>{interaction}</itemBody>'
            f'<responseProcessing template="{MATCH_CORRECT}"/></assessmentItem>')


OBJ = '<object type="image/png" data="images/circuit.png" width="400" height="300">plan</object>'
SPOTS = ('<associableHotspot identifier="A" shape="rect" coords="0,0,10,10" matchMax="1"/>'
         '<associableHotspot identifier="B" shape="circle" coords="50,50,5" matchMax="1"/>')
PAIR = ('<responseDeclaration identifier="RESPONSE" cardinality="multiple" baseType="{}"><correctResponse>'
        '<value>{}</value></correctResponse></responseDeclaration>')


@pytest.mark.parametrize("xml, element, problem", [
    (graphic_item(f'<graphicAssociateInteraction responseIdentifier="RESPONSE">{OBJ}{SPOTS}'
                  '</graphicAssociateInteraction>', PAIR.format("pair", "A Z")), "correctResponse",
     "does not pair two different options"),
    (graphic_item(f'<graphicAssociateInteraction responseIdentifier="RESPONSE">{OBJ}{SPOTS}'
                  '</graphicAssociateInteraction>', PAIR.format("directedPair", "A B")),
     "graphicAssociateInteraction[RESPONSE]", "baseType 'directedPair'"),
    (graphic_item(f'<graphicAssociateInteraction responseIdentifier="RESPONSE">{OBJ}'
                  '<associableHotspot identifier="A" shape="rect" coords="0,0,10,10"/>'
                  '</graphicAssociateInteraction>', PAIR.format("pair", "A A")),
     "graphicAssociateInteraction[RESPONSE]/associableHotspot[A]@matchMax", "is required"),
    (graphic_item(f'<graphicGapMatchInteraction responseIdentifier="RESPONSE">{OBJ}{SPOTS}'
                  '<gapText identifier="T" matchMax="1">t</gapText></graphicGapMatchInteraction>',
                  PAIR.format("directedPair", "A T")), "correctResponse", "does not pair an option with a target"),
    (graphic_item(f'<graphicGapMatchInteraction responseIdentifier="RESPONSE">{OBJ}{SPOTS}'
                  '<gapImg identifier="I" matchMax="1"><object type="video/mp4" data="v.mp4"/></gapImg>'
                  '</graphicGapMatchInteraction>', PAIR.format("directedPair", "I A")),
     "gapImg[I]/object", "must reference an image file"),
    (graphic_item(f'<graphicGapMatchInteraction responseIdentifier="RESPONSE">{OBJ}'
                  '<gapText identifier="T" matchMax="1">t</gapText></graphicGapMatchInteraction>',
                  PAIR.format("directedPair", "T A")), "graphicGapMatchInteraction[RESPONSE]",
     "needs gapText or gapImg choices and associableHotspot gaps"),
])
def test_graphic_pair_constructs_are_refused_by_name(tmp_path: Path, xml: str, element: str, problem: str) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "circuit.png").write_bytes((CORPUS / "invigil/images/circuit.png").read_bytes())
    outcome = parse(write_qti(tmp_path, "i.xml", xml))
    assert isinstance(outcome, ItemRejected), "expected a rejection"
    assert element in outcome.element and problem in outcome.problem, outcome.reason


def test_media_plays_from_the_package_with_its_limits() -> None:
    parsed = imported(CORPUS / "invigil/media-audio-plays.xml")
    player = parsed.item.interactions[0].player
    assert player is not None and (player.min_plays, player.max_plays, player.autostart) == (1, 2, False)
    assert player.media.mime == "audio/wav" and player.media.alt == "A steady 440 Hz tone"  # typed by its bytes
    assert parsed.media[player.media.sha256][1] == (CORPUS / "invigil/media/tone.wav").read_bytes()
    plays, choice = parsed.key.responses
    assert (plays.template, plays.max_score, score_response(2, plays)) == ("unscored", 0.0, 0.0)
    assert score_response("FIRE", choice) == 1.0


def media_item(obj: str, attrs: str = 'autostart="false"', processing: str = "") -> str:
    return (f'<assessmentItem xmlns="{QTI21}" identifier="m" title="m" adaptive="false" timeDependent="false">'
            '<responseDeclaration identifier="PLAYS" cardinality="single" baseType="integer"/>'
            f'<itemBody><mediaInteraction responseIdentifier="PLAYS" {attrs}>{obj}</mediaInteraction></itemBody>'
            f'{processing}</assessmentItem>')


WAV = '<object type="audio/wav" data="tone.wav">tone</object>'


@pytest.mark.parametrize("xml, element, problem", [
    (media_item(WAV), "responseProcessing", "scores nothing"),
    (media_item('<object type="audio/wav" data="images/circuit.png">x</object>'), "mediaInteraction[PLAYS]/object",
     "is not WAV, Ogg, FLAC, MP3, WebM or MP4"),
    (media_item(WAV + WAV), "mediaInteraction[PLAYS]", "exactly one object"),
    (media_item(WAV, 'autostart="false" minPlays="3" maxPlays="2"'), "mediaInteraction[PLAYS].min_plays",
     "must not be above max_plays"),
    (media_item('<object type="video/mp4" data="missing.mp4">x</object>'), "mediaInteraction[PLAYS]/object",
     "not found"),
])
def test_media_constructs_we_cannot_deliver_are_refused(tmp_path: Path, xml: str, element: str, problem: str) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "circuit.png").write_bytes((CORPUS / "invigil/images/circuit.png").read_bytes())
    (tmp_path / "tone.wav").write_bytes((CORPUS / "invigil/media/tone.wav").read_bytes())
    outcome = parse(write_qti(tmp_path, "i.xml", xml))
    assert isinstance(outcome, ItemRejected), "expected a rejection"
    assert element in outcome.element and problem in outcome.problem, outcome.reason


def test_new_interactions_survive_the_bank_and_the_export_command(central, tmp_path: Path) -> None:
    """Through the real CLI: imported into a bank, put on a form, exported as a QTI 3.0 package with
    their media (images, pictures in gaps, the WAV), imported into another bank equal, and a second
    import of the unchanged corpus files changes nothing."""
    folder = tmp_path / "new"
    for source in NEW:
        path = CORPUS / source
        (folder / source).parent.mkdir(parents=True, exist_ok=True)
        (folder / source).write_bytes(path.read_bytes())
    for sub in ("images", "media"):
        for media in (CORPUS / "invigil" / sub).iterdir():
            (folder / "invigil" / sub).mkdir(parents=True, exist_ok=True)
            (folder / "invigil" / sub / media.name).write_bytes(media.read_bytes())
    first = central.json("import", folder, "--area", "general")
    assert len(first["imported"]) == len(NEW) and first["rejected"] == []
    assert {r["outcome"] for r in central.json("import", folder, "--area", "general")["imported"]} == {"unchanged"}
    central.approve_all()
    (tmp_path / "s.yaml").write_text(
        "format: invigil-scheme/1\nid: NEW\nversion: 1\ntitle: New\nduration_minutes: 30\ncut_score_percent: 50\n"
        f"blueprint:\n  - {{area: general, items: {len(NEW)}}}\n")
    central.json("schemes", "add", tmp_path / "s.yaml")
    form_id = central.json("forms", "build", "--scheme", "NEW", "--count", "1", "--seed", "3")["forms"][0]["form_id"]
    out = tmp_path / "export.zip"
    assert central.json("export", "--form", form_id, "--out", out)["items"] == len(NEW)
    fresh = Central(tmp_path / "fresh")
    fresh.json("init", "--body-id", "other-body", "--name", "Other")
    again = fresh.json("import", out)
    assert len(again["imported"]) == len(NEW) and again["rejected"] == []
    source_bank, target_bank = CentralContext(central.data_dir).item_bank(), CentralContext(fresh.data_dir).item_bank()
    for row in first["imported"]:
        item_id = row["item_id"]
        assert target_bank.item(item_id, 1) == source_bank.item(item_id, 1)
        assert target_bank.answer_key(item_id, 1).responses == source_bank.answer_key(item_id, 1).responses


def test_a_drawing_goes_to_the_markers() -> None:
    parsed = imported(CORPUS / "invigil/drawing-human.xml")
    (key,) = parsed.key.responses
    assert (key.template, key.base_type, key.max_score) == ("human", "file", 2.0)
    assert "2 marks: a line joining" in parsed.key.rubric_html
    drawing = "data:image/png;base64,iVBORw0KGgo="
    assert score_response(drawing, key) is None          # queued for a marker, never scored 0
    with pytest.raises(ValidationError, match="must match"):
        score_response("data:image/svg+xml;base64,PHN2Zz4=", key)
