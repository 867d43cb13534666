"""Read one QTI 2.1 / 2.2 / 3.0 ``assessmentItem`` into an ``exam_core.model.Item`` and its ``AnswerKey``.

The rule is *reject rather than guess*: an item is imported only when every interaction is
supported, declared with a cardinality and base type that fit it, every correct value and map
key is one of its options, and its scoring is one of QTI's standard response processing
templates (``match_correct``, ``map_response``, ``map_response_point``) or, for extended text,
human marking. Anything else raises :class:`ItemRejected` naming the element and the problem.

Standard templates score the response called ``RESPONSE`` (that is what their rules refer to),
so an item whose template-scored interaction uses another identifier is refused rather than
silently scored zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from lxml import etree

from exam_core.errors import ValidationError
from exam_core.model import (IDENTIFIER_RE, AnswerKey, AreaMapEntry, Choice, Hotspot, Interaction,
                             Item, MediaRef, ResponseKey)
from item_bank_sync.import_errors import ItemRejected
from item_bank_sync.media import media_ref
from item_bank_sync.qti_body import BodySanitizer
from item_bank_sync.qti_xml import parse_xml, qti_attrs, qti_children, qti_name, qti_version

TEMPLATES = ("match_correct", "map_response", "map_response_point")
TEMPLATE_PREFIXES = (
    "http://www.imsglobal.org/question/qti_v2p0/rptemplates/",
    "http://www.imsglobal.org/question/qti_v2p1/rptemplates/",
    "http://www.imsglobal.org/question/qti_v2p2/rptemplates/",
    "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/",
    "http://purl.imsglobal.org/spec/qti/v3p0/rptemplates/",
    "",
)
SUPPORTED_INTERACTIONS = {
    "choiceInteraction": "choice", "inlineChoiceInteraction": "inline_choice",
    "textEntryInteraction": "text_entry", "extendedTextInteraction": "extended_text",
    "orderInteraction": "order", "matchInteraction": "match", "associateInteraction": "associate",
    "gapMatchInteraction": "gap_match", "hottextInteraction": "hottext",
    "hotspotInteraction": "hotspot", "selectPointInteraction": "hotspot",
}
INLINE_INTERACTIONS = frozenset({"inlineChoiceInteraction", "textEntryInteraction"})
#: (cardinalities, base types) each interaction accepts.
FITS = {
    "choiceInteraction": ({"single", "multiple"}, {"identifier"}),
    "orderInteraction": ({"ordered"}, {"identifier"}),
    "inlineChoiceInteraction": ({"single"}, {"identifier"}),
    "textEntryInteraction": ({"single"}, {"string", "integer", "float"}),
    "extendedTextInteraction": ({"single"}, {"string"}),
    "matchInteraction": ({"single", "multiple"}, {"directedPair"}),
    "associateInteraction": ({"single", "multiple"}, {"pair"}),
    "gapMatchInteraction": ({"single", "multiple"}, {"directedPair"}),
    "hottextInteraction": ({"single", "multiple"}, {"identifier"}),
    "hotspotInteraction": ({"single", "multiple"}, {"identifier"}),
    "selectPointInteraction": ({"single", "multiple"}, {"point"}),
}

MediaLoader = Callable[[str, str], bytes]
"""Returns the bytes of a media file referenced as ``src`` by an element; raises ItemRejected."""


@dataclass
class ParsedItem:
    """An item read from a file, before the bank gives it a version."""

    item: Item
    key: AnswerKey
    source: str
    source_format: str
    media: dict[str, tuple[MediaRef, bytes]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Declaration:
    identifier: str
    cardinality: str
    base_type: str
    correct: list[str] | None
    mapping: list[tuple[str, float, bool]] | None
    map_default: float
    map_lower: float | None
    map_upper: float | None
    area_mapping: list[AreaMapEntry] | None


@dataclass
class _Found:
    element: str
    qti: str
    interaction: Interaction
    options: set[str]
    targets: set[str]


def parse_qti_item(data: bytes, source: str, load_media: MediaLoader, *, area: str | None = None,
                   assume_match_correct: bool = False) -> ParsedItem:
    """Parse and check one item file; raise :class:`ItemRejected` with a reason on any problem."""
    root = parse_xml(data, source)
    version = qti_version(root, source)
    if qti_name(root) != "assessmentItem":
        raise ItemRejected(source, qti_name(root), "is not an assessmentItem (only items are imported)")
    return _ItemReader(root, source, version, load_media).read(area, assume_match_correct)


class _ItemReader:
    def __init__(self, root: etree._Element, source: str, version: str, load_media: MediaLoader) -> None:
        self.root = root
        self.source = source
        self.version = version
        self.load_media = load_media
        self.warnings: list[str] = []
        self.media: dict[str, tuple[MediaRef, bytes]] = {}
        self.media_order: list[MediaRef] = []
        self.found: list[_Found] = []
        self.sanitizer = BodySanitizer(source, self._resolve_media, self.warnings)

    def reject(self, element: str, problem: str) -> ItemRejected:
        return ItemRejected(self.source, element, problem)

    # --- top level ---------------------------------------------------------------------------
    def read(self, area: str | None, assume_match_correct: bool) -> ParsedItem:
        attrs = qti_attrs(self.root)
        item_id = attrs.get("identifier", "")
        if not IDENTIFIER_RE.match(item_id):
            raise self.reject("assessmentItem", f"identifier {item_id!r} is missing or not a valid identifier")
        if attrs.get("adaptive", "false") == "true":
            raise self.reject("assessmentItem", "adaptive items are not supported")
        decls = self._declarations()
        body = self._only_child("itemBody", required=True)
        handlers = {name: self._interaction_handler(name) for name in SUPPORTED_INTERACTIONS}
        body_html = self.sanitizer.inner_html(body, "itemBody", handlers)
        if not self.found:
            raise self.reject("itemBody", "holds no supported interaction")
        keys = self._keys(decls, assume_match_correct)
        item_dict = Item(
            item_id=item_id, version=1, title=attrs.get("title", item_id)[:1000] or item_id,
            body_html=body_html, interactions=tuple(f.interaction for f in self.found),
            media=tuple(self.media_order), language=attrs.get("lang", "en") or "en",
            competency_area=area,
        ).to_dict()
        key_dict = AnswerKey(item_id=item_id, version=1, responses=tuple(keys)).to_dict()
        try:
            item = Item.from_dict(item_dict, "item")
            key = AnswerKey.from_dict(key_dict, "key")
        except ValidationError as exc:
            raise self.reject(exc.field, exc.reason) from None
        return ParsedItem(item, key, self.source, f"qti{self.version}", self.media, self.warnings)

    def _only_child(self, name: str, required: bool = False) -> etree._Element | None:
        matches = [c for c in qti_children(self.root) if qti_name(c) == name]
        if len(matches) > 1:
            raise self.reject(name, "appears more than once")
        if required and not matches:
            raise self.reject(name, "is missing")
        return matches[0] if matches else None

    def _resolve_media(self, src: str, element: str) -> MediaRef:
        data = self.load_media(src, element)
        ref = media_ref(data, src, self.source, element)
        if ref.sha256 not in self.media:
            self.media[ref.sha256] = (ref, data)
            self.media_order.append(ref)
        return self.media[ref.sha256][0]

    # --- declarations ------------------------------------------------------------------------
    def _declarations(self) -> dict[str, _Declaration]:
        decls: dict[str, _Declaration] = {}
        for el in qti_children(self.root):
            if qti_name(el) == "responseDeclaration":
                decl = self._declaration(el)
                if decl.identifier in decls:
                    raise self.reject(f"responseDeclaration[{decl.identifier}]", "is declared twice")
                decls[decl.identifier] = decl
        return decls

    def _declaration(self, el: etree._Element) -> _Declaration:
        attrs = qti_attrs(el)
        ident = attrs.get("identifier", "")
        where = f"responseDeclaration[{ident}]"
        if not IDENTIFIER_RE.match(ident):
            raise self.reject("responseDeclaration", f"identifier {ident!r} is not valid")
        cardinality, base = attrs.get("cardinality", ""), attrs.get("baseType", "")
        if cardinality not in ("single", "multiple", "ordered"):
            raise self.reject(where, f"cardinality {cardinality!r} is not supported (record is not)")
        correct = mapping = area = None
        lower = upper = None
        default = 0.0
        for child in qti_children(el):
            name = qti_name(child)
            if name == "correctResponse":
                correct = [(v.text or "") for v in qti_children(child) if qti_name(v) == "value"]
            elif name == "mapping":
                m = qti_attrs(child)
                default, lower, upper = (self._number(m.get("defaultValue", "0"), f"{where}/mapping@defaultValue"),
                                         self._opt_number(m.get("lowerBound"), f"{where}/mapping@lowerBound"),
                                         self._opt_number(m.get("upperBound"), f"{where}/mapping@upperBound"))
                mapping = []
                for entry in qti_children(child):
                    e = qti_attrs(entry)
                    if "mapKey" not in e or "mappedValue" not in e:
                        raise self.reject(f"{where}/mapping/mapEntry", "needs mapKey and mappedValue")
                    mapping.append((e["mapKey"], self._number(e["mappedValue"], f"{where}/mapEntry[{e['mapKey']}]"),
                                    e.get("caseSensitive", "true") == "true"))
            elif name == "areaMapping":
                m = qti_attrs(child)
                default, lower, upper = (self._number(m.get("defaultValue", "0"), f"{where}/areaMapping@defaultValue"),
                                         self._opt_number(m.get("lowerBound"), f"{where}/areaMapping@lowerBound"),
                                         self._opt_number(m.get("upperBound"), f"{where}/areaMapping@upperBound"))
                area = [self._area_entry(entry, where) for entry in qti_children(child)]
            elif name != "defaultValue":
                raise self.reject(f"{where}/{name}", "is not supported in a response declaration")
        if base not in ("identifier", "pair", "directedPair", "point", "string", "integer", "float"):
            raise self.reject(where, f"baseType {base!r} is not supported")
        return _Declaration(ident, cardinality, base, correct, mapping, default, lower, upper, area)

    def _area_entry(self, entry: etree._Element, where: str) -> AreaMapEntry:
        e = qti_attrs(entry)
        shape = e.get("shape", "")
        if shape not in ("rect", "circle", "ellipse", "poly", "default"):
            raise self.reject(f"{where}/areaMapEntry", f"shape {shape!r} is not a QTI shape")
        coords = self._coords(e.get("coords", ""), f"{where}/areaMapEntry")
        return AreaMapEntry(shape=shape, coords=coords,
                            value=self._number(e.get("mappedValue", ""), f"{where}/areaMapEntry@mappedValue"))

    def _number(self, text: str, where: str) -> float:
        try:
            value = float(text)
        except (TypeError, ValueError):
            raise self.reject(where, f"{text!r} is not a number") from None
        if not math.isfinite(value):
            raise self.reject(where, f"{text!r} is not a finite number")
        return value

    def _opt_number(self, text: str | None, where: str) -> float | None:
        return None if text is None else self._number(text, where)

    def _coords(self, text: str, where: str) -> tuple[float, ...]:
        parts = [p for p in text.replace(" ", "").split(",") if p]
        return tuple(self._number(p, f"{where}@coords") for p in parts)

    # --- interactions ------------------------------------------------------------------------
    def _interaction_handler(self, name: str) -> Callable[[etree._Element, str], etree._Element]:
        def handle(el: etree._Element, path: str) -> etree._Element:
            rid = qti_attrs(el).get("responseIdentifier", "")
            where = f"{name}[{rid}]"
            if not IDENTIFIER_RE.match(rid):
                raise self.reject(name, f"responseIdentifier {rid!r} is missing or not valid")
            if any(f.interaction.response_id == rid for f in self.found):
                raise self.reject(where, "another interaction already uses this responseIdentifier")
            found = getattr(self, f"_read_{name}")(el, rid, where)
            self.found.append(found)
            tag = "span" if name in INLINE_INTERACTIONS else "div"
            return etree.Element(tag, {"data-interaction": rid})
        return handle

    def _prompt(self, el: etree._Element, where: str) -> str:
        prompts = [c for c in qti_children(el) if qti_name(c) == "prompt"]
        if len(prompts) > 1:
            raise self.reject(f"{where}/prompt", "appears more than once")
        return self.sanitizer.inner_html(prompts[0], f"{where}/prompt") if prompts else ""

    def _choices(self, el: etree._Element, where: str, names: tuple[str, ...]) -> list[Choice]:
        out = []
        for child in qti_children(el):
            if qti_name(child) not in names:
                continue
            a = qti_attrs(child)
            cid = a.get("identifier", "")
            if not IDENTIFIER_RE.match(cid):
                raise self.reject(f"{where}/{qti_name(child)}", f"identifier {cid!r} is not valid")
            out.append(Choice(id=cid, html=self.sanitizer.inner_html(child, f"{where}/{qti_name(child)}[{cid}]"),
                              fixed=a.get("fixed", "false") == "true",
                              match_max=self._int(a.get("matchMax", "1"), f"{where}/{cid}@matchMax")))
        return out

    def _int(self, text: str | None, where: str, default: int | None = None) -> int:
        if text is None:
            if default is None:
                raise self.reject(where, "is required")
            return default
        try:
            value = int(text)
        except ValueError:
            raise self.reject(where, f"{text!r} is not an integer") from None
        if value < 0:
            raise self.reject(where, "must not be negative")
        return value

    def _flag(self, el: etree._Element, name: str) -> bool:
        return qti_attrs(el).get(name, "false") == "true"

    def _unexpected(self, el: etree._Element, where: str, allowed: set[str]) -> None:
        for child in qti_children(el):
            name = qti_name(child)
            if name not in allowed:
                raise self.reject(f"{where}/{name}", "is not supported inside this interaction")

    def _found(self, el_name: str, interaction: Interaction, where: str,
               options: list[Choice] | list[Hotspot], targets: list[Choice] | None = None) -> _Found:
        return _Found(where, el_name, interaction, {o.id for o in options}, {t.id for t in targets or []})

    def _listed(self, el: etree._Element, rid: str, where: str, qti: str, kind: str, child: str,
                card: str, base: str, limit: str, default_max: int | None = 1) -> _Found:
        """Choice, order and associate: a prompt, a list of options, min/max limits."""
        self._unexpected(el, where, {"prompt", child})
        choices = self._choices(el, where, (child,))
        a = qti_attrs(el)
        whole = len(choices) if default_max is None else None
        inter = Interaction(type=kind, response_id=rid, cardinality=card, base_type=base,
                            prompt_html=self._prompt(el, where), choices=tuple(choices),
                            shuffle=self._flag(el, "shuffle"),
                            min_choices=self._int(a.get(f"min{limit}"), f"{where}@min{limit}", whole or 0),
                            max_choices=self._int(a.get(f"max{limit}"), f"{where}@max{limit}", whole or default_max))
        return self._found(qti, inter, where, choices)

    def _read_choiceInteraction(self, el: etree._Element, rid: str, where: str) -> _Found:
        return self._listed(el, rid, where, "choiceInteraction", "choice", "simpleChoice",
                            "single", "identifier", "Choices")

    def _read_orderInteraction(self, el: etree._Element, rid: str, where: str) -> _Found:
        return self._listed(el, rid, where, "orderInteraction", "order", "simpleChoice",
                            "ordered", "identifier", "Choices", default_max=None)

    def _read_associateInteraction(self, el: etree._Element, rid: str, where: str) -> _Found:
        return self._listed(el, rid, where, "associateInteraction", "associate", "simpleAssociableChoice",
                            "multiple", "pair", "Associations")

    def _read_inlineChoiceInteraction(self, el: etree._Element, rid: str, where: str) -> _Found:
        self._unexpected(el, where, {"inlineChoice"})
        choices = self._choices(el, where, ("inlineChoice",))
        inter = Interaction(type="inline_choice", response_id=rid, cardinality="single",
                            base_type="identifier", choices=tuple(choices), shuffle=self._flag(el, "shuffle"),
                            min_choices=1 if self._flag(el, "required") else 0, max_choices=1)
        return self._found("inlineChoiceInteraction", inter, where, choices)

    def _read_textEntryInteraction(self, el: etree._Element, rid: str, where: str) -> _Found:
        self._unexpected(el, where, set())
        a = qti_attrs(el)
        inter = Interaction(type="text_entry", response_id=rid, cardinality="single", base_type="string",
                            expected_length=self._opt_positive(a.get("expectedLength"), f"{where}@expectedLength"),
                            pattern_mask=a.get("patternMask"))
        return self._found("textEntryInteraction", inter, where, [])

    def _read_extendedTextInteraction(self, el: etree._Element, rid: str, where: str) -> _Found:
        self._unexpected(el, where, {"prompt"})
        a = qti_attrs(el)
        if self._int(a.get("maxStrings"), f"{where}@maxStrings", 1) > 1:
            raise self.reject(where, "maxStrings above 1 (several answer boxes) is not supported")
        inter = Interaction(type="extended_text", response_id=rid, cardinality="single", base_type="string",
                            prompt_html=self._prompt(el, where),
                            expected_length=self._opt_positive(a.get("expectedLength"), f"{where}@expectedLength"),
                            expected_lines=self._opt_positive(a.get("expectedLines"), f"{where}@expectedLines"),
                            pattern_mask=a.get("patternMask"))
        return self._found("extendedTextInteraction", inter, where, [])

    def _opt_positive(self, text: str | None, where: str) -> int | None:
        if text is None:
            return None
        value = self._int(text, where)
        return value or None

    def _read_matchInteraction(self, el: etree._Element, rid: str, where: str) -> _Found:
        self._unexpected(el, where, {"prompt", "simpleMatchSet"})
        sets = [c for c in qti_children(el) if qti_name(c) == "simpleMatchSet"]
        if len(sets) != 2:
            raise self.reject(where, f"needs exactly two simpleMatchSet elements, found {len(sets)}")
        sources = self._choices(sets[0], f"{where}/simpleMatchSet[1]", ("simpleAssociableChoice",))
        targets = self._choices(sets[1], f"{where}/simpleMatchSet[2]", ("simpleAssociableChoice",))
        a = qti_attrs(el)
        inter = Interaction(type="match", response_id=rid, cardinality="multiple", base_type="directedPair",
                            prompt_html=self._prompt(el, where), choices=tuple(sources), targets=tuple(targets),
                            shuffle=self._flag(el, "shuffle"),
                            min_choices=self._int(a.get("minAssociations"), f"{where}@minAssociations", 0),
                            max_choices=self._int(a.get("maxAssociations"), f"{where}@maxAssociations", 1))
        return self._found("matchInteraction", inter, where, sources, targets)

    def _read_gapMatchInteraction(self, el: etree._Element, rid: str, where: str) -> _Found:
        for child in qti_children(el):
            if qti_name(child) == "gapImg":
                raise self.reject(f"{where}/gapImg", "image gaps are not supported (use gapText)")
        choices = self._choices(el, where, ("gapText",))
        gaps: list[Choice] = []

        def gap(node: etree._Element, path: str) -> etree._Element:
            gid = qti_attrs(node).get("identifier", "")
            if not IDENTIFIER_RE.match(gid):
                raise self.reject(path, f"identifier {gid!r} is not valid")
            gaps.append(Choice(id=gid))
            return etree.Element("span", {"data-gap": gid})

        content = self.sanitizer.inner_html(el, where, {"gap": gap}, skip=frozenset({"prompt", "gapText"}))
        if not gaps:
            raise self.reject(where, "has no gap")
        inter = Interaction(type="gap_match", response_id=rid, cardinality="multiple", base_type="directedPair",
                            prompt_html=self._prompt(el, where), content_html=content, choices=tuple(choices),
                            targets=tuple(gaps), shuffle=self._flag(el, "shuffle"),
                            min_choices=0, max_choices=len(gaps))
        return self._found("gapMatchInteraction", inter, where, choices, gaps)

    def _read_hottextInteraction(self, el: etree._Element, rid: str, where: str) -> _Found:
        hottexts: list[Choice] = []

        def hottext(node: etree._Element, path: str) -> etree._Element:
            hid = qti_attrs(node).get("identifier", "")
            if not IDENTIFIER_RE.match(hid):
                raise self.reject(path, f"identifier {hid!r} is not valid")
            html = self.sanitizer.inner_html(node, f"{path}[{hid}]")
            hottexts.append(Choice(id=hid, html=html))
            span = etree.fromstring(f'<span data-hottext="{hid}">{html}</span>')
            return span

        content = self.sanitizer.inner_html(el, where, {"hottext": hottext}, skip=frozenset({"prompt"}))
        if not hottexts:
            raise self.reject(where, "has no hottext")
        a = qti_attrs(el)
        inter = Interaction(type="hottext", response_id=rid, cardinality="single", base_type="identifier",
                            prompt_html=self._prompt(el, where), content_html=content, choices=tuple(hottexts),
                            min_choices=self._int(a.get("minChoices"), f"{where}@minChoices", 0),
                            max_choices=self._int(a.get("maxChoices"), f"{where}@maxChoices", 1))
        return self._found("hottextInteraction", inter, where, hottexts)

    def _graphic_image(self, el: etree._Element, where: str) -> MediaRef:
        images = [c for c in qti_children(el) if qti_name(c) in ("object", "img")]
        if len(images) != 1:
            raise self.reject(where, "needs exactly one image (object or img)")
        a = qti_attrs(images[0])
        src = a.get("data") if qti_name(images[0]) == "object" else a.get("src")
        mime = a.get("type", "image/")
        if not src or not mime.startswith("image/"):
            raise self.reject(f"{where}/{qti_name(images[0])}", "must reference an image file")
        ref = self._resolve_media(src, f"{where}/{qti_name(images[0])}")
        width = self._opt_positive(a.get("width"), f"{where}/object@width") or ref.width
        height = self._opt_positive(a.get("height"), f"{where}/object@height") or ref.height
        return MediaRef(sha256=ref.sha256, mime=ref.mime, name=ref.name, width=width, height=height)

    def _read_hotspotInteraction(self, el: etree._Element, rid: str, where: str) -> _Found:
        self._unexpected(el, where, {"prompt", "object", "img", "hotspotChoice"})
        image = self._graphic_image(el, where)
        spots = []
        for child in qti_children(el):
            if qti_name(child) != "hotspotChoice":
                continue
            a = qti_attrs(child)
            hid = a.get("identifier", "")
            if not IDENTIFIER_RE.match(hid):
                raise self.reject(f"{where}/hotspotChoice", f"identifier {hid!r} is not valid")
            shape = a.get("shape", "")
            if shape not in ("rect", "circle", "ellipse", "poly", "default"):
                raise self.reject(f"{where}/hotspotChoice[{hid}]", f"shape {shape!r} is not a QTI shape")
            spots.append(Hotspot(id=hid, shape=shape, coords=self._coords(a.get("coords", ""), f"{where}/hotspotChoice[{hid}]"),
                                 label=a.get("hotspotLabel", "")[:1000]))
        a = qti_attrs(el)
        inter = Interaction(type="hotspot", response_id=rid, cardinality="single", base_type="identifier",
                            prompt_html=self._prompt(el, where), hotspots=tuple(spots), image=image,
                            min_choices=self._int(a.get("minChoices"), f"{where}@minChoices", 0),
                            max_choices=self._int(a.get("maxChoices"), f"{where}@maxChoices", 1))
        return self._found("hotspotInteraction", inter, where, spots)

    def _read_selectPointInteraction(self, el: etree._Element, rid: str, where: str) -> _Found:
        self._unexpected(el, where, {"prompt", "object", "img"})
        a = qti_attrs(el)
        inter = Interaction(type="hotspot", response_id=rid, cardinality="single", base_type="point",
                            prompt_html=self._prompt(el, where), image=self._graphic_image(el, where),
                            min_choices=self._int(a.get("minChoices"), f"{where}@minChoices", 0),
                            max_choices=self._int(a.get("maxChoices"), f"{where}@maxChoices", 1))
        return self._found("selectPointInteraction", inter, where, [])

    # --- scoring -----------------------------------------------------------------------------
    def _template(self) -> str | None:
        rp = self._only_child("responseProcessing")
        if rp is None:
            return None
        a = qti_attrs(rp)
        if list(qti_children(rp)):
            raise self.reject("responseProcessing", "custom response processing rules are not supported; "
                                                    "use a standard template (match_correct, map_response, map_response_point)")
        uri = a.get("template") or a.get("templateLocation") or ""
        for prefix in TEMPLATE_PREFIXES:
            if uri.startswith(prefix):
                name = uri[len(prefix):].removesuffix(".xml")
                if name in TEMPLATES:
                    return name
        raise self.reject("responseProcessing", f"template {uri!r} is not a standard template "
                                                "(match_correct, map_response, map_response_point)")

    def _keys(self, decls: dict[str, _Declaration], assume_match_correct: bool) -> list[ResponseKey]:
        template = self._template()
        keys = []
        for found in self.found:
            inter = found.interaction
            decl = decls.get(inter.response_id)
            if decl is None:
                raise self.reject(found.element, f"responseIdentifier {inter.response_id!r} is not declared")
            found.interaction = self._fit(found, decl)
            keys.append(self._key(found, decl, template, assume_match_correct))
        return keys

    def _fit(self, found: _Found, decl: _Declaration) -> Interaction:
        """Check the declaration fits the interaction; return the interaction with its real shape."""
        cards, bases = FITS[found.qti]
        where = found.element
        if decl.cardinality not in cards:
            raise self.reject(where, f"cardinality {decl.cardinality!r} of {decl.identifier} does not fit "
                                     f"(expected {' or '.join(sorted(cards))})")
        if decl.base_type not in bases:
            raise self.reject(where, f"baseType {decl.base_type!r} of {decl.identifier} does not fit "
                                     f"(expected {' or '.join(sorted(bases))})")
        inter = found.interaction
        if decl.cardinality == "single" and inter.max_choices != 1 and found.qti not in (
                "textEntryInteraction", "extendedTextInteraction", "orderInteraction", "gapMatchInteraction"):
            raise self.reject(where, f"cardinality single does not fit maxChoices/maxAssociations={inter.max_choices}")
        if decl.cardinality == "single" and found.qti == "gapMatchInteraction" and len(inter.targets) != 1:
            raise self.reject(where, "cardinality single does not fit a gap match with several gaps")
        changes: dict[str, Any] = {"cardinality": decl.cardinality, "base_type": decl.base_type}
        return Interaction(**{**{f: getattr(inter, f) for f in inter.__dataclass_fields__}, **changes})

    def _key(self, found: _Found, decl: _Declaration, template: str | None,
             assume_match_correct: bool) -> ResponseKey:
        inter = found.interaction
        correct = self._values(found, decl, decl.correct, "correctResponse") if decl.correct else None
        if decl.correct is not None and not decl.correct:
            raise self.reject(f"responseDeclaration[{decl.identifier}]/correctResponse", "holds no value")
        base = {"response_id": inter.response_id, "cardinality": decl.cardinality, "base_type": decl.base_type}
        if inter.type == "extended_text":
            if template is not None:
                self.warnings.append(f"{found.element}: extended text is marked by people; template {template} ignored")
            return ResponseKey(**base, template="human", max_score=self._human_max())
        if template is None:
            return self._no_template(found, decl, correct, base, assume_match_correct)
        if inter.response_id != "RESPONSE":
            raise self.reject(found.element, f"template {template} scores the response RESPONSE, "
                                             f"but this interaction uses {inter.response_id!r}, which would never be scored")
        if template == "match_correct":
            if correct is None:
                raise self.reject(f"responseDeclaration[{decl.identifier}]", "template match_correct needs a correctResponse")
            return ResponseKey(**base, template="match_correct", correct=correct, max_score=1.0)
        if template == "map_response":
            return self._map_response(found, decl, correct, base)
        return self._map_point(found, decl, correct, base)

    def _no_template(self, found: _Found, decl: _Declaration, correct: Any, base: dict,
                     assume_match_correct: bool) -> ResponseKey:
        where = f"responseDeclaration[{decl.identifier}]"
        if correct is None:
            raise self.reject("responseProcessing", f"is missing and {where} has no correctResponse: "
                                                    "the item cannot be scored (unscored survey items are not supported)")
        if not assume_match_correct:
            raise self.reject("responseProcessing", f"is missing, so nothing scores {decl.identifier}; add the "
                                                    "match_correct template or import with --assume-match-correct")
        self.warnings.append(f"responseProcessing: missing; {decl.identifier} scored with match_correct "
                             "from its correctResponse (--assume-match-correct)")
        return ResponseKey(**base, template="match_correct", correct=correct, max_score=1.0)

    def _map_response(self, found: _Found, decl: _Declaration, correct: Any, base: dict) -> ResponseKey:
        where = f"responseDeclaration[{decl.identifier}]/mapping"
        if decl.mapping is None:
            raise self.reject(f"responseDeclaration[{decl.identifier}]", "template map_response needs a mapping")
        if decl.base_type == "point":
            raise self.reject(where, "a point response is scored with areaMapping and map_response_point")
        sensitivity = {cs for _, _, cs in decl.mapping}
        if len(sensitivity) > 1:
            raise self.reject(where, "mapEntry caseSensitive differs between entries; this is not supported")
        case_sensitive = sensitivity.pop() if sensitivity else True
        mapping: dict[str, float] = {}
        for key, value, _ in decl.mapping:
            parsed = self._values(found, decl, [key], f"mapping/mapEntry[{key}]", single=True)
            norm = _map_key(key, parsed, decl.base_type, case_sensitive)
            if norm in mapping:
                raise self.reject(f"{where}/mapEntry[{key}]", "maps the same response twice")
            mapping[norm] = value
        best = _best_total(list(mapping.values()), decl.map_default, decl.cardinality, found.interaction.max_choices)
        max_score = _clamp(best, decl.map_lower, decl.map_upper)
        if max_score <= 0:
            raise self.reject(where, "no response can score above zero")
        return ResponseKey(**base, template="map_response", correct=correct, mapping=mapping,
                           default_value=decl.map_default, lower_bound=decl.map_lower, upper_bound=decl.map_upper,
                           case_sensitive=case_sensitive if decl.base_type == "string" else True,
                           max_score=max_score)

    def _map_point(self, found: _Found, decl: _Declaration, correct: Any, base: dict) -> ResponseKey:
        if decl.base_type != "point" or decl.area_mapping is None:
            raise self.reject(f"responseDeclaration[{decl.identifier}]",
                              "template map_response_point needs a point response with an areaMapping")
        best = _best_total([e.value for e in decl.area_mapping], decl.map_default, decl.cardinality,
                           found.interaction.max_choices)
        max_score = _clamp(best, decl.map_lower, decl.map_upper)
        if max_score <= 0:
            raise self.reject(f"responseDeclaration[{decl.identifier}]/areaMapping", "no point can score above zero")
        return ResponseKey(**base, template="map_response_point", correct=correct,
                           area_mapping=tuple(decl.area_mapping), default_value=decl.map_default,
                           lower_bound=decl.map_lower, upper_bound=decl.map_upper, max_score=max_score)

    def _human_max(self) -> float:
        for el in qti_children(self.root):
            if qti_name(el) == "outcomeDeclaration" and qti_attrs(el).get("identifier") == "SCORE":
                maximum = qti_attrs(el).get("normalMaximum")
                if maximum is not None:
                    return self._number(maximum, "outcomeDeclaration[SCORE]@normalMaximum")
        return 1.0

    # --- values ------------------------------------------------------------------------------
    def _values(self, found: _Found, decl: _Declaration, texts: list[str], what: str,
                single: bool = False) -> Any:
        where = f"responseDeclaration[{decl.identifier}]/{what}"
        values = [self._value(found, decl.base_type, t, where) for t in texts]
        if single or decl.cardinality == "single":
            if len(values) != 1:
                raise self.reject(where, f"cardinality single needs one value, found {len(values)}")
            return values[0]
        seen = [repr(sorted(v) if decl.base_type == "pair" else v) for v in values]
        if len(set(seen)) != len(seen):
            raise self.reject(where, "repeats a value")
        limit = found.interaction.max_choices
        if limit and len(values) > limit and found.qti not in ("orderInteraction",):
            raise self.reject(where, f"has {len(values)} values but at most {limit} can be given")
        return values

    def _value(self, found: _Found, base: str, text: str, where: str) -> Any:
        text_s = text.strip()
        if base == "identifier":
            if text_s not in found.options:
                raise self.reject(where, f"{text_s!r} is not one of the options of {found.element}")
            return text_s
        if base in ("pair", "directedPair"):
            parts = text_s.split()
            if len(parts) != 2:
                raise self.reject(where, f"{text_s!r} is not a pair of two identifiers")
            first, second = parts
            if base == "directedPair":
                if first not in found.options or second not in found.targets:
                    raise self.reject(where, f"{text_s!r} does not pair an option with a target of {found.element}")
            elif first not in found.options or second not in found.options or first == second:
                raise self.reject(where, f"{text_s!r} does not pair two different options of {found.element}")
            return [first, second]
        if base == "point":
            parts = text_s.split()
            if len(parts) != 2:
                raise self.reject(where, f"{text_s!r} is not a point 'x y'")
            return [self._number(p, where) for p in parts]
        if base == "integer":
            try:
                return int(text_s)
            except ValueError:
                raise self.reject(where, f"{text_s!r} is not an integer") from None
        if base == "float":
            return float(self._number(text_s, where))
        return text


def _map_key(text: str, parsed: Any, base: str, case_sensitive: bool) -> str:
    """One spelling per mapped response: pairs "A B", numbers in canonical decimal, folded case."""
    if base in ("pair", "directedPair"):
        return " ".join(parsed)
    if base in ("integer", "float"):
        return str(parsed)
    if base == "string" and not case_sensitive:
        return text.casefold()
    return parsed if base == "identifier" else text


def _best_total(values: list[float], default: float, cardinality: str, max_choices: int) -> float:
    """The highest raw sum a response can reach under a mapping (before bounds)."""
    if cardinality == "single":
        return max(values + [default]) if values else default
    positive = sorted((v for v in values if v > 0), reverse=True)
    if max_choices:
        positive = positive[:max_choices]
    return float(sum(positive))


def _clamp(value: float, lower: float | None, upper: float | None) -> float:
    if upper is not None:
        value = min(value, upper)
    if lower is not None:
        value = max(value, lower)
    return float(value)
