"""The YAML examples in docs/ITEM-FORMATS.md are real: they import and parse as documented."""

from __future__ import annotations

import re
from pathlib import Path

from item_bank_sync.forms.schemes import parse_scheme
from item_bank_sync.items.importer import ImportOptions, iter_sources
from item_bank_sync.items.qti.reader import ParsedItem

DOC = Path(__file__).parents[3] / "docs" / "ITEM-FORMATS.md"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000400000003008060000") + b"\0" * 16


def examples() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", DOC.read_text("utf-8"), re.S)


def test_item_example_imports(tmp_path: Path) -> None:
    (item_yaml,) = [e for e in examples() if "invigil-item/1" in e]
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "net.png").write_bytes(PNG)
    (tmp_path / "images" / "map.png").write_bytes(PNG)
    (tmp_path / "item.yaml").write_text(item_yaml, "utf-8")
    (outcome,) = list(iter_sources([tmp_path / "item.yaml"], ImportOptions()))
    assert isinstance(outcome, ParsedItem), getattr(outcome, "reason", "")
    assert outcome.item.competency_area == "routing" and len(outcome.item.media) == 1


def test_scheme_example_parses() -> None:
    (scheme_yaml,) = [e for e in examples() if "invigil-scheme/1" in e]
    scheme = parse_scheme(scheme_yaml.encode(), "doc")
    assert scheme.form_length == 35 and len(scheme.enemy_groups) == 2
