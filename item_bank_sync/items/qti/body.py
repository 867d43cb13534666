"""Turn QTI body content (XHTML in a QTI namespace) into the model's sanitised HTML fragment.

The kiosk renders item HTML inside the candidate's page, so what leaves here must be inert:
only ``exam_core.model.ALLOWED_BODY_TAGS`` (plus MathML inside ``<math>``), a short attribute
allowlist, no event handlers, no URLs except ``media:SHA256`` images. Each decision is one of:

- **keep** an allowed element with its allowed attributes;
- **drop** an element that is not content (script, style, feedback, scoring-only rubric) and say so;
- **unwrap** an unknown element that only wraps text (``ssml:sub``, ``a``, ``span`` from a
  foreign namespace): its text is kept, the element is not, and a warning names it;
- **play** an HTML5 ``audio``/``video`` outside a media interaction (a listening item): the
  reader turns it into one of the item's players and a ``data-player`` placeholder stands here;
- **reject** the item when dropping would change what the candidate is asked (audio or video
  where no player can be made, non-image objects, external inclusion): better no item than a
  different item.

Output is serialised so that it is both well-formed XML and correct HTML: non-void elements
always get an explicit end tag (``<div data-interaction="R"></div>``, never ``<div/>``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

from exam_core.model import ALLOWED_BODY_TAGS, MATH_ATTRS, MATHML_TAGS, MediaRef
from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.items.qti.xml import MAX_DEPTH, parse_xml, qti_attrs, qti_name

VOID_TAGS = frozenset({"br", "img", "hr"})
COMMON_ATTRS = frozenset({"class", "lang", "dir", "title"})
TAG_ATTRS = {
    "img": frozenset({"alt", "width", "height"}),
    "td": frozenset({"colspan", "rowspan", "scope"}),
    "th": frozenset({"colspan", "rowspan", "scope"}),
    "ol": frozenset({"start", "type"}),
    "math": frozenset({"display"}),
}
#: Not content: removed with a warning.
DROP_ELEMENTS = frozenset({
    "script", "style", "noscript", "template", "link", "meta", "base", "stylesheet",
    "feedbackInline", "feedbackBlock", "modalFeedback", "catalogInfo", "math:annotation-xml",
})
#: Feedback elements among them: shown to a candidate after answering (practice), never in an exam.
FEEDBACK_ELEMENTS = frozenset({"feedbackInline", "feedbackBlock", "modalFeedback"})
#: Content we cannot deliver faithfully: the item is refused. Compared by local name for
#: every namespace (``qh5:video``, ``html:audio`` and ``video`` are all a video).
REJECT_ELEMENTS = frozenset({
    "audio", "video", "source", "track", "iframe", "embed", "applet", "svg", "canvas", "form",
    "input", "button", "textarea", "select", "printedVariable", "templateInline", "templateBlock",
    "include", "companionMaterialsInfo",
})
#: Object types whose image fallback may stand in for them (a browser that cannot show the
#: object shows the fallback). Sound and motion have no still equivalent: refused.
NO_FALLBACK_PREFIXES = ("audio/", "video/")
#: QTI wrappers whose children are body content.
UNWRAP_QUIETLY = frozenset({"contentBody"})
SUPPORTED_LIST = ("choice, inlineChoice, textEntry, extendedText, order, match, associate, gapMatch, "
                  "hottext, hotspot, selectPoint, slider, graphicOrder, graphicAssociate, graphicGapMatch, media, "
                  "drawing; interactions may not be nested")

_ATTR_VALUE = {
    "width": re.compile(r"^\d{1,5}%?$"), "height": re.compile(r"^\d{1,5}%?$"),
    "colspan": re.compile(r"^\d{1,3}$"), "rowspan": re.compile(r"^\d{1,3}$"),
    "start": re.compile(r"^-?\d{1,6}$"), "type": re.compile(r"^[1aAiI]$"),
    "scope": re.compile(r"^(row|col|rowgroup|colgroup)$"), "dir": re.compile(r"^(ltr|rtl|auto)$"),
    "lang": re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$"),
}
_CLASS_TOKEN = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}$")

#: A handler builds the sanitised replacement for one special QTI element (an interaction
#: placeholder, a hot text, a gap) or returns None to leave it out.
Handler = Callable[[etree._Element, str], "etree._Element | None"]
MediaResolver = Callable[[str, str], MediaRef]
#: Makes an item player of an HTML5 ``audio``/``video`` (element, "audio" or "video", path) and
#: returns its number (from 1), or raises ItemRejected.
PlayerResolver = Callable[[etree._Element, str, str], int]
#: Elements a block placeholder (``div``) may stand in; elsewhere (a paragraph) it is a ``span``.
BLOCK_HOLDERS = frozenset({"div", "figure", "blockquote", "li", "td", "th", "dd"})


def media_src(ref: MediaRef) -> str:
    return f"media:{ref.sha256}"


class BodySanitizer:
    """Sanitises QTI body content for one item; collects warnings and the media it used."""

    def __init__(self, source: str, resolve_media: MediaResolver, warnings: list[str],
                 resolve_player: PlayerResolver | None = None) -> None:
        self.source = source
        self.resolve_media = resolve_media
        #: None where recordings cannot be delivered (stand-alone fragments): they refuse the item.
        self.resolve_player = resolve_player
        self.warnings = warnings
        #: Sanitised rubric blocks meant for scorers (marking guides, model answers): they go
        #: with the answer key to the markers, never to the candidate.
        self.scorer_rubrics: list[str] = []

    def inner_html(self, el: etree._Element, path: str, handlers: dict[str, Handler] | None = None,
                   skip: frozenset[str] = frozenset()) -> str:
        """The sanitised HTML of ``el``'s content (its text and children, not the element itself)."""
        container = etree.Element("div")
        self._copy_content(el, container, path, handlers or {}, skip, depth=0)
        return serialise_inner(container)

    # --- walking -------------------------------------------------------------------------------
    def _copy_content(self, src: etree._Element, dst: etree._Element, path: str,
                      handlers: dict[str, Handler], skip: frozenset[str], depth: int) -> None:
        if depth > MAX_DEPTH:
            raise ItemRejected(self.source, path, f"nested deeper than {MAX_DEPTH} elements")
        _append_text(dst, src.text)
        for child in src:
            if not isinstance(child.tag, str):
                _append_text(dst, child.tail)
                continue
            name = qti_name(child)
            child_path = f"{path}/{name}"
            if name in skip:
                pass
            elif name in handlers:
                built = handlers[name](child, child_path)
                if built is not None:
                    dst.append(built)
            else:
                self._copy_element(child, name, dst, child_path, handlers, skip, depth)
            _append_text(dst, child.tail)

    def _copy_element(self, child: etree._Element, name: str, dst: etree._Element, path: str,
                      handlers: dict[str, Handler], skip: frozenset[str], depth: int) -> None:
        in_math = name.startswith("math:")
        tag = name[5:] if in_math else name
        if name in ("audio", "video") and self.resolve_player is not None:
            number = self.resolve_player(child, name, path)
            etree.SubElement(dst, "div" if dst.tag in BLOCK_HOLDERS else "span", {"data-player": str(number)})
            return
        if name.rsplit(":", 1)[-1] in REJECT_ELEMENTS and not in_math:
            raise ItemRejected(self.source, path, "cannot be delivered faithfully (media, forms, unresolved "
                                                  "inclusion, template variables or computed text are not supported)")
        if name.endswith("Interaction") or name == "positionObjectStage":
            raise ItemRejected(self.source, path, "this interaction type is not supported, or not at this place "
                                                  f"(supported: {SUPPORTED_LIST})")
        if name in DROP_ELEMENTS:
            self.warnings.append(f"{path}: removed ({_drop_reason(name)})")
            return
        if name == "rubricBlock":
            self._rubric(child, dst, path, handlers, skip, depth)
            return
        if name == "object":
            dst.append(self._object_image(child, path))
            return
        if name == "img":
            dst.append(self._image(child, path))
            return
        if name in UNWRAP_QUIETLY:
            self._copy_content(child, dst, path, handlers, skip, depth + 1)
            return
        if (in_math and tag in MATHML_TAGS) or (not in_math and name in ALLOWED_BODY_TAGS):
            out = etree.SubElement(dst, tag)
            self._copy_attrs(child, out, tag, path, math=in_math or tag == "math")
            self._copy_content(child, out, path, handlers, skip, depth + 1)
            return
        self.warnings.append(f"{path}: element not allowed in item bodies; its text was kept")
        holder = etree.Element("span")
        self._copy_content(child, holder, path, handlers, skip, depth + 1)
        _splice(dst, holder)

    def _rubric(self, child: etree._Element, dst: etree._Element, path: str,
                handlers: dict[str, Handler], skip: frozenset[str], depth: int) -> None:
        views = qti_attrs(child).get("view", "candidate").split()
        if "scorer" in views:
            holder = etree.Element("div")
            self._copy_content(child, holder, path, {}, skip, depth + 1)
            self.scorer_rubrics.append(serialise_inner(holder))
            self.warnings.append(f"{path}: rubric for scorers kept with the answer key for markers "
                                 "(not shown to candidates)")
        if "candidate" not in views:
            others = [v for v in views if v != "scorer"]
            if others:
                self.warnings.append(f"{path}: rubric for {' '.join(others)} removed (not shown to candidates)")
            return
        out = etree.SubElement(dst, "div", {"class": "rubric"})
        self._copy_content(child, out, path, handlers, skip, depth + 1)

    def _copy_attrs(self, src: etree._Element, out: etree._Element, tag: str, path: str, math: bool) -> None:
        allowed = COMMON_ATTRS | TAG_ATTRS.get(tag, frozenset()) | (MATH_ATTRS if math else frozenset())
        for name, value in qti_attrs(src).items():
            if name.lower().startswith("on") or "javascript:" in value.lower().replace(" ", ""):
                self.warnings.append(f"{path}: attribute {name} removed (script)")
                continue
            if name == "style":
                self.warnings.append(f"{path}: attribute style removed")
                continue
            if name == "{http://www.w3.org/XML/1998/namespace}lang" or name == "lang":
                name = "lang"
            if name not in allowed:
                continue
            if name == "class":
                value = " ".join(t for t in value.split() if _CLASS_TOKEN.match(t))
                if not value:
                    continue
            elif name in _ATTR_VALUE and not _ATTR_VALUE[name].match(value):
                continue
            out.set(name, value[:1000])

    # --- images --------------------------------------------------------------------------------
    def _image(self, child: etree._Element, path: str) -> etree._Element:
        attrs = qti_attrs(child)
        src = attrs.get("src", "")
        if not src:
            raise ItemRejected(self.source, path, "img has no src")
        ref = self.resolve_media(src, path)
        if "alt" not in attrs:  # alt="" is the author saying "decorative"; no alt at all says nothing
            self.warnings.append(f"{path}: picture has no alt text, so screen-reader users are told nothing "
                                 "about it; add alt text (or alt=\"\" if it is decorative)")
        out = etree.Element("img", {"src": media_src(ref), "alt": attrs.get("alt", "")[:1000]})
        self._copy_attrs(child, out, "img", path, math=False)
        out.set("src", media_src(ref))
        return out

    def _object_image(self, child: etree._Element, path: str) -> etree._Element:
        """QTI 2 shows images with ``<object type="image/..." data="...">fallback</object>``.

        An object that is not a raster image (SVG, a plug-in) but holds exactly one image as its
        fallback is delivered as that fallback, with a warning: it is what a browser that cannot
        show the object shows. Audio and video have no still equivalent and are refused.
        """
        attrs = qti_attrs(child)
        mime, data = attrs.get("type", ""), attrs.get("data", "")
        if not data:
            raise ItemRejected(self.source, path, "object has no data")
        fallback = self._fallback_image(child)
        if fallback is not None and not mime.startswith(("image/png", "image/jpeg", "image/gif", "image/webp")) \
                and not mime.startswith(NO_FALLBACK_PREFIXES):
            self.warnings.append(f"{path}: object {data!r} of type {mime or '(none)'} is not delivered; "
                                 "its image fallback is shown instead")
            name = qti_name(fallback)
            if name == "img":
                return self._image(fallback, f"{path}/img")
            return self._object_image(fallback, f"{path}/object")
        if not mime.startswith("image/"):
            raise ItemRejected(self.source, path, f"object of type {mime or '(none)'!r} is not supported; "
                                                  "only images (or an object with an image fallback) can be delivered")
        ref = self.resolve_media(data, path)
        alt = " ".join("".join(child.itertext()).split())[:1000]
        out = etree.Element("img", {"src": media_src(ref), "alt": alt})
        for dim in ("width", "height"):
            if _ATTR_VALUE[dim].match(attrs.get(dim, "")):
                out.set(dim, attrs[dim])
        return out


    @staticmethod
    def _fallback_image(obj: etree._Element) -> etree._Element | None:
        """The one image (``img`` or image ``object``) an object holds as fallback, if that is all it holds."""
        children = [c for c in obj if isinstance(c.tag, str)]
        if len(children) != 1 or (obj.text or "").strip() or (children[0].tail or "").strip():
            return None
        name = qti_name(children[0])
        if name == "img" or (name == "object" and qti_attrs(children[0]).get("type", "").startswith("image/")):
            return children[0]
        return None


def _drop_reason(name: str) -> str:
    """Why a dropped element goes: feedback is candidate content, but shown after answering,
    which exam delivery does not do; the rest (scripts, styles, metadata) is not content at all."""
    if name in FEEDBACK_ELEMENTS:
        return "feedback shown after answering, which exam delivery does not give"
    return "not candidate content"


def _append_text(dst: etree._Element, text: str | None) -> None:
    if not text:
        return
    if len(dst):
        last = dst[-1]
        last.tail = (last.tail or "") + text
    else:
        dst.text = (dst.text or "") + text


def _splice(dst: etree._Element, holder: etree._Element) -> None:
    """Move holder's text and children into dst at the end (unwrapping holder)."""
    _append_text(dst, holder.text)
    for node in list(holder):
        tail = node.tail
        node.tail = None
        dst.append(node)
        _append_text(dst, tail)


_LINE_BREAK_RUN = re.compile(r"[ \t\r]*\n\s*")


def serialise_inner(container: etree._Element) -> str:
    """Inner XHTML of container with explicit end tags for non-void elements.

    Source indentation (a newline and the tabs after it) becomes one newline outside ``<pre>``,
    and the ends are stripped, so the same content always serialises to the same string (the
    content hash that decides "new version or no-op" depends on it).
    """
    for node in container.iter():
        if node is not container and node.tag not in VOID_TAGS and node.text is None and len(node) == 0:
            node.text = ""
        if not any(a.tag == "pre" for a in node.iterancestors()) and node.tag != "pre" and node.text:
            node.text = _LINE_BREAK_RUN.sub("\n", node.text)
        if node is not container and node.tail and not any(a.tag == "pre" for a in node.iterancestors()):
            node.tail = _LINE_BREAK_RUN.sub("\n", node.tail)
    head = _escape(container.text or "")
    inner = head + "".join(etree.tostring(child, encoding="unicode", with_tail=True) for child in container)
    return inner.strip()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sanitise_fragment(html: str, source: str, where: str) -> str:
    """Sanitise a stand-alone XHTML fragment (scheme instructions, agreement text); no media."""
    root = parse_xml(f"<div>{html}</div>".encode(), source)

    def no_media(src: str, element: str) -> MediaRef:
        raise ItemRejected(source, f"{where}/{element}", "images are not allowed here")

    return BodySanitizer(source, no_media, []).inner_html(root, where)
