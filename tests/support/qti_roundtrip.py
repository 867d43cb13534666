"""Import one QTI file as the CLI would, and write an imported item back as QTI 3.0 beside its media
(as ``export`` does) to import it again: the round trip the importer tests check items against."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from item_bank_sync.forms.export import media_member
from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.items.importer import ImportOptions, iter_sources
from item_bank_sync.items.qti.reader import ParsedItem
from item_bank_sync.items.qti.writer import item_to_qti
from tests.support.central_items import write_qti


def parse(path: Path, **options: Any) -> ParsedItem | ItemRejected:
    (outcome,) = list(iter_sources([path], ImportOptions(**options)))
    return outcome


def imported(path: Path) -> ParsedItem:
    outcome = parse(path)
    assert isinstance(outcome, ParsedItem), outcome.reason
    return outcome


def export_and_reimport(parsed: ParsedItem, folder: Path) -> ParsedItem:
    """Write the item as QTI 3.0 with its media beside it (as ``export`` does) and import that file."""
    paths = {}
    for sha, (ref, data) in parsed.media.items():
        paths[f"media:{sha}"] = media_member(sha, ref.name, ref.mime)
        (folder / paths[f"media:{sha}"]).parent.mkdir(parents=True, exist_ok=True)
        (folder / paths[f"media:{sha}"]).write_bytes(data)
    xml = item_to_qti(parsed.item, parsed.key, lambda src: paths.get(src, src), parsed.source)
    return imported(write_qti(folder, "again.xml", xml.decode()))
