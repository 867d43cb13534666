"""Synthetic QTI 2.1 items and a matching scheme, for demos, tests and the benchmark.

The items are real QTI files (single-choice, match_correct) that go through the ordinary
importer; only their wording is generated. They are spread over competency areas so that a
scheme's blueprint can be filled: :func:`write_package` records each item's area in the content
package manifest, :func:`write_items` puts each area in its own folder (import it with ``--area``).
"""

from __future__ import annotations

import random
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from item_bank_sync.items.qti.xml import CP_NS, INVIGIL_META_NS

QTI21 = "http://www.imsglobal.org/xsd/imsqti_v2p1"
TEMPLATE = "http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"


def choice_item_xml(item_id: str, title: str, stem: str, options: list[str], correct: int) -> bytes:
    """One single-choice QTI 2.1 item."""
    choices = "\n".join(f'      <simpleChoice identifier="C{n}">{escape(text)}</simpleChoice>'
                        for n, text in enumerate(options))
    root = (f'<assessmentItem xmlns="{QTI21}" identifier={quoteattr(item_id)} title={quoteattr(title)} '
            'adaptive="false" timeDependent="false">')
    return f"""<?xml version="1.0" encoding="UTF-8"?>
{root}
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">
    <correctResponse><value>C{correct}</value></correctResponse>
  </responseDeclaration>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
  <itemBody>
    <p>{escape(stem)}</p>
    <choiceInteraction responseIdentifier="RESPONSE" shuffle="true" maxChoices="1">
      <prompt>Choose one answer.</prompt>
{choices}
    </choiceInteraction>
  </itemBody>
  <responseProcessing template="{TEMPLATE}"/>
</assessmentItem>
""".encode()


def generate(count: int, areas: list[str], seed: int = 0, prefix: str = "syn") -> list[tuple[str, str, bytes]]:
    """(item_id, area, QTI bytes) for ``count`` items spread round-robin over ``areas``."""
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic items, not a secret
    out = []
    for n in range(count):
        item_id = f"{prefix}-{n:05d}"
        a, b = rng.randint(2, 99), rng.randint(2, 99)
        answer = a * b
        options = sorted({answer, answer + rng.randint(1, 9), answer - rng.randint(1, 9), answer + 10})
        out.append((item_id, areas[n % len(areas)],
                    choice_item_xml(item_id, f"Product {n}", f"What is {a} times {b}?",
                                    [str(o) for o in options], options.index(answer))))
    return out


def write_items(folder: Path, items: list[tuple[str, str, bytes]]) -> list[Path]:
    """One XML file per item under folder/AREA/ (import each area folder with --area AREA)."""
    paths = []
    for item_id, area, xml in items:
        target = folder / area / f"{item_id}.xml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(xml)
        paths.append(target)
    return paths


def write_package(path: Path, items: list[tuple[str, str, bytes]]) -> Path:
    """An IMS content package whose manifest carries each item's competency area."""
    resources = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for item_id, area, xml in items:
            archive.writestr(f"items/{item_id}.xml", xml)
            resources.append(
                f'<resource identifier="R-{item_id}" type="imsqti_item_xmlv2p1" href="items/{item_id}.xml">'
                f'<metadata><inv:item xmlns:inv="{INVIGIL_META_NS}" competency-area={quoteattr(area)}/></metadata>'
                f'<file href="items/{item_id}.xml"/></resource>')
        archive.writestr("imsmanifest.xml", (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<manifest xmlns="{CP_NS}" identifier="synthetic">'
            f'<organizations/><resources>{"".join(resources)}</resources></manifest>').encode())
    return path


def scheme_yaml(scheme_id: str, areas: list[str], per_area: int, enemy_groups: list[list[str]] | None = None) -> str:
    """A scheme whose blueprint takes ``per_area`` items from each area."""
    blueprint = "\n".join(f"  - area: {a}\n    items: {per_area}" for a in areas)
    enemies = "\n".join("  - [" + ", ".join(g) + "]" for g in enemy_groups or [])
    return (f"format: invigil-scheme/1\nid: {scheme_id}\nversion: 1\ntitle: Synthetic scheme {scheme_id}\n"
            f"eligibility: Anyone.\nduration_minutes: 60\ncut_score_percent: 70\n"
            f"accommodations_allowed: [extra_time_percent, large_text]\nmax_extra_time_percent: 50\n"
            f"blueprint:\n{blueprint}\n" + (f"enemy_groups:\n{enemies}\n" if enemies else ""))
