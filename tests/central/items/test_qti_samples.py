"""Every shared QTI sample is imported, or rejected with a reason that names the element and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.items.importer import ImportOptions, iter_sources
from item_bank_sync.items.qti.reader import ParsedItem

EXPECTED_IMPORTED = {
    "2_1/associate.xml": "associate", "2_1/choice.xml": "choice", "2_1/choice_fixed.xml": "choice",
    "2_1/choice_multiple.xml": "choice", "2_1/extended_text.xml": "extended_text",
    "2_1/gap_match.xml": "gap_match", "2_1/hotspot.xml": "hotspot", "2_1/hottext.xml": "hottext",
    "2_1/inline_choice.xml": "inline_choice", "2_1/match.xml": "match", "2_1/order.xml": "order",
    "2_1/text_entry.xml": "text_entry", "2_1/slider.xml": "slider",
}
EXPECTED_REJECTED = {
    "2_1/likert.xml": ("responseProcessing", "cannot be scored"),
    "2_1/choice_multiple_chocolade.xml": ("responseProcessing", "custom response processing"),
    "3_0/aqti_tmh_sample_1.xml": ("responseProcessing", "--assume-match-correct"),
    "3_0/aqti_tmh_sample_2.xml": ("responseProcessing", "--assume-match-correct"),
    "3_0/aqti_tmh_sample_3.xml": ("responseProcessing", "--assume-match-correct"),
}


def outcomes(samples: Path, **options) -> dict[str, ParsedItem | ItemRejected]:
    found = {}
    for outcome in iter_sources([samples], ImportOptions(**options)):
        found[Path(outcome.source).relative_to(samples).as_posix()] = outcome
    return found


def imported(samples: Path, **options) -> dict[str, ParsedItem]:
    """The samples that import (a refused one is missing, so a test that reads it fails)."""
    return {name: o for name, o in outcomes(samples, **options).items() if isinstance(o, ParsedItem)}


def test_every_sample_is_accounted_for(samples: Path) -> None:
    files = {p.relative_to(samples).as_posix() for p in samples.rglob("*.xml")}
    assert files == set(EXPECTED_IMPORTED) | set(EXPECTED_REJECTED), "a sample was added or removed: update the test"
    found = outcomes(samples)
    assert set(found) == files
    for name, kind in EXPECTED_IMPORTED.items():
        outcome = found[name]
        assert isinstance(outcome, ParsedItem), (name, getattr(outcome, "reason", ""))
        assert [i.type for i in outcome.item.interactions] == [kind]
    for name, (element, problem) in EXPECTED_REJECTED.items():
        rejected = found[name]
        assert isinstance(rejected, ItemRejected), name
        assert element in rejected.element and problem in rejected.problem, rejected.reason


def test_qti3_samples_import_with_assume_match_correct(samples: Path) -> None:
    found = outcomes(samples / "3_0", assume_match_correct=True)
    for name, outcome in found.items():
        assert isinstance(outcome, ParsedItem), name
        assert outcome.source_format == "qti3.0"
        assert outcome.key.responses[0].template == "match_correct"
        assert outcome.key.responses[0].correct == "optionA"
        assert [c.html for c in outcome.item.interactions[0].choices] == ["<p>About 200</p>", "<p>About 100</p>",
                                                                         "<p>About 50</p>"]
        assert any("assume-match-correct" in w for w in outcome.warnings)
    # ssml:sub is not HTML: unwrapped, its text kept, and said so
    sample2 = next(o for name, o in found.items() if name.endswith("sample_2.xml"))
    assert isinstance(sample2, ParsedItem)
    assert "ssml" not in sample2.item.body_html and "Dr." in sample2.item.body_html
    assert any("ssml:sub" in w for w in sample2.warnings)


def test_sample_keys_follow_the_templates(samples: Path) -> None:
    found = imported(samples)
    water = found["2_1/choice_multiple.xml"].key.responses[0]
    assert (water.template, water.lower_bound, water.upper_bound, water.default_value) == ("map_response", 0, 2, -2)
    assert water.mapping == {"H": 1.0, "O": 1.0, "Cl": -1.0} and water.max_score == 2.0
    match = found["2_1/match.xml"]
    assert match.key.responses[0].correct == [["C", "R"], ["D", "M"], ["L", "M"], ["P", "T"]]
    assert [t.id for t in match.item.interactions[0].targets] == ["M", "R", "T"]
    assert match.item.interactions[0].targets[0].match_max == 4
    gap = found["2_1/gap_match.xml"]
    assert gap.item.interactions[0].content_html.count('<span data-gap="') == 2
    assert gap.key.responses[0].max_score == 3.0
    text = found["2_1/text_entry.xml"]
    assert text.key.responses[0].mapping == {"York": 1.0, "york": 0.5} and text.key.responses[0].case_sensitive
    assert '<span data-interaction="RESPONSE"></span>' in text.item.body_html
    essay = found["2_1/extended_text.xml"].key.responses[0]
    assert essay.template == "human" and essay.correct is None
    order = found["2_1/order.xml"]
    assert order.key.responses[0].correct == ["DriverC", "DriverA", "DriverB"]
    assert order.item.interactions[0].shuffle and order.item.interactions[0].choices[2].fixed
    slider = found["2_1/slider.xml"]
    assert slider.item.interactions[0].slider is not None
    assert (slider.item.interactions[0].slider.lower, slider.item.interactions[0].slider.upper) == (0, 100)
    assert slider.key.responses[0].mapping["16"] == 1.0 and slider.key.responses[0].max_score == 1.0
    hot = found["2_1/hottext.xml"].item.interactions[0]
    assert [c.id for c in hot.choices] == list("ABCDE") and '<span data-hottext="B">includes</span>' in hot.content_html


def test_sample_media_is_hashed_and_referenced(samples: Path) -> None:
    found = imported(samples)
    spot = found["2_1/hotspot.xml"].item.interactions[0]
    assert spot.image is not None and (spot.image.width, spot.image.height) == (206, 280)
    assert [h.id for h in spot.hotspots] == ["A", "B", "C", "D"] and spot.hotspots[0].coords == (77.0, 115.0, 8.0)
    choice = found["2_1/choice.xml"].item
    (ref,) = choice.media
    assert f'src="media:{ref.sha256}"' in choice.body_html and ref.mime == "image/png"
    postcard = found["2_1/extended_text.xml"].item
    assert "Here is a postcard of my town" in postcard.body_html  # object fallback kept as alt text


def test_import_command_on_samples(central, samples: Path) -> None:
    result = central.run("import", str(samples), "--json")
    assert result.exit_code == 1  # some samples are rejected
    data = result.data
    # choice.xml and choice_fixed.xml are different items that share the identifier "choice": the
    # second is a clash, refused with what to do, never silently a new version of the first
    (clash,) = [r for r in data["rejected"] if r["source"].endswith("choice_fixed.xml")]
    assert "already in the bank" in clash["reason"] and "--namespace" in clash["reason"]
    assert len(data["rejected"]) == len(EXPECTED_REJECTED) + 1
    assert all(r["reason"] and ":" in r["reason"] for r in data["rejected"])
    by_source = {Path(r["source"]).name: r for r in data["imported"]}
    assert by_source["choice.xml"]["version"] == 1 and "choice_fixed.xml" not in by_source
    again = central.run("import", str(samples), "--json")  # re-importing unchanged files changes nothing
    assert {r["outcome"] for r in again.data["imported"]} == {"unchanged"}
    assert len(again.data["rejected"]) == len(data["rejected"])
    fixed = central.run("import", str(samples / "2_1" / "choice_fixed.xml"), "--on-clash", "new-version", "--json")
    assert fixed.exit_code == 0
    (row,) = fixed.data["imported"]
    assert (row["outcome"], row["version"]) == ("new_version", 2)
    again = central.run("import", str(samples / "2_1" / "choice_fixed.xml"), "--json")
    assert again.exit_code == 0
    (row,) = again.data["imported"]
    assert (row["outcome"], row["version"]) == ("unchanged", 2)
    stored = list((central.data_dir / "media").rglob("*"))
    assert sum(1 for p in stored if p.is_file()) == 3  # sign, postcard, ukair: stored once each


@pytest.mark.parametrize("name", sorted(EXPECTED_IMPORTED))
def test_each_importable_sample_round_trips_its_html(samples: Path, name: str) -> None:
    """Sanitised HTML is well-formed XML with explicit end tags (what the kiosk and export rely on)."""
    from lxml import etree

    from exam_core.model import ALLOWED_BODY_TAGS

    parsed = imported(samples)[name]
    interactions = parsed.item.interactions
    fragments = [parsed.item.body_html, *(i.prompt_html for i in interactions), *(i.content_html for i in interactions),
                 *(c.html for i in interactions for c in i.choices)]
    for fragment in fragments:
        root = etree.fromstring(f"<root>{fragment}</root>")
        for el in root.iter():
            assert el.tag == "root" or el.tag in ALLOWED_BODY_TAGS, el.tag
            assert not any(a.startswith("on") for a in el.attrib)
        assert "<div/>" not in fragment and "<span/>" not in fragment
