"""Safe XML parsing for QTI input and the one naming scheme QTI 2.1, 2.2 and 3.0 are read in.

Why so careful: item files come from outside the central body (authoring tools, vendors,
e-mail). An XML file can declare entities that read local files (XXE) or expand exponentially
("billion laughs"). Defences, in order:

1. a size limit before anything is parsed;
2. UTF-8 (or ASCII) only, so a byte-level scan cannot be fooled by another encoding;
3. any ``<!ENTITY`` declaration, DOCTYPE internal subset or external DTD reference is refused
   before parsing (measured: lxml 6.1 with ``collect_ids=False`` opens an external DTD even with
   ``load_dtd=False``, so parser flags alone are not trusted);
4. lxml is configured with ``resolve_entities=False, no_network=True, load_dtd=False,
   huge_tree=False`` and no XInclude processing, so even a missed declaration reads nothing;
5. after parsing, a document that still carries an internal DTD or entity nodes is refused.

QTI 3.0 renamed elements and attributes to kebab case with a ``qti-`` prefix
(``qti-choice-interaction response-identifier=...``); :func:`qti_name` and :func:`qti_attrs` map
both spellings to the QTI 2 camelCase names, so the rest of the importer reads one vocabulary.

The namespaces Invigil reads and writes (QTI, MathML, IMS content packaging and its own manifest
metadata) are declared here once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from item_bank_sync.items.errors import ItemRejected

#: Largest item XML file accepted (a real item is a few kB; 2 MiB leaves room for inline MathML).
MAX_ITEM_XML_BYTES = 2 * 1024 * 1024
#: Deepest element nesting walked by the importer.
MAX_DEPTH = 64

#: QTI 3.0, the version Invigil writes (item export, form export).
QTI3_NS = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
QTI22_NS = "http://www.imsglobal.org/xsd/imsqti_v2p2"
QTI_NAMESPACES = {
    "http://www.imsglobal.org/xsd/imsqti_v2p1": "2.1",
    "http://www.imsglobal.org/xsd/imsqti_v2p2": "2.2",
    QTI3_NS: "3.0",
}
XML_NS = "http://www.w3.org/XML/1998/namespace"
MATHML_NS = "http://www.w3.org/1998/Math/MathML"
#: QTI 2.2's namespace for HTML5 elements (``qh5:video``, ``qh5:figure``; authors pick any prefix).
HTML5_NS = "http://www.imsglobal.org/xsd/imsqtiv2p2_html5_v1p0"
XHTML_NS = "http://www.w3.org/1999/xhtml"
XINCLUDE_NS = "http://www.w3.org/2001/XInclude"
SSML_NS = "http://www.w3.org/2010/10/synthesis"
#: Foreign namespaces Invigil knows, by URI -> the one prefix used in element names and messages.
#: Decisions never depend on the prefix an author chose: ``<hq5:video>`` and ``<qh5:video>`` are
#: both ``video``, an XInclude element is ``xi:include`` whatever its prefix.
FOREIGN_PREFIXES = {XINCLUDE_NS: "xi", SSML_NS: "ssml"}
#: HTML element namespaces: their elements are HTML elements, named by their local name.
HTML_NAMESPACES = frozenset({HTML5_NS, XHTML_NS})
#: IMS content packaging (``imsmanifest.xml``), which carries QTI items in a zip or a folder.
CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
#: Namespace of the one metadata element Invigil adds to a manifest resource (competency area):
#: written by form export and the synthetic-item generator, read by the importer.
INVIGIL_META_NS = "urn:invigil:item-metadata:1"

_ENCODING_DECL = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._\-]+)["']""")
_KEBAB = re.compile(r"-([a-z0-9])")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           huge_tree=False, dtd_validation=False, remove_comments=True,
                           remove_pis=True)


def check_prolog(data: bytes, source: str, max_bytes: int = MAX_ITEM_XML_BYTES) -> None:
    """Refuse oversized, non-UTF-8 and entity-declaring documents before any parser sees them."""
    if len(data) > max_bytes:
        raise ItemRejected(source, "file", f"is {len(data)} bytes, more than the {max_bytes} allowed")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4]:
        raise ItemRejected(source, "file", "is UTF-16/32 encoded; QTI items must be UTF-8")
    declared = _ENCODING_DECL.match(data.removeprefix(b"\xef\xbb\xbf"))
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8", b"us-ascii", b"ascii"):
        raise ItemRejected(source, "?xml", f"declares encoding {declared.group(1).decode()!r}; only UTF-8 is accepted")
    if b"<!ENTITY" in data:
        raise ItemRejected(source, "!ENTITY", "entity declarations are refused (XXE / entity expansion)")
    doctype = data.find(b"<!DOCTYPE")
    if doctype >= 0:
        end = data.find(b">", doctype)
        declaration = data[doctype:end if end >= 0 else None]
        if b"[" in declaration:
            raise ItemRejected(source, "!DOCTYPE", "an internal DTD subset is refused")
        if b"SYSTEM" in declaration or b"PUBLIC" in declaration:
            raise ItemRejected(source, "!DOCTYPE", "an external DTD reference is refused (it would be a file "
                                                   "or network read)")


def parse_xml(data: bytes, source: str, max_bytes: int = MAX_ITEM_XML_BYTES) -> etree._Element:
    """Parse untrusted XML bytes safely (see module docstring); returns the root element."""
    check_prolog(data, source, max_bytes)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise ItemRejected(source, "xml", f"malformed XML: {exc.msg} (line {exc.lineno})") from None
    tree = root.getroottree()
    dtd = tree.docinfo.internalDTD
    if dtd is not None and (any(True for _ in dtd.iterentities()) or any(True for _ in dtd.iterelements())):
        raise ItemRejected(source, "!DOCTYPE", "DTD declarations are refused")
    for node in root.iter(etree.Entity):
        name = node.name if isinstance(node, etree._Entity) else "?"  # always an _Entity: iter() was told so
        raise ItemRejected(source, f"&{name};", "entity references are refused")
    return root


def namespace(el: etree._Element) -> str:
    return etree.QName(el).namespace or ""


def qti_name(el: etree._Element) -> str:
    """The QTI 2 camelCase name of a QTI element (``qti-simple-choice`` -> ``simpleChoice``).

    Names are decided by namespace URI and local name, never by the prefix in the file:
    HTML elements (QTI 2.2's HTML5 namespace, XHTML) are their local name (``qh5:video`` ->
    ``video``), so a refused element cannot slip through under an unusual prefix. Other
    namespaces get a ``prefix:local`` form that can never collide with a QTI or HTML name
    (``{MathML}mi`` -> ``math:mi``, ``ssml:sub``, ``xi:include``; unknown ones ``ns:local``).
    Only the QTI 3.0 namespace reads kebab-case ``qti-`` names (:func:`check_vocabulary`
    refuses them elsewhere).
    """
    if not isinstance(el.tag, str):
        return ""
    qname = etree.QName(el)
    local, ns = qname.localname, qname.namespace
    if ns in QTI_NAMESPACES or ns is None:
        return _camel(local[4:]) if local.startswith("qti-") and ns == QTI3_NS else local
    if ns in HTML_NAMESPACES:
        return local
    if ns == MATHML_NS:
        return "math" if local == "math" else f"math:{local}"
    return f"{FOREIGN_PREFIXES.get(ns, 'ns')}:{local}"


def check_vocabulary(root: etree._Element, source: str) -> None:
    """Refuse an item that mixes QTI versions or spells QTI 3.0 names under a QTI 2 namespace.

    Such an item is invalid (often on purpose, to test importers); reading ``qti-choice-interaction``
    under ``imsqti_v2p2`` as a choice interaction would accept what its own schema rejects.
    QTI 2 camelCase names under the QTI 3.0 namespace are still read: 1EdTech's own early
    QTI 3.0 samples are written that way and mean exactly what they say.
    """
    root_ns = namespace(root)
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        qname = etree.QName(el)
        if qname.namespace not in QTI_NAMESPACES:
            continue
        if qname.namespace != root_ns:
            raise ItemRejected(source, qname.localname,
                               f"is in the QTI {QTI_NAMESPACES[qname.namespace]} namespace "
                               f"inside a QTI {QTI_NAMESPACES[root_ns]} item: versions may not be mixed")
        if qname.localname.startswith("qti-") and qname.namespace != QTI3_NS:
            raise ItemRejected(source, qname.localname,
                               f"is a QTI 3.0 element name under the QTI {QTI_NAMESPACES[root_ns]} namespace: "
                               "the item is not valid QTI")


def _camel(kebab: str) -> str:
    return _KEBAB.sub(lambda m: m.group(1).upper(), kebab)


def qti_attrs(el: etree._Element) -> dict[str, str]:
    """Attributes with QTI 3 kebab names mapped to QTI 2 camelCase; ``xml:lang`` becomes ``lang``.

    ``data-*`` attributes keep their names (they are HTML's, not QTI's).
    """
    kebab_element = etree.QName(el).localname.startswith("qti-")
    out: dict[str, str] = {}
    for name, value in el.attrib.items():
        qname = etree.QName(name)
        local = qname.localname
        if qname.namespace == XML_NS:
            local = local  # xml:lang, xml:base, xml:space
        elif qname.namespace is not None:
            local = f"ns:{local}"
        elif kebab_element and not local.startswith("data-"):
            local = _camel(local)
        out[local] = value
    return out


def qti_children(el: etree._Element) -> Iterator[etree._Element]:
    """Element children only (comments and processing instructions are removed at parse time)."""
    return (child for child in el if isinstance(child.tag, str))


def qti_version(root: etree._Element, source: str) -> str:
    ns = namespace(root)
    if ns not in QTI_NAMESPACES:
        raise ItemRejected(source, qti_name(root) or "root",
                           f"namespace {ns or '(none)'!r} is not QTI 2.1, 2.2 or 3.0")
    return QTI_NAMESPACES[ns]
