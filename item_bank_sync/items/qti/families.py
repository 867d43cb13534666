"""Item families (QTI template processing) at import, at form build and at export.

Why a layer above the reader: the reader reads one *concrete* item and still refuses template
elements by name, so no code path can ever store a family's static ``correctResponse`` as its key
or show its variable names. This module is the one way in for families:

- import (:func:`parse_item`): a file without template elements goes to the reader unchanged; a
  family is checked (:class:`~item_bank_sync.items.qti.templates.Family`, unsupported constructs
  refused by name), a preview instance is drawn with the seed ``("preview", item id, 0)`` and read
  by the reader with all its checks, and the family's QTI text rides on the key
  (``AnswerKey.family``), never on the item;
- form build (:func:`draw_instance`): the instance of one form version, seeded from
  ``(form id, form version, item id, item version)``, read like an import; its item goes into
  the package and its key scores the form;
- export (:func:`family_to_qti`): the family's QTI text with its media paths rewritten, so a
  re-import yields the same family.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable

from lxml import etree

from exam_core.model import AnswerKey, Item, TemplateFamily
from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.items.qti.body import DROP_ELEMENTS
from item_bank_sync.items.qti.include import stimulus_body
from item_bank_sync.items.qti.reader import MediaLoader, ParsedItem, _ItemReader, prepare_item
from item_bank_sync.items.qti.templates import Draw, Family, TemplateUnsatisfiable, has_templates
from item_bank_sync.items.qti.xml import parse_xml, qti_attrs, qti_children, qti_name, qti_version

#: Media attributes whose ``src`` the family's media map records (and export rewrites).
MEDIA_ATTRS = ("src", "data")
#: Elements whose file a draw shows (``source``: other formats of a recording, never read).
_MEDIA_ELEMENTS = frozenset({"img", "object", "audio", "video", "track"})


def parse_item(data: bytes, source: str, load_media: MediaLoader, *, area: str | None = None,
               assume_match_correct: bool = False) -> ParsedItem:
    """Parse one item file, a plain item or a family (module docstring); raise ItemRejected."""
    root = parse_xml(data, source)  # parsed once: a plain item is read from this same tree
    templated = has_templates(root)
    version, warnings = prepare_item(root, source, load_media)
    if not templated:
        return _ItemReader(root, source, version, load_media, warnings).read(area, assume_match_correct)
    _keep_stimuli(root, source, load_media, warnings)
    family = Family(root, source)
    warnings.extend(_named_not_substituted(root, family))
    item_id = qti_attrs(root).get("identifier", "")
    recorded: dict[str, str] = {}
    instance, drawn = family.instance(Draw("preview", item_id, 0), f"item {item_id}")
    parsed = _ItemReader(instance, source, version, _recording(load_media, recorded), warnings).read(
        area, assume_match_correct)
    _rename_media(root, {src: f"media:{sha}" for src, sha in recorded.items()})
    _refuse_unread_media(root, source)
    key = dataclasses.replace(parsed.key, family=TemplateFamily(qti=etree.tostring(root, encoding="unicode"),
                                                                preview_seed=drawn.seed))
    warnings.append(f"templateProcessing: an item family; the bank shows one instance (seed {drawn.seed[:12]}), "
                    "each form draws its own when it is built")
    return dataclasses.replace(parsed, key=key)


def _keep_stimuli(root: etree._Element, source: str, load: MediaLoader, warnings: list[str]) -> None:
    """Each shared stimulus (``assessmentStimulusRef``) put into the family as a ``div.stimulus``
    before the body, read as the plain reader reads it (``stimulus_body``: media rebased, checked).

    Why in the family's text: the stimulus file is not kept in the bank, and a form build draws
    from the family's text alone; so the passage is kept where every draw (and export) has it,
    and the candidate sees it before the body as for a plain item. Its media are recorded with
    the body's (``media:SHA``)."""
    refs = [child for child in qti_children(root) if qti_name(child) == "assessmentStimulusRef"]
    bodies = [child for child in qti_children(root) if qti_name(child) == "itemBody"]
    if refs and len(bodies) != 1:
        raise ItemRejected(source, "itemBody", "is required once to hold the shared stimulus")
    for ref in reversed(refs):
        passage = stimulus_body(ref, load, source, warnings)
        where = f"assessmentStimulusRef[{qti_attrs(ref).get('identifier', '?')}]"
        if etree.QName(passage).namespace != etree.QName(root).namespace:
            raise ItemRejected(source, where, "the stimulus is in another QTI version's namespace than the item")
        holder = etree.Element(etree.QName(etree.QName(root).namespace, "div"), {"class": "stimulus"})
        holder.text = passage.text
        holder.extend(list(passage))
        bodies[0].insert(0, holder)
        holder.tail, bodies[0].text = bodies[0].text, None
        root.remove(ref)
        warnings.append(f"{where}: kept in the item family ahead of its body, so every form's draw shows it")


def _named_not_substituted(root: etree._Element, family: Family) -> list[str]:
    """MathML identifiers that spell a template variable QTI does not substitute (not a
    ``mathVariable``): kept as written, said in a warning, since the candidate sees the name."""
    out = []
    for el in root.iter():
        if isinstance(el.tag, str) and qti_name(el) in ("math:mi", "math:ci"):
            var = family.variables.get((el.text or "").strip())
            if var is not None and not var.math_variable:
                out.append(f"math/{qti_name(el)[5:]}[{var.identifier}]: spells template variable {var.identifier}, "
                           "which is not declared mathVariable=\"true\", so the candidate sees its name")
    return sorted(set(out))


def _refuse_unread_media(root: etree._Element, source: str) -> None:
    """Refuse a family with a file that its preview draw did not show (a picture inside a
    ``templateInline``/``templateBlock`` the preview hid): only the files the preview read are
    checked and kept in the bank, so a form whose draw shows that one could not be built."""
    for el in root.iter():
        if not isinstance(el.tag, str) or etree.QName(el).localname not in _MEDIA_ELEMENTS or any(
                qti_name(a) in DROP_ELEMENTS for a in el.iterancestors()):  # feedback: never shown, never read
            continue
        for attr in MEDIA_ATTRS:
            value = el.get(attr, "")
            if value and not value.startswith("media:") and value[:5].lower() != "data:":
                raise ItemRejected(source, f"{qti_name(el)}@{attr}", f"{value[:120]!r} is shown in some draws of "
                                   "the family only, which is not supported: show each file in every draw")


def _recording(load_media: MediaLoader, recorded: dict[str, str]) -> MediaLoader:
    def load(src: str, element: str) -> bytes:
        data = load_media(src, element)
        recorded[src] = hashlib.sha256(data).hexdigest()
        return data
    return load


def draw_instance(item: Item, key: AnswerKey, form_id: str, form_version: int,
                  media: Callable[[str], bytes]) -> tuple[Item, AnswerKey, str]:
    """The instance of a family for one form version: (item, key, seed as hex).

    ``media`` returns the bytes of a media file by SHA-256 (the bank's media store). The item
    keeps the bank item's identity (id, version, title, area); the key has no family.
    Raises ItemRejected (a TemplateUnsatisfiable when a templateConstraint cannot be met).
    """
    if key.family is None:
        return item, key, ""
    return _drawn(item, key, Draw(form_id, form_version, item.item_id, item.version),
                  f"form {form_id} v{form_version}", media)


def preview_instance(item: Item, key: AnswerKey, draw: int,
                     media: Callable[[str], bytes]) -> tuple[Item, AnswerKey, str]:
    """Another instance for staff to see a family's variety: draw 0 is the bank's own preview,
    draw N the family drawn with the seed ``("preview", item id, N)``."""
    if key.family is None or draw == 0:
        return item, key, key.family.preview_seed if key.family else ""
    return _drawn(item, key, Draw("preview", item.item_id, draw), f"preview draw {draw}", media)


def _drawn(item: Item, key: AnswerKey, draw: Draw, purpose: str,
           media: Callable[[str], bytes]) -> tuple[Item, AnswerKey, str]:
    family = key.family
    if family is None:
        raise ItemRejected(item.item_id, "key", "is not an item family")
    label = f"item {item.item_id} v{item.version}"
    source = f"{label} ({purpose})"

    def load(src: str, element: str) -> bytes:
        if not src.startswith("media:"):
            raise ItemRejected(source, element, f"media {src!r} is not among the family's stored media")
        return media(src.removeprefix("media:"))

    try:
        root = parse_xml(family.qti.encode("utf-8"), source)
        instance, drawn = Family(root, source).instance(draw, label)
        parsed = _ItemReader(instance, source, qti_version(root, source), load, []).read(item.competency_area, False)
    except TemplateUnsatisfiable:
        raise  # names the item already
    except ItemRejected as exc:  # a form build must say which item could not be drawn
        raise ItemRejected(source, f"{label} {exc.element}", exc.problem) from None
    out_item = dataclasses.replace(parsed.item, item_id=item.item_id, version=item.version, title=item.title,
                                   competency_area=item.competency_area)
    out_key = dataclasses.replace(parsed.key, item_id=key.item_id, version=key.version, family=None)
    return out_item, out_key, drawn.seed


def family_to_qti(key: AnswerKey, media_path: Callable[[str], str], source: str = "") -> bytes:
    """The family's QTI text as imported, its media references pointing where export writes them."""
    if key.family is None:
        raise ItemRejected(source, "key", "is not an item family")
    root = parse_xml(key.family.qti.encode("utf-8"), source)
    stored = {el.get(attr, "") for el in root.iter() if isinstance(el.tag, str) for attr in MEDIA_ATTRS}
    _rename_media(root, {src: media_path(src) for src in stored if src.startswith("media:")})
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _rename_media(root: etree._Element, names: dict[str, str]) -> None:
    """Point every media attribute named in ``names`` at its new name."""
    for el in root.iter():
        if isinstance(el.tag, str):
            for attr in MEDIA_ATTRS:
                new = names.get(el.get(attr, ""))
                if new is not None:
                    el.set(attr, new)
