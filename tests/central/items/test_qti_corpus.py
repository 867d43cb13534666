"""The QTI corpus (tests/data/qti-corpus): every item imported exactly or refused with its reason.

The corpus holds third-party items whose licence allows them here (each source folder has its
LICENCE note) and items written for Invigil with the constructs of items that cannot be included
(TAO, QTIWorks, ONYX, 1EdTech, Common Cartridge exports). The table in qti_corpus_table.py is the
contract: a change to the importer that changes any outcome must change that table, visibly.

"No import is silently lossy" is checked for every imported item: each word of the source item
body appears in what was imported, unless a warning names what was removed or replaced.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.items.importer import ImportOptions, iter_sources
from item_bank_sync.items.qti.reader import ParsedItem
from item_bank_sync.results.scoring import score_response
from tests.central.items.qti_corpus_table import CORPUS, IMPORTED, REFUSED, SOURCES, WARNED
from tests.support.qti_roundtrip import export_and_reimport

def corpus_outcomes() -> dict[str, ParsedItem | ItemRejected]:
    found = {}
    for outcome in iter_sources([CORPUS / s for s in SOURCES], ImportOptions()):
        found[outcome.source.split(f"{CORPUS}/", 1)[-1]] = outcome
    return found


@pytest.fixture(scope="module")
def outcomes() -> dict[str, ParsedItem | ItemRejected]:
    return corpus_outcomes()


def test_every_corpus_item_is_in_the_table(outcomes: dict[str, ParsedItem | ItemRejected]) -> None:
    assert set(outcomes) == set(IMPORTED) | set(REFUSED), "an item was added or removed: update the table"
    for source, licence_folder in ((s, CORPUS / s.split("/")[0].split("!")[0]) for s in outcomes):
        assert (licence_folder / "LICENCE.md").is_file(), f"{source}: its source folder has no LICENCE.md"


@pytest.mark.parametrize("source", sorted(IMPORTED))
def test_imported_items_have_their_key_and_text(outcomes: dict[str, ParsedItem | ItemRejected], source: str) -> None:
    parsed = outcomes[source]
    assert isinstance(parsed, ParsedItem), getattr(parsed, "reason", "")
    kinds, keys, text = IMPORTED[source]
    assert [i.type for i in parsed.item.interactions] == kinds
    assert [(k.response_id, k.template, k.max_score, k.correct) for k in parsed.key.responses] == keys
    assert text in _all_html(parsed)
    if source in WARNED:
        assert any(WARNED[source] in w for w in parsed.warnings), parsed.warnings


@pytest.mark.parametrize("source", sorted(REFUSED))
def test_refused_items_name_element_and_problem(outcomes: dict[str, ParsedItem | ItemRejected], source: str) -> None:
    refused = outcomes[source]
    assert isinstance(refused, ItemRejected), f"{source} was imported"
    element, problem = REFUSED[source]
    assert refused.element == element and problem in refused.problem, refused.reason


@pytest.mark.parametrize("source", sorted(IMPORTED))
def test_no_import_is_silently_lossy(outcomes: dict[str, ParsedItem | ItemRejected], source: str) -> None:
    """Every word of the source body reaches the candidate, the markers, or a warning that says why not."""
    parsed = outcomes[source]
    assert isinstance(parsed, ParsedItem)
    delivered = _words(re.sub(r"<[^>]+>", " ", _all_html(parsed) + " " + parsed.key.rubric_html))
    missing = _source_words(source) - delivered
    if missing:
        assert parsed.warnings, f"{source}: {sorted(missing)} vanished without a warning"


def test_scores_follow_the_recognised_processing(outcomes: dict[str, ParsedItem | ItemRejected]) -> None:
    """Inline rules score as the author wrote them: the cloze sums its parts, weights are kept."""
    cloze = outcomes["invigil/cloze-sum.xml"]
    assert isinstance(cloze, ParsedItem)
    scores = [score_response(v, k) for v, k in zip(["V", 6, "AMP"], cloze.key.responses)]
    assert scores == [1.0, 2.0, 0.0]  # string map keys are case-sensitive unless the mapping says otherwise
    assert score_response("amp", cloze.key.responses[2]) == 0.5 and score_response(None, cloze.key.responses[2]) == 0.0
    weighted = outcomes["invigil/weighted-maxscore.xml"]
    assert isinstance(weighted, ParsedItem)
    (key,) = weighted.key.responses
    assert score_response(["S", "L", "T"], key) == 3.0 and score_response(["L", "S", "T"], key) == 0.0
    rubric = outcomes["invigil/essay-scorer-rubric.xml"]
    assert isinstance(rubric, ParsedItem)
    assert "fault path" in rubric.key.rubric_html and "fault path" not in _all_html(rubric)



def test_one_rule_summing_maps_and_mapping_case_are_scored_as_written(
        outcomes: dict[str, ParsedItem | ItemRejected]) -> None:
    """SCORE = sum(mapResponse...) scores each part; a mapping's caseSensitive="false" (and "0") is honoured."""
    summed = outcomes["invigil/map-sum-one-rule.xml"]
    assert isinstance(summed, ParsedItem)
    live, neutral = summed.key.responses
    assert (score_response("BROWN_L", live), score_response("BLUE_N", neutral)) == (1.0, 2.0)
    assert (score_response(None, live), score_response("BROWN_N", neutral)) == (0.0, 0.0)
    folded = outcomes["invigil/mapping-case-insensitive.xml"]
    assert isinstance(folded, ParsedItem)
    (key,) = folded.key.responses
    assert not key.case_sensitive
    assert [score_response(v, key) for v in ("Ohm", "OHMS", "volt", None)] == [2.0, 2.0, 0.0, 0.0]


#: Items whose constructs were found in public items (docs/ITEM-FORMATS.md, "Checked against public items")
PUBLIC_CONSTRUCTS = ("map-sum-one-rule", "mapping-case-insensitive", "essay-maxscore-zeroed", "essay-no-maximum",
                     "media-percent-encoded", "area-overlap-later-zero", "onyx-null-first-branch",
                     "gap-match-one-word-per-gap", "inline-and-single-operand", "data-uri-image")


@pytest.mark.parametrize("name", PUBLIC_CONSTRUCTS)
def test_public_constructs_export_and_reimport_to_the_same_key(
        outcomes: dict[str, ParsedItem | ItemRejected], name: str, tmp_path: Path) -> None:
    """What the importer now reads (case-folded mappings, one-rule sums, ONYX scoring, MAXSCORE
    maxima) is written back by export in a form that reads the same again."""
    parsed = outcomes[f"invigil/{name}.xml"]
    assert isinstance(parsed, ParsedItem)
    again = export_and_reimport(parsed, tmp_path)
    assert [k.to_dict() for k in again.key.responses] == [k.to_dict() for k in parsed.key.responses]

def _all_html(parsed: ParsedItem) -> str:
    parts = [parsed.item.body_html]
    for inter in parsed.item.interactions:
        parts += [inter.prompt_html, inter.content_html] + [c.html for c in inter.choices + inter.targets]
        parts += [h.label for h in inter.hotspots] + [inter.image.alt if inter.image else ""]
        parts += [inter.player.media.alt if inter.player else ""]
    html = "\n".join(parts)
    return html + "\n" + " ".join(re.findall(r'alt="([^"]*)"', html))  # alt text reaches the candidate too


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-z]{3,}", text)}


def _source_words(source: str) -> set[str]:
    path = CORPUS / source.replace("!", "/")
    root = etree.parse(str(path)).getroot()
    body = next(el for el in root.iter() if isinstance(el.tag, str) and etree.QName(el).localname in
                ("itemBody", "qti-item-body"))
    return _words(" ".join(body.itertext()))
