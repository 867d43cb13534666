"""Pictures pasted into a QTI body as ``data:`` URIs (issue 18): base64 PNG, JPEG, GIF or WebP of
at most 2 MiB become package media like a file picture (typed by their bytes); anything else is
refused with the reason, before a large payload is decoded."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.items.qti import reader
from item_bank_sync.items.qti.reader import MAX_DATA_URI_BYTES
from tests.central.items.qti_corpus_table import CORPUS
from tests.support.central_items import choice_item, write_qti
from tests.support.qti_roundtrip import export_and_reimport, imported, parse

PNG = (CORPUS / "invigil" / "images" / "lamp.png").read_bytes()


def _img(uri: str) -> str:
    return f'<p><img src="{uri}" alt="A lamp symbol"/></p>'


def test_a_data_uri_picture_becomes_package_media_and_exports(tmp_path: Path) -> None:
    uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    parsed = imported(write_qti(tmp_path, "i.xml", choice_item(body_extra=_img(uri))))
    (ref,) = parsed.item.media
    assert ref.mime == "image/png" and parsed.media[ref.sha256][1] == PNG
    assert f'src="media:{ref.sha256}"' in parsed.item.body_html and "data:" not in parsed.item.body_html
    assert not parsed.warnings
    again = export_and_reimport(parsed, tmp_path / "out")
    assert again.item.body_html == parsed.item.body_html


@pytest.mark.parametrize(("uri", "reason"), [
    ("data:image/png," + "x" * 10, "must be base64"),
    ("data:image/png;base64,@@@@", "not valid base64"),
    ("data:image/png;base64," + base64.b64encode(b"GIF87" + b"\0" * 10).decode(), "not a PNG, JPEG, GIF or WebP"),
])
def test_other_data_uris_are_refused_with_the_reason(tmp_path: Path, uri: str, reason: str) -> None:
    outcome = parse(write_qti(tmp_path, "i.xml", choice_item(body_extra=_img(uri))))
    assert isinstance(outcome, ItemRejected) and reason in outcome.reason
    assert "itemBody/p/img" in str(outcome)


def test_a_data_uri_over_the_limit_is_refused_before_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The limit (2 MiB) is above what fits in an item file today; a smaller one shows it is applied."""
    assert MAX_DATA_URI_BYTES == 2 * 1024 * 1024
    monkeypatch.setattr(reader, "MAX_DATA_URI_BYTES", len(PNG) - 1)
    uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    outcome = parse(write_qti(tmp_path, "i.xml", choice_item(body_extra=_img(uri))))
    assert isinstance(outcome, ItemRejected) and f"more than {len(PNG) - 1} bytes" in outcome.reason
