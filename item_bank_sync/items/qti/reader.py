"""Read one QTI 2.1 / 2.2 / 3.0 ``assessmentItem`` into an ``exam_core.model.Item`` and its ``AnswerKey``.

The rule is *reject rather than guess*: an item is imported only when every interaction is
supported and sits where it may, its body sanitises cleanly, its media are real images inside the
import, and its responses and scoring pass :mod:`item_bank_sync.items.qti.responses`. Anything else
raises :class:`ItemRejected` naming the element and the problem.

Every top-level element is accounted for (:data:`TOP_LEVEL`): what would change the key or the
text the candidate sees (template processing and variables, context variables) refuses the item
by name; what is pulled in from the package (shared stimuli, XInclude fragments) is imported;
what is not delivered in an exam (feedback, styles, catalogs, companion materials) is removed
with a warning naming it; anything unknown refuses the item. Nothing is dropped silently.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from collections.abc import Callable

from lxml import etree

from exam_core.errors import ValidationError
from exam_core.model import (IDENTIFIER_RE, SLIDER_ORIENTATIONS, TRACK_KINDS, AnswerKey, CaptionTrack, Choice,
                             Hotspot, Interaction, Item, MediaPlayer, MediaRef, SliderRange)
from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.items.media import MEDIA_TYPES, av_ref, media_ref, sniff_mime, vtt_ref
from item_bank_sync.items.qti.body import BodySanitizer, Handler
from item_bank_sync.items.qti.include import Includer, stimulus_body
from item_bank_sync.items.qti.responses import Found, ResponseRules
from item_bank_sync.items.qti.xml import (check_vocabulary, parse_xml, qti_attrs, qti_children, qti_name,
                                          qti_version)

#: A picture written into the item as a ``data:`` URI is stored like a file picture, up to this size.
MAX_DATA_URI_BYTES = 2 * 1024 * 1024
_DATA_URI = re.compile(r"^data:([^,;]*)((?:;[^,;]*)*),(.*)$", re.IGNORECASE | re.DOTALL)

SUPPORTED_INTERACTIONS = {
    "choiceInteraction": "choice", "inlineChoiceInteraction": "inline_choice",
    "textEntryInteraction": "text_entry", "extendedTextInteraction": "extended_text",
    "orderInteraction": "order", "matchInteraction": "match", "associateInteraction": "associate",
    "gapMatchInteraction": "gap_match", "hottextInteraction": "hottext",
    "hotspotInteraction": "hotspot", "selectPointInteraction": "hotspot",
    "sliderInteraction": "slider", "graphicOrderInteraction": "graphic_order",
    "graphicAssociateInteraction": "graphic_associate", "graphicGapMatchInteraction": "graphic_gap_match",
    "mediaInteraction": "media", "drawingInteraction": "drawing",
}
INLINE_INTERACTIONS = frozenset({"inlineChoiceInteraction", "textEntryInteraction"})
#: Top-level children of an item, and what the importer does with each.
TOP_LEVEL = {
    "responseDeclaration": "read", "outcomeDeclaration": "read", "itemBody": "read", "responseProcessing": "read",
    "assessmentStimulusRef": "inline", "companionMaterialsInfo": "warn", "stylesheet": "warn",
    "modalFeedback": "warn", "catalogInfo": "warn",
    "templateDeclaration": "refuse", "templateProcessing": "refuse", "contextDeclaration": "refuse",
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
    #: Provenance set by the importer: the namespace given to the import ('' for none) and the
    #: file relative to the folder or zip imported, with that folder's or zip's name.
    namespace: str = ""
    source_key: str = ""


def parse_qti_item(data: bytes, source: str, load_media: MediaLoader, *, area: str | None = None,
                   assume_match_correct: bool = False) -> ParsedItem:
    """Parse and check one item file; raise :class:`ItemRejected` with a reason on any problem."""
    root = parse_xml(data, source)
    version, warnings = prepare_item(root, source, load_media)
    return _ItemReader(root, source, version, load_media, warnings).read(area, assume_match_correct)


def prepare_item(root: etree._Element, source: str, load_media: MediaLoader) -> tuple[str, list[str]]:
    """What every item file goes through before it is read, plain or a family: its QTI version,
    inclusions resolved, names checked against the version's vocabulary, and an assessmentItem at
    the root. Returns the version and the warnings so far."""
    version = qti_version(root, source)
    warnings: list[str] = []
    Includer(load_media, source, warnings).resolve(root)
    check_vocabulary(root, source)
    if qti_name(root) != "assessmentItem":
        raise ItemRejected(source, qti_name(root), "is not an assessmentItem (only items are imported)")
    return version, warnings


def _materials(info: etree._Element) -> str:
    """Companion materials by name (``calculator (scientific), rule``) for a warning."""
    names = []
    for child in qti_children(info):
        name = qti_name(child)
        kind = " ".join(" ".join(child.itertext()).split())[:60]
        names.append(f"{name} ({kind})" if kind else name)
    return ", ".join(names) or "companion materials"


class _ItemReader(ResponseRules):
    def __init__(self, root: etree._Element, source: str, version: str, load_media: MediaLoader,
                 warnings: list[str]) -> None:
        super().__init__(root, source, warnings)
        self.version = version
        self.load_media = load_media
        self.media: dict[str, tuple[MediaRef, bytes]] = {}
        self.media_order: list[MediaRef] = []
        self.found: list[Found] = []
        self.players: list[MediaPlayer] = []
        self.sanitizer = BodySanitizer(source, self._resolve_media, self.warnings, self._body_player)

    # --- top level ---------------------------------------------------------------------------
    def read(self, area: str | None, assume_match_correct: bool) -> ParsedItem:
        attrs = qti_attrs(self.root)
        item_id = attrs.get("identifier", "")
        if not IDENTIFIER_RE.match(item_id):
            raise self.reject("assessmentItem", f"identifier {item_id!r} is missing or not a valid identifier")
        if attrs.get("adaptive", "false") == "true":
            raise self.reject("assessmentItem", "adaptive items are not supported")
        stimuli = self._top_level()
        decls = self._declarations()
        body = self._only_child("itemBody", required=True)
        handlers: dict[str, Handler] = {name: self._interaction_handler(name) for name in SUPPORTED_INTERACTIONS}
        body_html = self._stimuli_html(stimuli) + self.sanitizer.inner_html(body, "itemBody", handlers)
        if not self.found:
            raise self.reject("itemBody", "holds no supported interaction")
        keys = self._keys(self.found, decls, assume_match_correct)
        rubric = "\n".join(self.sanitizer.scorer_rubrics)
        item_dict = Item(
            item_id=item_id, version=1, title=attrs.get("title", item_id)[:1000] or item_id,
            body_html=body_html, interactions=tuple(f.interaction for f in self.found),
            media=tuple(self.media_order), language=attrs.get("lang", "en") or "en",
            competency_area=area, players=tuple(self.players),
        ).to_dict()
        key_dict = AnswerKey(item_id=item_id, version=1, responses=tuple(keys), rubric_html=rubric).to_dict()
        try:
            item = Item.from_dict(item_dict, "item")
            key = AnswerKey.from_dict(key_dict, "key")
        except ValidationError as exc:
            raise self.reject(exc.field, exc.reason) from None
        return ParsedItem(item, key, self.source, f"qti{self.version}", self.media, self.warnings)

    def _top_level(self) -> list[etree._Element]:
        """Account for every top-level element (see :data:`TOP_LEVEL`); returns the stimulus refs."""
        children = list(qti_children(self.root))
        for child in children:  # a wrong key is the worst outcome: name it first
            if qti_name(child) == "templateProcessing":
                sets_key = any(qti_name(el) == "setCorrectResponse" for el in child.iter() if isinstance(el.tag, str))
                raise self.reject("templateProcessing", "item templates (variables drawn at delivery) are not "
                                  "supported" + ("; it sets the correct response (setCorrectResponse), so the "
                                                 "static correctResponse is not the key" if sets_key else ""))
        stimuli = []
        for child in children:
            name = qti_name(child)
            action = TOP_LEVEL.get(name)
            if action is None:
                raise self.reject(name, "is not supported at the top level of an item")
            if action == "refuse":
                ident = qti_attrs(child).get("identifier", "")
                raise self.reject(f"{name}[{ident}]", "template and context variables are not supported: the "
                                  "candidate would see the variable names, not their values")
            if action == "inline":
                stimuli.append(child)
            elif name == "companionMaterialsInfo":
                self.warnings.append(f"companionMaterialsInfo: the item asks for {_materials(child)}; Invigil sets "
                                     "candidate tools per scheme (tools.calculator etc.), not per item: "
                                     "check the scheme")
            elif action == "warn":
                self.warnings.append(f"{name}: removed (not delivered in an exam)")
        return stimuli

    def _stimuli_html(self, refs: list[etree._Element]) -> str:
        """Each shared stimulus, sanitised like the body, as a ``div.stimulus`` before the body."""
        parts = []
        for index, ref in enumerate(refs):
            body = stimulus_body(ref, self.load_media, self.source, self.warnings)
            inner = self.sanitizer.inner_html(body, f"assessmentStimulusRef[{index + 1}]")
            parts.append(f'<div class="stimulus">{inner}</div>\n')
        return "".join(parts)

    def _resolve_media(self, src: str, element: str) -> MediaRef:
        if src[:5].lower() == "data:":
            data, src = _data_uri_image(src, self.source, element, self.warnings)
        else:
            data = self.load_media(src, element)
        ref = self._keep_media(media_ref(data, src, self.source, element, self.warnings), data)
        return self.media[ref.sha256][0]  # the same bytes under another name: the first name stays

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
        return [self._choice(child, where) for child in qti_children(el) if qti_name(child) in names]

    def _choice(self, child: etree._Element, where: str, html: str | None = None) -> Choice:
        """One option; its HTML is the element's sanitised content unless given (an image gap)."""
        a = qti_attrs(child)
        cid = a.get("identifier", "")
        if not IDENTIFIER_RE.match(cid):
            raise self.reject(f"{where}/{qti_name(child)}", f"identifier {cid!r} is not valid")
        if html is None:
            html = self.sanitizer.inner_html(child, f"{where}/{qti_name(child)}[{cid}]")
        return Choice(id=cid, html=html, fixed=a.get("fixed", "false") == "true",
                      match_max=self._int(a.get("matchMax", "1"), f"{where}/{cid}@matchMax"))

    def _gap_choices(self, el: etree._Element, where: str) -> list[Choice]:
        """gapText and gapImg children in document order; an image gap's HTML is one ``<img>``."""
        out = []
        for child in qti_children(el):
            if qti_name(child) == "gapText":
                out.append(self._choice(child, where))
            elif qti_name(child) == "gapImg":
                out.append(self._choice(child, where, self._gap_img_html(child, where)))
        return out

    def _gap_img_html(self, gap: etree._Element, where: str) -> str:
        """``<img src="media:SHA" alt="LABEL">`` for a gapImg: its objectLabel (else the object's
        fallback text) names it for the candidate's screen reader and in the gap's list."""
        cid = qti_attrs(gap).get("identifier", "")
        path = f"{where}/gapImg[{cid}]"
        self._unexpected(gap, path, {"object"})
        image = self._graphic_image(gap, path, keep_alt=False)
        obj = next(c for c in qti_children(gap) if qti_name(c) == "object")
        label = (qti_attrs(gap).get("objectLabel") or _words(obj))[:1000]
        if not label:  # never the file name (photo_0001.png says nothing): its identifier, and a warning
            self.warnings.append(f"{path}: has no objectLabel or text; named 'picture {cid}': add a label")
            label = f"picture {cid}"
        img = etree.Element("img", {"src": f"media:{image.sha256}", "alt": label})
        for dim in ("width", "height"):
            if getattr(image, dim):
                img.set(dim, str(getattr(image, dim)))
        return etree.tostring(img, encoding="unicode")

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
               options: list[Choice] | list[Hotspot], targets: list[Choice] | None = None) -> Found:
        return Found(where, el_name, interaction, {o.id for o in options}, {t.id for t in targets or []})

    def _listed(self, el: etree._Element, rid: str, where: str, qti: str, kind: str, child: str,
                card: str, base: str, limit: str, default_max: int | None = 1) -> Found:
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

    def _read_choiceInteraction(self, el: etree._Element, rid: str, where: str) -> Found:
        return self._listed(el, rid, where, "choiceInteraction", "choice", "simpleChoice",
                            "single", "identifier", "Choices")

    def _read_orderInteraction(self, el: etree._Element, rid: str, where: str) -> Found:
        return self._listed(el, rid, where, "orderInteraction", "order", "simpleChoice",
                            "ordered", "identifier", "Choices", default_max=None)

    def _read_associateInteraction(self, el: etree._Element, rid: str, where: str) -> Found:
        return self._listed(el, rid, where, "associateInteraction", "associate", "simpleAssociableChoice",
                            "multiple", "pair", "Associations")

    def _read_inlineChoiceInteraction(self, el: etree._Element, rid: str, where: str) -> Found:
        self._unexpected(el, where, {"inlineChoice"})
        choices = self._choices(el, where, ("inlineChoice",))
        inter = Interaction(type="inline_choice", response_id=rid, cardinality="single",
                            base_type="identifier", choices=tuple(choices), shuffle=self._flag(el, "shuffle"),
                            min_choices=1 if self._flag(el, "required") else 0, max_choices=1)
        return self._found("inlineChoiceInteraction", inter, where, choices)

    def _read_textEntryInteraction(self, el: etree._Element, rid: str, where: str) -> Found:
        self._unexpected(el, where, set())
        a = qti_attrs(el)
        inter = Interaction(type="text_entry", response_id=rid, cardinality="single", base_type="string",
                            expected_length=self._opt_positive(a.get("expectedLength"), f"{where}@expectedLength"),
                            pattern_mask=a.get("patternMask"))
        return self._found("textEntryInteraction", inter, where, [])

    def _read_extendedTextInteraction(self, el: etree._Element, rid: str, where: str) -> Found:
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

    def _read_matchInteraction(self, el: etree._Element, rid: str, where: str) -> Found:
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

    def _read_gapMatchInteraction(self, el: etree._Element, rid: str, where: str) -> Found:
        choices = self._gap_choices(el, where)
        gaps: list[Choice] = []

        def gap(node: etree._Element, path: str) -> etree._Element:
            gid = qti_attrs(node).get("identifier", "")
            if not IDENTIFIER_RE.match(gid):
                raise self.reject(path, f"identifier {gid!r} is not valid")
            gaps.append(Choice(id=gid))
            return etree.Element("span", {"data-gap": gid})

        content = self.sanitizer.inner_html(el, where, {"gap": gap}, skip=frozenset({"prompt", "gapText", "gapImg"}))
        if not gaps:
            raise self.reject(where, "has no gap")
        inter = Interaction(type="gap_match", response_id=rid, cardinality="multiple", base_type="directedPair",
                            prompt_html=self._prompt(el, where), content_html=content, choices=tuple(choices),
                            targets=tuple(gaps), shuffle=self._flag(el, "shuffle"),
                            min_choices=0, max_choices=len(gaps))
        return self._found("gapMatchInteraction", inter, where, choices, gaps)

    def _read_hottextInteraction(self, el: etree._Element, rid: str, where: str) -> Found:
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

    def _graphic_image(self, el: etree._Element, where: str, keep_alt: bool = True) -> MediaRef:
        """The picture an interaction is drawn on, with its text alternative (``keep_alt``).

        The alternative is the item's own text, never the file name: the image's ``alt`` or the
        object's fallback text, else the interaction's prompt (what the picture is for); an image
        with none of these is imported with a warning (the kiosk then says only what to do with it).
        A picture in a gap (``gapImg``) is named by its own label instead (``keep_alt=False``).
        """
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
        alt = self._image_text(el, images[0], f"{where}/{qti_name(images[0])}") if keep_alt else ""
        return MediaRef(sha256=ref.sha256, mime=ref.mime, name=ref.name, width=width, height=height,
                        alt=alt[:1000])

    def _image_text(self, interaction: etree._Element, image: etree._Element, path: str) -> str:
        """What an interaction's picture shows, from the item's own text (see :meth:`_graphic_image`)."""
        own = (qti_attrs(image).get("alt", "") if qti_name(image) == "img" else "") or _words(image)
        if own.strip():
            return " ".join(own.split())
        prompts = [c for c in qti_children(interaction) if qti_name(c) == "prompt"]
        if prompts and _words(prompts[0]):
            return _words(prompts[0])
        self.warnings.append(f"{path}: the picture has no text alternative (alt, fallback text or prompt); "
                             "a screen reader cannot say what it shows: add one")
        return ""

    def _hotspots(self, el: etree._Element, where: str, child_name: str = "hotspotChoice") -> list[Hotspot]:
        spots = []
        for child in qti_children(el):
            if qti_name(child) != child_name:
                continue
            a = qti_attrs(child)
            hid = a.get("identifier", "")
            if not IDENTIFIER_RE.match(hid):
                raise self.reject(f"{where}/{child_name}", f"identifier {hid!r} is not valid")
            shape = a.get("shape", "")
            if shape not in ("rect", "circle", "ellipse", "poly", "default"):
                raise self.reject(f"{where}/{child_name}[{hid}]", f"shape {shape!r} is not a QTI shape")
            coords = self._coords(a.get("coords", ""), f"{where}/{child_name}[{hid}]")
            match_max = (self._int(a.get("matchMax"), f"{where}/{child_name}[{hid}]@matchMax")
                         if child_name == "associableHotspot" else 1)
            spots.append(Hotspot(id=hid, shape=shape, coords=coords, label=a.get("hotspotLabel", "")[:1000],
                                 match_max=match_max))
        return spots

    def _read_hotspotInteraction(self, el: etree._Element, rid: str, where: str) -> Found:
        self._unexpected(el, where, {"prompt", "object", "img", "hotspotChoice"})
        image = self._graphic_image(el, where)
        spots = self._hotspots(el, where)
        a = qti_attrs(el)
        inter = Interaction(type="hotspot", response_id=rid, cardinality="single", base_type="identifier",
                            prompt_html=self._prompt(el, where), hotspots=tuple(spots), image=image,
                            min_choices=self._int(a.get("minChoices"), f"{where}@minChoices", 0),
                            max_choices=self._int(a.get("maxChoices"), f"{where}@maxChoices", 1))
        return self._found("hotspotInteraction", inter, where, spots)

    def _read_selectPointInteraction(self, el: etree._Element, rid: str, where: str) -> Found:
        self._unexpected(el, where, {"prompt", "object", "img"})
        a = qti_attrs(el)
        inter = Interaction(type="hotspot", response_id=rid, cardinality="single", base_type="point",
                            prompt_html=self._prompt(el, where), image=self._graphic_image(el, where),
                            min_choices=self._int(a.get("minChoices"), f"{where}@minChoices", 0),
                            max_choices=self._int(a.get("maxChoices"), f"{where}@maxChoices", 1))
        return self._found("selectPointInteraction", inter, where, [])


    def _read_graphicOrderInteraction(self, el: etree._Element, rid: str, where: str) -> Found:
        """Areas of an image put in order; like ``orderInteraction``, every area must be placed."""
        self._unexpected(el, where, {"prompt", "object", "img", "hotspotChoice"})
        image = self._graphic_image(el, where)
        spots = self._hotspots(el, where)
        if len(spots) < 2:
            raise self.reject(where, "needs at least two hotspotChoice areas to order")
        a = qti_attrs(el)
        for limit in ("minChoices", "maxChoices"):
            given = self._int(a.get(limit), f"{where}@{limit}", len(spots))
            if given not in (0, len(spots)):  # 0: not limited (TAO writes it); anything else is partial
                raise self.reject(f"{where}@{limit}", f"{limit}={given} asks for a partial order of "
                                                      f"{len(spots)} areas; only complete orders are supported")
        inter = Interaction(type="graphic_order", response_id=rid, cardinality="ordered", base_type="identifier",
                            prompt_html=self._prompt(el, where), hotspots=tuple(spots), image=image,
                            min_choices=len(spots), max_choices=len(spots))
        return self._found("graphicOrderInteraction", inter, where, spots)

    def _read_sliderInteraction(self, el: etree._Element, rid: str, where: str) -> Found:
        """A value chosen on a scale: the range, step and presentation hints are kept exactly."""
        self._unexpected(el, where, {"prompt"})
        a = qti_attrs(el)
        if "lowerBound" not in a or "upperBound" not in a:
            raise self.reject(where, "needs lowerBound and upperBound")
        step = self._number(a["step"], f"{where}@step") if "step" in a else None
        orientation = a.get("orientation", "horizontal")
        if orientation not in SLIDER_ORIENTATIONS:
            raise self.reject(f"{where}@orientation", f"{orientation!r} is not horizontal or vertical")
        try:
            slider = SliderRange.from_dict({
                "lower": self._number(a["lowerBound"], f"{where}@lowerBound"),
                "upper": self._number(a["upperBound"], f"{where}@upperBound"),
                "step": step, "step_label": self._flag(el, "stepLabel"), "orientation": orientation,
                "reverse": self._flag(el, "reverse")}, where)
        except ValidationError as exc:
            raise self.reject(exc.field, exc.reason) from None
        inter = Interaction(type="slider", response_id=rid, cardinality="single", base_type="integer",
                            prompt_html=self._prompt(el, where), slider=slider)
        return self._found("sliderInteraction", inter, where, [])

    def _read_graphicAssociateInteraction(self, el: etree._Element, rid: str, where: str) -> Found:
        """Pairs of areas of one image (QTI ``associableHotspot``), each area used at most matchMax times."""
        self._unexpected(el, where, {"prompt", "object", "img", "associableHotspot"})
        image = self._graphic_image(el, where)
        spots = self._hotspots(el, where, "associableHotspot")
        if len(spots) < 2:
            raise self.reject(where, "needs at least two associableHotspot areas to pair")
        a = qti_attrs(el)
        inter = Interaction(type="graphic_associate", response_id=rid, cardinality="multiple", base_type="pair",
                            prompt_html=self._prompt(el, where), hotspots=tuple(spots), image=image,
                            min_choices=self._int(a.get("minAssociations"), f"{where}@minAssociations", 0),
                            max_choices=self._int(a.get("maxAssociations"), f"{where}@maxAssociations", 1))
        return self._found("graphicAssociateInteraction", inter, where, spots)

    def _read_graphicGapMatchInteraction(self, el: etree._Element, rid: str, where: str) -> Found:
        """Texts or images (gapText, gapImg) placed on areas of an image (associableHotspot gaps)."""
        self._unexpected(el, where, {"prompt", "object", "img", "gapText", "gapImg", "associableHotspot"})
        image = self._graphic_image(el, where)
        choices = self._gap_choices(el, where)
        spots = self._hotspots(el, where, "associableHotspot")
        if not choices or not spots:
            raise self.reject(where, "needs gapText or gapImg choices and associableHotspot gaps")
        a = qti_attrs(el)
        inter = Interaction(type="graphic_gap_match", response_id=rid, cardinality="multiple",
                            base_type="directedPair", prompt_html=self._prompt(el, where), choices=tuple(choices),
                            hotspots=tuple(spots), image=image, shuffle=self._flag(el, "shuffle"),
                            min_choices=self._int(a.get("minAssociations"), f"{where}@minAssociations", 0),
                            max_choices=self._int(a.get("maxAssociations"), f"{where}@maxAssociations",
                                                  len(spots)))
        found = self._found("graphicGapMatchInteraction", inter, where, choices)
        found.targets = {h.id for h in spots}
        return found

    def _read_mediaInteraction(self, el: etree._Element, rid: str, where: str) -> Found:
        """Sound or video played from the package; the response is the play count (QTI integer).

        The recording is a QTI 2 ``object``, or an HTML5 ``audio``/``video`` (QTI 3, or QTI 2.2's
        HTML5 namespace) whose ``track`` children bring captions or subtitles (WebVTT in the package).
        """
        self._unexpected(el, where, {"prompt", "object", "audio", "video"})
        players = [c for c in qti_children(el) if qti_name(c) in ("object", "audio", "video")]
        if len(players) != 1:
            raise self.reject(where, "needs exactly one object, audio or video (the recording)")
        media, tracks = self._recording(players[0], qti_name(players[0]), f"{where}/{qti_name(players[0])}")
        m = qti_attrs(el)
        try:
            player = MediaPlayer.from_dict({
                "media": media.to_dict(), "min_plays": self._int(m.get("minPlays"), f"{where}@minPlays", 0),
                "max_plays": self._int(m.get("maxPlays"), f"{where}@maxPlays", 0),
                "loop": self._flag(el, "loop"), "autostart": self._flag(el, "autostart"),
                "tracks": [t.to_dict() for t in tracks]}, where)
        except ValidationError as exc:
            raise self.reject(exc.field, exc.reason) from None
        inter = Interaction(type="media", response_id=rid, cardinality="single", base_type="integer",
                            prompt_html=self._prompt(el, where), player=player)
        return self._found("mediaInteraction", inter, where, [])

    def _recording(self, element: etree._Element, kind: str, path: str) -> tuple[MediaRef, tuple[CaptionTrack, ...]]:
        """The file (sniffed by content) and captions of a QTI 2 ``object`` or an HTML5 ``audio``/``video``."""
        tracks: tuple[CaptionTrack, ...] = ()
        if kind == "object":
            a = qti_attrs(element)
            src, declared = a.get("data", ""), a.get("type", "")
            alt = _words(element)[:1000]
        else:
            src, declared = self._html5_source(element, kind, path)
            a = qti_attrs(element)
            alt = (a.get("title") or a.get("aria-label") or _words(element))[:1000]
            tracks = self._tracks(element, path)
        if not src or not declared.startswith(("audio/", "video/")):
            raise self.reject(path, f"type {declared!r} is not audio or video (a picture is not played)")
        if not alt:
            self.warnings.append(f"{path}: the recording has no text alternative (fallback text or title); "
                                 "the candidate's screen reader names it by its file name")
        data = self.load_media(src, path)
        ref = self._keep_media(av_ref(data, src, declared, self.source, path), data)
        media = MediaRef(sha256=ref.sha256, mime=ref.mime, name=ref.name, alt=alt,
                         width=self._opt_positive(a.get("width"), f"{path}@width"),
                         height=self._opt_positive(a.get("height"), f"{path}@height"))
        return media, tracks

    def _body_player(self, element: etree._Element, kind: str, path: str) -> int:
        """An HTML5 ``audio``/``video`` in the body or a prompt, outside a mediaInteraction (QTI 3, or
        QTI 2.2's HTML5 namespace): a listening item's recording. It becomes one of the item's
        players, played with the kiosk's own buttons and captions (never the browser's controls),
        with no play limit (HTML5 media give none) and nothing recorded; its number is returned."""
        media, tracks = self._recording(element, kind, path)
        try:
            player = MediaPlayer.from_dict({
                "media": media.to_dict(), "loop": _html_flag(element, "loop"),
                "autostart": _html_flag(element, "autoplay"), "tracks": [t.to_dict() for t in tracks]}, path)
        except ValidationError as exc:
            raise self.reject(exc.field, exc.reason) from None
        self.players.append(player)
        return len(self.players)

    def _keep_media(self, ref: MediaRef, data: bytes) -> MediaRef:
        """Record a checked file so it travels with the item (in ``Item.media``, once)."""
        if ref.sha256 not in self.media:
            self.media[ref.sha256] = (ref, data)
            self.media_order.append(ref)
        return ref

    def _html5_source(self, element: etree._Element, kind: str, path: str) -> tuple[str, str]:
        """The file an HTML5 ``audio``/``video`` plays: its ``src``, else its first ``source``.

        Several sources are the same recording in other formats; the first is delivered and the
        others are named in a warning. Its container is audio or video as the element says.
        """
        for child in qti_children(element):
            if qti_name(child) not in ("source", "track"):
                raise self.reject(f"{path}/{qti_name(child)}", "is not supported inside audio or video "
                                                               "(only source and track)")
        sources = [qti_attrs(c) for c in qti_children(element) if qti_name(c) == "source"]
        src = qti_attrs(element).get("src", "") or (sources[0].get("src", "") if sources else "")
        others = [s.get("src", "") for s in sources if s.get("src", "") != src]
        if others:
            self.warnings.append(f"{path}/source: other formats of the recording not delivered: {', '.join(others)}")
        declared = next((s.get("type", "") for s in sources if s.get("src") == src and s.get("type")), "")
        family = f"{kind}/"
        return src, declared if declared.startswith(family) else family

    def _tracks(self, element: etree._Element, path: str) -> tuple[CaptionTrack, ...]:
        """Captions and subtitles (``track``, WebVTT checked by content) of an HTML5 recording."""
        tracks = []
        for index, child in enumerate(c for c in qti_children(element) if qti_name(c) == "track"):
            where = f"{path}/track[{index + 1}]"
            a = qti_attrs(child)
            kind = a.get("kind", "subtitles")  # HTML's default kind
            if kind == "descriptions":
                raise self.reject(where, "text descriptions are not delivered (the kiosk shows captions and "
                                         "subtitles only); the candidate would miss them")
            if kind not in TRACK_KINDS:
                self.warnings.append(f"{where}: track of kind {kind!r} removed (not shown to candidates)")
                continue
            src = a.get("src", "")
            if not src:
                raise self.reject(where, "track has no src")
            data = self.load_media(src, where)
            ref = self._keep_media(vtt_ref(data, src, self.source, where), data)
            try:
                tracks.append(CaptionTrack.from_dict({
                    "media": ref.to_dict(), "kind": kind, "srclang": a.get("srclang", ""),
                    "label": a.get("label", "")[:200], "default": a.get("default", "false") != "false"}, where))
            except ValidationError as exc:
                raise self.reject(exc.field, exc.reason) from None
        return tuple(tracks)

    def _read_drawingInteraction(self, el: etree._Element, rid: str, where: str) -> Found:
        """A drawing on an image (the canvas), marked by people; the response is the drawing (PNG)."""
        self._unexpected(el, where, {"prompt", "object", "img"})
        inter = Interaction(type="drawing", response_id=rid, cardinality="single", base_type="file",
                            prompt_html=self._prompt(el, where), image=self._graphic_image(el, where))
        return self._found("drawingInteraction", inter, where, [])


def _words(node: etree._Element) -> str:
    """The text of an element and its descendants, whitespace collapsed (a fallback text, a label)."""
    return " ".join("".join(node.itertext()).split())


def _html_flag(element: etree._Element, name: str) -> bool:
    """An HTML boolean attribute: present is true (``autoplay``, ``autoplay="autoplay"``), except
    the QTI-style ``"false"`` some tools write."""
    value = qti_attrs(element).get(name)
    return value is not None and value.strip().lower() != "false"


def _data_uri_image(src: str, source: str, element: str, warnings: list[str]) -> tuple[bytes, str]:
    """(bytes, a file name for them) of a base64 ``data:`` URI picture, checked before decoding.

    Authoring tools paste pictures into the body this way. The bytes decide the type (as for a
    file); a declared type that differs is reported. Anything but base64 PNG, JPEG, GIF or WebP
    of at most :data:`MAX_DATA_URI_BYTES` is refused with the reason.
    """
    match = _DATA_URI.match(src)
    if match is None or "base64" not in [p.strip().lower() for p in match.group(2).split(";")]:
        raise ItemRejected(source, element, "a data: URI picture must be base64 (data:image/png;base64,...)")
    text = "".join(match.group(3).split())
    if len(text) > (MAX_DATA_URI_BYTES + 2) // 3 * 4:
        raise ItemRejected(source, element, f"a data: URI picture is more than {MAX_DATA_URI_BYTES} bytes")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ItemRejected(source, element, "a data: URI picture is not valid base64") from None
    if len(data) > MAX_DATA_URI_BYTES:
        raise ItemRejected(source, element, f"a data: URI picture is more than {MAX_DATA_URI_BYTES} bytes")
    mime = sniff_mime(data)
    if mime is None:
        raise ItemRejected(source, element, "a data: URI picture is not a PNG, JPEG, GIF or WebP image "
                                            "(SVG and other types are refused)")
    declared = match.group(1).strip().lower()
    if declared and declared != mime:
        warnings.append(f"{element}: data: URI picture declared {declared!r} but its bytes are {mime}; "
                        f"stored as {mime}")
    return data, f"data-uri{MEDIA_TYPES[mime][0]}"
