"""``export``: a form's items as a QTI 3.0 IMS content package that ``import`` reads back unchanged.

The package holds ``imsmanifest.xml`` (IMS CP 1.2, one ``imsqti_item_xmlv3p0`` resource per item,
plus an ``imsqti_test_xmlv3p0`` assessment test listing the form's items in order), the items as
``items/ITEM.xml`` and media as ``media/SHA12/NAME``. Each item resource carries Invigil's one
metadata element, ``<inv:item competency-area="..."/>``, because QTI has no place for a
blueprint area. Unlike a form package, an export **contains the answer keys** (QTI items carry
their scoring): it is for moving items between banks, and is audited as such.
"""

from __future__ import annotations

import functools
import zipfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from lxml import etree

from exam_core.model import Item
from item_bank_sync.context import CentralContext
from item_bank_sync.forms.store import FormStore
from item_bank_sync.items.qti.families import family_to_qti
from item_bank_sync.items.qti.writer import item_to_qti
from item_bank_sync.items.qti.xml import CP_NS, INVIGIL_META_NS, QTI3_NS

EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}


def media_member(sha256: str, name: str, mime: str) -> str:
    safe = "".join(ch for ch in name if ch.isalnum() or ch in "._-") or f"file{EXTENSIONS.get(mime, '')}"
    return f"media/{sha256[:12]}/{safe}"


def export_form(ctx: CentralContext, form_id: str, out: Path, version: int | None, by: str) -> dict[str, Any]:
    form = FormStore(ctx.open_bank_db()).get(form_id, version)
    bank = ctx.item_bank()
    members: list[tuple[str, bytes]] = []
    resources: list[str] = []
    media_written: set[str] = set()
    for ref in form.items:
        item, key = bank.item(ref.item_id, ref.version), bank.answer_key(ref.item_id, ref.version)
        paths = _media_paths(item)
        href = functools.partial(_media_href, paths)
        # an item family is written as the family (re-imported equal), not as the bank's preview
        xml = family_to_qti(key, href, ref.item_id) if key.family else item_to_qti(item, key, href, ref.item_id)
        member = f"items/{item.item_id}.xml"
        members.append((member, xml))
        files = [f'<file href="{member}"/>']
        for src, path in sorted(paths.items()):
            files.append(f'<file href="{path}"/>')
            if path not in media_written:
                media_written.add(path)
                members.append((path, bank.media.get(src.removeprefix("media:"))))
        meta = (f'<metadata><inv:item xmlns:inv="{INVIGIL_META_NS}" competency-area={quoteattr(item.competency_area)}/>'
                f'</metadata>') if item.competency_area else ""
        resources.append(f'<resource identifier={quoteattr("R-" + item.item_id)} type="imsqti_item_xmlv3p0" '
                         f'href="{member}">{meta}{"".join(files)}</resource>')
    members.append(("test.xml", _assessment_test(form)))
    resources.append('<resource identifier="R-test" type="imsqti_test_xmlv3p0" href="test.xml">'
                     '<file href="test.xml"/></resource>')
    manifest = (f'<?xml version="1.0" encoding="UTF-8"?>\n<manifest xmlns="{CP_NS}" '
                f'identifier={quoteattr("M-" + form.form_id)}><metadata><schema>QTI Package</schema>'
                f'<schemaversion>3.0.0</schemaversion></metadata><organizations/>'
                f'<resources>{"".join(resources)}</resources></manifest>\n').encode()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("imsmanifest.xml", manifest)
        for name, data in members:
            archive.writestr(name, data)
    tmp.replace(out)
    ctx.audit_log().append(by, "form.export", {"form_id": form.form_id, "form_version": form.version,
                                               "file": str(out)[:500], "items": len(form.items)})
    return {"form_id": form.form_id, "form_version": form.version, "items": len(form.items),
            "media": len(media_written), "file": str(out), "contains_answer_keys": True}


def _media_paths(item: Item) -> dict[str, str]:
    refs = list(item.media) + [i.image for i in item.interactions if i.image is not None]
    return {f"media:{r.sha256}": media_member(r.sha256, r.name, r.mime) for r in refs}


def _media_href(paths: dict[str, str], src: str) -> str:
    """Where an item's media reference points from inside the exported package."""
    return "../" + paths[src] if src in paths else src


def _assessment_test(form: Any) -> bytes:
    """A linear QTI 3.0 test listing the form's items in delivery order (for other QTI tools)."""
    test = etree.Element(f"{{{QTI3_NS}}}qti-assessment-test", nsmap={None: QTI3_NS},
                         identifier=form.form_id, title=form.title)
    part = etree.SubElement(test, f"{{{QTI3_NS}}}qti-test-part", identifier="part1")
    part.set("navigation-mode", "nonlinear")
    part.set("submission-mode", "simultaneous")
    section = etree.SubElement(part, f"{{{QTI3_NS}}}qti-assessment-section", identifier="section1",
                               title=form.title, visible="true")
    for ref in form.items:
        item_ref = etree.SubElement(section, f"{{{QTI3_NS}}}qti-assessment-item-ref", identifier=ref.item_id,
                                    href=f"items/{ref.item_id}.xml")
        if ref.area:
            item_ref.set("category", ref.area)
    return etree.tostring(test, xml_declaration=True, encoding="UTF-8", pretty_print=True)
