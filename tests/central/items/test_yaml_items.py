"""The native YAML item format: every interaction type, and errors that name the field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.items.importer import ImportOptions, iter_sources
from item_bank_sync.items.qti.reader import ParsedItem

CHOICE = """
format: invigil-item/1
id: net-001
title: Default gateway
area: routing
body: |
  <p>A host sends a packet to another subnet.</p>
  <div data-interaction="RESPONSE"></div>
interactions:
  - type: choice
    response: RESPONSE
    prompt: Where does it go first?
    shuffle: true
    choices:
      - {id: A, html: The default gateway}
      - {id: B, html: The DNS server}
      - {id: C, html: Nowhere, fixed: true}
    scoring:
      template: match_correct
      correct: A
"""

GAP = """
format: invigil-item/1
id: gap-001
title: Quote
interactions:
  - type: gap_match
    response: RESPONSE
    choices: [{id: W, html: winter}, {id: S, html: summer}]
    content: <p>Now is the <span data-gap="G1"></span> of our discontent</p>
    scoring:
      template: map_response
      correct: [[W, G1]]
      mapping: {"W G1": 1}
      default_value: 0
"""

ESSAY_AND_TEXT = """
format: invigil-item/1
id: essay-001
title: Explain
body: '<p>Name it: <span data-interaction="RESPONSE"></span></p>'
interactions:
  - type: text_entry
    response: RESPONSE
    expected_length: 10
    scoring: {template: map_response, mapping: {Paris: 1}, case_sensitive: false, upper_bound: 1}
  - type: extended_text
    response: WHY
    prompt: Explain why.
    expected_lines: 5
"""

HOTSPOT = """
format: invigil-item/1
id: spot-001
title: Where
interactions:
  - type: hotspot
    response: RESPONSE
    image: map.png
    hotspots:
      - {id: A, shape: circle, coords: [10, 10, 4]}
      - {id: B, shape: rect, coords: [20, 20, 40, 40], label: south}
    scoring: {template: match_correct, correct: B}
"""

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000400000003008060000") + b"\0" * 16


def load(tmp_path: Path, text: str, name: str = "item.yaml") -> ParsedItem | ItemRejected:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), "utf-8")
    (tmp_path / "map.png").write_bytes(PNG)
    (outcome,) = list(iter_sources([path], ImportOptions()))
    return outcome


def test_choice_item(tmp_path: Path) -> None:
    item = load(tmp_path, CHOICE)
    assert isinstance(item, ParsedItem), getattr(item, "reason", "")
    assert (item.source_format, item.item.competency_area, item.item.interactions[0].choices[2].fixed) == \
        ("yaml", "routing", True)
    assert item.item.body_html.endswith('<div data-interaction="RESPONSE"></div>')
    assert item.key.responses[0].correct == "A"


def test_gap_match_text_entry_essay_and_hotspot(tmp_path: Path) -> None:
    gap = load(tmp_path, GAP)
    assert isinstance(gap, ParsedItem), getattr(gap, "reason", "")
    assert gap.key.responses[0].correct == [["W", "G1"]] and gap.item.interactions[0].targets[0].id == "G1"
    both = load(tmp_path, ESSAY_AND_TEXT)
    assert isinstance(both, ParsedItem), getattr(both, "reason", "")
    assert [k.template for k in both.key.responses] == ["map_response", "human"]
    assert both.key.responses[0].mapping == {"paris": 1.0} and not both.key.responses[0].case_sensitive
    spot = load(tmp_path, HOTSPOT)
    assert isinstance(spot, ParsedItem), getattr(spot, "reason", "")
    assert spot.item.interactions[0].image.width == 64 and spot.item.interactions[0].hotspots[1].label == "south"


@pytest.mark.parametrize("change, element, problem", [
    (lambda t: t.replace("format: invigil-item/1", "format: other"), "item.format", "must be"),
    (lambda t: t.replace("title: Default gateway\n", "title: Default gateway\ncolour: red\n"), "item.colour",
     "not a known field"),
    (lambda t: t.replace("correct: A", "correct: Z"), "correctResponse", "'Z' is not one of the options"),
    (lambda t: t.replace("type: choice", "type: slider"), "interactions[0].type", "must be one of"),
    (lambda t: t.replace("    scoring:\n      template: match_correct\n      correct: A\n", ""),
     "interactions[0].scoring", "is required"),
    (lambda t: t.replace("<p>A host", "<p onclick='x()'>A host <script>x()</script"), "body", "not well-formed"),
    (lambda t: t + "interactions: [\n", "yaml", "malformed YAML"),
])
def test_errors_name_the_field(tmp_path: Path, change, element: str, problem: str) -> None:
    outcome = load(tmp_path, change(textwrap.dedent(CHOICE)))
    assert isinstance(outcome, ItemRejected), "expected a rejection"
    assert element in outcome.element and problem in outcome.problem, outcome.reason


def test_aliases_are_refused(tmp_path: Path) -> None:
    bomb = "format: invigil-item/1\nid: x\ntitle: &t [a, a]\ninteractions: *t\n"
    outcome = load(tmp_path, bomb)
    assert isinstance(outcome, ItemRejected) and "aliases" in outcome.problem


def test_scripts_in_yaml_html_are_removed(tmp_path: Path) -> None:
    text = textwrap.dedent(CHOICE).replace("<p>A host", "<p onclick='x()'>A host <script>x()</script>")
    outcome = load(tmp_path, text)
    assert isinstance(outcome, ParsedItem)
    assert "script" not in outcome.item.body_html and "onclick" not in outcome.item.body_html
