"""Write items as QTI 3.0 (``imsqtiasi_v3p0``, kebab-case ``qti-*`` elements).

Used twice: ``export`` writes a form's items into an IMS content package, and the native YAML
format is turned into QTI 3.0 by this writer and then read back by the QTI importer, so both
formats pass the very same checks. The writer is the exact inverse of the importer for
everything the model holds: ``import(export(item)) == item``.

Scoring is written as a standard response processing template when one template scores the one
response called ``RESPONSE`` with its standard weight. Anything else the model holds (several
scored responses, other identifiers, a weighted match_correct) is written as inline rules that
add each response's template score to ``SCORE``, the form
:mod:`~item_bank_sync.items.qti.processing` recognises. A rubric for scorers (``AnswerKey.rubric_html``)
is written as a ``qti-rubric-block view="scorer"`` at the end of the body.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

from lxml import etree

from exam_core.model import AnswerKey, Interaction, Item, MediaPlayer, ResponseKey, Tolerance
from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.items.qti.xml import MATHML_NS, QTI3_NS

QTI3_SCHEMA = "https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqti_asiv3p0_v1p0.xsd"
TEMPLATE_URI = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/{}.xml"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

ELEMENT = {
    "choice": "qti-choice-interaction", "inline_choice": "qti-inline-choice-interaction",
    "text_entry": "qti-text-entry-interaction", "extended_text": "qti-extended-text-interaction",
    "order": "qti-order-interaction", "match": "qti-match-interaction",
    "associate": "qti-associate-interaction", "gap_match": "qti-gap-match-interaction",
    "hottext": "qti-hottext-interaction", "hotspot": "qti-hotspot-interaction",
    "slider": "qti-slider-interaction", "graphic_order": "qti-graphic-order-interaction",
    "graphic_associate": "qti-graphic-associate-interaction",
    "graphic_gap_match": "qti-graphic-gap-match-interaction", "media": "qti-media-interaction",
    "drawing": "qti-drawing-interaction",
}

#: Maps a ``media:SHA256`` src (or any other src) to the path written into the QTI file.
MediaPath = Callable[[str], str]


def _q(name: str) -> str:
    return f"{{{QTI3_NS}}}{name}"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def item_to_qti(item: Item, key: AnswerKey, media_path: MediaPath, source: str = "") -> bytes:
    """The QTI 3.0 XML bytes of one item with its scoring."""
    root = etree.Element(_q("qti-assessment-item"), nsmap={None: QTI3_NS, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{QTI3_NS} {QTI3_SCHEMA}")
    root.set("identifier", item.item_id)
    root.set("title", item.title)
    root.set("adaptive", "false")
    root.set("time-dependent", "false")
    root.set(XML_LANG, item.language)
    keys = {k.response_id: k for k in key.responses}
    for inter in item.interactions:
        if inter.response_id not in keys:
            raise ItemRejected(source, f"interactions[{inter.response_id}]", "has no scoring (answer key)")
        root.append(_declaration(keys[inter.response_id]))
    outcome = etree.SubElement(root, _q("qti-outcome-declaration"), identifier="SCORE",
                               cardinality="single")
    outcome.set("base-type", "float")
    human = [k for k in key.responses if k.template == "human"]
    if human:
        outcome.set("normal-maximum", _num(sum(k.max_score for k in human)))
    body = etree.SubElement(root, _q("qti-item-body"))
    writer = _BodyWriter(item, media_path, source)
    writer.fill(body, item.body_html, "body")
    missing = {i.response_id for i in item.interactions} - writer.placed
    if missing:
        for inter in item.interactions:  # interactions without a placeholder go after the body
            if inter.response_id in missing:
                body.append(writer.interaction(inter))
    if key.rubric_html:
        rubric = etree.SubElement(body, _q("qti-rubric-block"), view="scorer")
        writer.fill(etree.SubElement(rubric, _q("qti-content-body")), key.rubric_html, "rubric")
    _processing(root, key)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=False)


def _processing(root: etree._Element, key: AnswerKey) -> None:
    """A template when it says exactly what the key says, else inline per-response sums."""
    scored = [k for k in key.responses if k.template not in ("human", "unscored")]
    if not scored:
        return
    only = scored[0]
    if len(scored) == 1 and only.response_id == "RESPONSE" and (only.template != "match_correct"
                                                                 or (only.max_score == 1.0
                                                                     and only.tolerance is None)):
        etree.SubElement(root, _q("qti-response-processing"), template=TEMPLATE_URI.format(only.template))
        return
    rp = etree.SubElement(root, _q("qti-response-processing"))
    for k in scored:
        condition = etree.SubElement(etree.SubElement(rp, _q("qti-response-condition")), _q("qti-response-if"))
        if k.template == "match_correct":
            test = etree.SubElement(condition, _q("qti-match" if k.tolerance is None else "qti-equal"))
            operands = [(_q("qti-variable"), k.response_id), (_q("qti-correct"), k.response_id)]
            if k.tolerance is not None:
                _tolerance(test, k.tolerance)
                if k.tolerance.around == "correct":
                    operands.reverse()
            for name, ident in operands:
                etree.SubElement(test, name, identifier=ident)
            addend = etree.Element(_q("qti-base-value"))
            addend.set("base-type", "float")
            addend.text = _num(k.max_score)
        else:
            test = etree.SubElement(etree.SubElement(condition, _q("qti-not")), _q("qti-is-null"))
            etree.SubElement(test, _q("qti-variable"), identifier=k.response_id)
            name = "qti-map-response" if k.template == "map_response" else "qti-map-response-point"
            addend = etree.Element(_q(name), identifier=k.response_id)
        total = etree.SubElement(etree.SubElement(condition, _q("qti-set-outcome-value"), identifier="SCORE"),
                                 _q("qti-sum"))
        etree.SubElement(total, _q("qti-variable"), identifier="SCORE")
        total.append(addend)


def _tolerance(equal: etree._Element, tolerance: Tolerance) -> None:
    """QTI ``equal``'s tolerance attributes, so the key re-imports equal."""
    equal.set("tolerance-mode", tolerance.mode)
    equal.set("tolerance", f"{_num(tolerance.low)} {_num(tolerance.high)}")
    for attr, included in (("include-lower-bound", tolerance.include_lower),
                           ("include-upper-bound", tolerance.include_upper)):
        if not included:
            equal.set(attr, "false")


def _declaration(key: ResponseKey) -> etree._Element:
    decl = etree.Element(_q("qti-response-declaration"), identifier=key.response_id,
                         cardinality=key.cardinality)
    decl.set("base-type", key.base_type)
    if key.correct is not None:
        correct = etree.SubElement(decl, _q("qti-correct-response"))
        values = [key.correct] if key.cardinality == "single" else key.correct
        for value in values:
            etree.SubElement(correct, _q("qti-value")).text = _value_text(value)
    if key.template == "map_response":
        mapping = etree.SubElement(decl, _q("qti-mapping"))
        _bounds(mapping, key)
        for map_key, value in key.mapping.items():
            entry = etree.SubElement(mapping, _q("qti-map-entry"))
            entry.set("map-key", map_key)
            entry.set("mapped-value", _num(value))
            if key.base_type == "string":
                entry.set("case-sensitive", "true" if key.case_sensitive else "false")
    elif key.template == "map_response_point":
        mapping = etree.SubElement(decl, _q("qti-area-mapping"))
        _bounds(mapping, key)
        for area in key.area_mapping:
            entry = etree.SubElement(mapping, _q("qti-area-map-entry"), shape=area.shape,
                                     coords=",".join(_num(c) for c in area.coords))
            entry.set("mapped-value", _num(area.value))
    return decl


def _bounds(mapping: etree._Element, key: ResponseKey) -> None:
    mapping.set("default-value", _num(key.default_value))
    if key.lower_bound is not None:
        mapping.set("lower-bound", _num(key.lower_bound))
    if key.upper_bound is not None:
        mapping.set("upper-bound", _num(key.upper_bound))


def _value_text(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(_value_text(v) for v in value)
    if isinstance(value, float):
        return _num(value)
    return str(value)


class _BodyWriter:
    """Rebuilds model HTML as QTI 3.0 content, turning placeholders back into QTI elements."""

    def __init__(self, item: Item, media_path: MediaPath, source: str) -> None:
        self.item = item
        self.media_path = media_path
        self.source = source
        self.placed: set[str] = set()

    def fill(self, parent: etree._Element, html: str, where: str) -> None:
        try:
            fragment = etree.fromstring(f"<fragment>{html}</fragment>",
                                        etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
        except etree.XMLSyntaxError as exc:
            raise ItemRejected(self.source, where, f"is not well-formed XHTML: {exc.msg}") from None
        parent.text = fragment.text
        for child in fragment:
            parent.append(self._convert(child, where, in_math=False))

    def _convert(self, el: etree._Element, where: str, in_math: bool) -> etree._Element:
        if not isinstance(el.tag, str):
            return el
        attrs = dict(el.attrib)
        if "data-interaction" in attrs:
            out = self.interaction(self._interaction(attrs["data-interaction"], where))
        elif "data-hottext" in attrs:
            out = etree.Element(_q("qti-hottext"), identifier=attrs["data-hottext"])
            self._children(el, out, where, in_math)
        elif "data-gap" in attrs:
            out = etree.Element(_q("qti-gap"), identifier=attrs["data-gap"])
        elif "data-player" in attrs:
            out = self.body_player(attrs["data-player"], where)
        else:
            tag = etree.QName(el).localname
            math = in_math or tag == "math"
            out = etree.Element(f"{{{MATHML_NS}}}{tag}" if math else _q(tag))
            for name, value in attrs.items():
                if tag == "img" and name == "src":
                    value = self.media_path(value)
                out.set(name, value)
            self._children(el, out, where, math)
        out.tail = el.tail
        return out

    def _children(self, el: etree._Element, out: etree._Element, where: str, in_math: bool) -> None:
        out.text = el.text
        for child in el:
            out.append(self._convert(child, where, in_math))

    def _interaction(self, response_id: str, where: str) -> Interaction:
        for inter in self.item.interactions:
            if inter.response_id == response_id:
                return inter
        raise ItemRejected(self.source, where, f"places interaction {response_id!r}, which the item does not have")

    def interaction(self, inter: Interaction) -> etree._Element:
        if inter.response_id in self.placed:
            raise ItemRejected(self.source, "body", f"places interaction {inter.response_id!r} twice")
        self.placed.add(inter.response_id)
        name = "qti-select-point-interaction" if inter.base_type == "point" else ELEMENT[inter.type]
        el = etree.Element(_q(name))
        el.set("response-identifier", inter.response_id)
        getattr(self, f"_attrs_{inter.type}")(el, inter)
        if inter.prompt_html and inter.type not in ("inline_choice", "text_entry"):
            prompt = etree.SubElement(el, _q("qti-prompt"))
            self.fill(prompt, inter.prompt_html, f"{inter.response_id}.prompt")
        getattr(self, f"_content_{inter.type}", lambda e, i: None)(el, inter)
        return el

    # attributes per interaction type
    def _limits(self, el: etree._Element, inter: Interaction, prefix: str = "choices") -> None:
        el.set(f"min-{prefix}", str(inter.min_choices))
        el.set(f"max-{prefix}", str(inter.max_choices))

    def _shuffle(self, el: etree._Element, inter: Interaction) -> None:
        el.set("shuffle", "true" if inter.shuffle else "false")

    def _attrs_choice(self, el: etree._Element, inter: Interaction) -> None:
        self._shuffle(el, inter)
        self._limits(el, inter)

    _attrs_order = _attrs_choice

    def _attrs_inline_choice(self, el: etree._Element, inter: Interaction) -> None:
        self._shuffle(el, inter)
        if inter.min_choices:
            el.set("required", "true")

    def _attrs_text_entry(self, el: etree._Element, inter: Interaction) -> None:
        self._text_attrs(el, inter)

    def _attrs_extended_text(self, el: etree._Element, inter: Interaction) -> None:
        self._text_attrs(el, inter)
        if inter.expected_lines is not None:
            el.set("expected-lines", str(inter.expected_lines))

    def _text_attrs(self, el: etree._Element, inter: Interaction) -> None:
        if inter.expected_length is not None:
            el.set("expected-length", str(inter.expected_length))
        if inter.pattern_mask is not None:
            el.set("pattern-mask", inter.pattern_mask)

    def _attrs_match(self, el: etree._Element, inter: Interaction) -> None:
        self._shuffle(el, inter)
        self._limits(el, inter, "associations")

    _attrs_associate = _attrs_match

    def _attrs_gap_match(self, el: etree._Element, inter: Interaction) -> None:
        self._shuffle(el, inter)

    def _attrs_drawing(self, el: etree._Element, inter: Interaction) -> None:
        """A drawing has no attributes of its own: its canvas is its object."""

    def _content_drawing(self, el: etree._Element, inter: Interaction) -> None:
        self._graphic_object(el, inter)

    def _attrs_media(self, el: etree._Element, inter: Interaction) -> None:
        player = self._player(inter)
        el.set("autostart", "true" if player.autostart else "false")
        el.set("min-plays", str(player.min_plays))
        el.set("max-plays", str(player.max_plays))
        if player.loop:
            el.set("loop", "true")

    def _player(self, inter: Interaction) -> MediaPlayer:
        if inter.player is None:
            raise ItemRejected(self.source, f"interactions[{inter.response_id}]", "a media interaction needs its media")
        return inter.player

    def _content_media(self, el: etree._Element, inter: Interaction) -> None:
        """An ``object``; a recording with captions is an HTML5 ``audio``/``video`` with its ``track``s
        (an object cannot carry them), so items without captions export as before."""
        player = self._player(inter)
        el.append(self._recording(player, html5=bool(player.tracks)))

    def body_player(self, number: str, where: str) -> etree._Element:
        """A recording outside an interaction (``data-player="N"``): HTML5 ``audio``/``video`` in
        place, with its tracks, ``loop`` and ``autoplay`` as the item had them."""
        index = int(number) - 1 if number.isdigit() else -1
        if not 0 <= index < len(self.item.players):
            raise ItemRejected(self.source, where, f"places player {number!r}, which the item does not have")
        player = self.item.players[index]
        out = self._recording(player, html5=True)
        for name, on in (("loop", player.loop), ("autoplay", player.autostart)):
            if on:
                out.set(name, name)
        return out

    def _recording(self, player: MediaPlayer, html5: bool) -> etree._Element:
        """The recording's element: a QTI 2 style ``object``, or HTML5 ``audio``/``video`` with ``track``s."""
        media, src = player.media, self.media_path(f"media:{player.media.sha256}")
        if html5:
            obj = etree.Element(_q(media.mime.split("/")[0]), src=src)
        else:
            obj = etree.Element(_q("object"), type=media.mime, data=src)
        for dim in ("width", "height"):
            if getattr(media, dim):
                obj.set(dim, str(getattr(media, dim)))
        obj.text = media.alt or None
        for track in player.tracks:
            out = etree.SubElement(obj, _q("track"), kind=track.kind,
                                   src=self.media_path(f"media:{track.media.sha256}"))
            for name in ("srclang", "label"):
                if getattr(track, name):
                    out.set(name, getattr(track, name))
            if track.default:
                out.set("default", "default")
        return obj

    def _attrs_graphic_associate(self, el: etree._Element, inter: Interaction) -> None:
        self._limits(el, inter, "associations")

    def _attrs_graphic_gap_match(self, el: etree._Element, inter: Interaction) -> None:
        self._shuffle(el, inter)
        self._limits(el, inter, "associations")

    def _attrs_hottext(self, el: etree._Element, inter: Interaction) -> None:
        self._limits(el, inter)

    _attrs_hotspot = _attrs_hottext
    _attrs_graphic_order = _attrs_hottext

    def _attrs_slider(self, el: etree._Element, inter: Interaction) -> None:
        slider = inter.slider
        if slider is None:
            raise ItemRejected(self.source, f"interactions[{inter.response_id}]", "a slider needs its range")
        el.set("lower-bound", _num(slider.lower))
        el.set("upper-bound", _num(slider.upper))
        if slider.step is not None:
            el.set("step", _num(slider.step))
        if slider.step_label:
            el.set("step-label", "true")
        if slider.orientation != "horizontal":
            el.set("orientation", slider.orientation)
        if slider.reverse:
            el.set("reverse", "true")

    # content per interaction type
    def _choice_elements(self, parent: etree._Element, choices: Any, name: str, inter: Interaction,
                         match_max: bool = False) -> None:
        for choice in choices:
            el = etree.SubElement(parent, _q(name), identifier=choice.id)
            if choice.fixed:
                el.set("fixed", "true")
            if match_max:
                el.set("match-max", str(choice.match_max))
            self.fill(el, choice.html, f"{inter.response_id}.choices[{choice.id}]")

    def _content_choice(self, el: etree._Element, inter: Interaction) -> None:
        self._choice_elements(el, inter.choices, "qti-simple-choice", inter)

    _content_order = _content_choice

    def _content_inline_choice(self, el: etree._Element, inter: Interaction) -> None:
        self._choice_elements(el, inter.choices, "qti-inline-choice", inter)

    def _content_match(self, el: etree._Element, inter: Interaction) -> None:
        for group in (inter.choices, inter.targets):
            match_set = etree.SubElement(el, _q("qti-simple-match-set"))
            self._choice_elements(match_set, group, "qti-simple-associable-choice", inter, match_max=True)

    def _content_associate(self, el: etree._Element, inter: Interaction) -> None:
        self._choice_elements(el, inter.choices, "qti-simple-associable-choice", inter, match_max=True)

    def _gap_choices(self, el: etree._Element, inter: Interaction) -> None:
        """gapText, or gapImg for a choice whose HTML is one image (as the importer builds it)."""
        for choice in inter.choices:
            image = _lone_image(choice.html)
            if image is None:
                self._choice_elements(el, [choice], "qti-gap-text", inter, match_max=True)
                continue
            gap = etree.SubElement(el, _q("qti-gap-img"), identifier=choice.id)
            if choice.fixed:
                gap.set("fixed", "true")
            gap.set("match-max", str(choice.match_max))
            gap.set("object-label", image.get("alt", ""))
            src = image.get("src", "")
            media = {f"media:{m.sha256}": m for m in self.item.media}
            if src not in media:
                raise ItemRejected(self.source, f"interactions[{inter.response_id}].choices[{choice.id}]",
                                   "shows an image the item does not carry")
            obj = etree.SubElement(gap, _q("object"), type=media[src].mime, data=self.media_path(src))
            for dim in ("width", "height"):
                if image.get(dim):
                    obj.set(dim, image.get(dim, ""))

    def _content_gap_match(self, el: etree._Element, inter: Interaction) -> None:
        self._gap_choices(el, inter)
        holder = etree.Element("holder")
        self.fill(holder, inter.content_html, f"{inter.response_id}.content")
        _move_content(holder, el)

    def _content_hottext(self, el: etree._Element, inter: Interaction) -> None:
        holder = etree.Element("holder")
        self.fill(holder, inter.content_html, f"{inter.response_id}.content")
        _move_content(holder, el)

    def _graphic_object(self, el: etree._Element, inter: Interaction) -> None:
        if inter.image is None:
            raise ItemRejected(self.source, f"interactions[{inter.response_id}]", f"a {inter.type} needs an image")
        obj = etree.SubElement(el, _q("object"), type=inter.image.mime,
                               data=self.media_path(f"media:{inter.image.sha256}"))
        for dim in ("width", "height"):
            if getattr(inter.image, dim):
                obj.set(dim, str(getattr(inter.image, dim)))
        obj.text = inter.image.alt or None

    def _content_hotspot(self, el: etree._Element, inter: Interaction) -> None:
        self._graphic_object(el, inter)
        for spot in inter.hotspots:
            hs = etree.SubElement(el, _q("qti-hotspot-choice"), identifier=spot.id, shape=spot.shape,
                                  coords=",".join(_num(c) for c in spot.coords))
            if spot.label:
                hs.set("hotspot-label", spot.label)

    _content_graphic_order = _content_hotspot

    def _associable_hotspots(self, el: etree._Element, inter: Interaction) -> None:
        for spot in inter.hotspots:
            hs = etree.SubElement(el, _q("qti-associable-hotspot"), identifier=spot.id, shape=spot.shape,
                                  coords=",".join(_num(c) for c in spot.coords))
            hs.set("match-max", str(spot.match_max))
            if spot.label:
                hs.set("hotspot-label", spot.label)

    def _content_graphic_associate(self, el: etree._Element, inter: Interaction) -> None:
        self._graphic_object(el, inter)
        self._associable_hotspots(el, inter)

    def _content_graphic_gap_match(self, el: etree._Element, inter: Interaction) -> None:
        self._graphic_object(el, inter)
        self._gap_choices(el, inter)
        self._associable_hotspots(el, inter)


def _lone_image(html: str) -> etree._Element | None:
    """The ``<img>`` when ``html`` is exactly one image and nothing else (an image gap), else None."""
    if not html.startswith("<img"):
        return None
    try:
        root = etree.fromstring(f"<r>{html}</r>")
    except etree.XMLSyntaxError:
        return None
    if root.text or len(root) != 1 or root[0].tag != "img" or root[0].tail:
        return None
    return root[0]


def _move_content(holder: etree._Element, target: etree._Element) -> None:
    """Append holder's text and children to target (after what target already holds)."""
    if holder.text:
        if len(target):
            target[-1].tail = (target[-1].tail or "") + holder.text
        else:
            target.text = (target.text or "") + holder.text
    for child in list(holder):
        target.append(child)
