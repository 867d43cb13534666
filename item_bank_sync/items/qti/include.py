"""Content an item pulls in from other files of its package: XInclude fragments and QTI 3.0 shared
stimuli (``qti-assessment-stimulus-ref``).

Why here and not in lxml: lxml's XInclude processor opens whatever ``href`` says (a local file
outside the package, a URL). Here every file is read through the import root's loader, which
only reads relative paths inside the folder or zip being imported (never ``..`` out of it, never
a URL), and parsed with the same safe parser as the item. Inclusion is bounded (depth and count),
so a fragment that includes itself is a refusal, not a hang.

Media paths inside an included file are relative to *that* file; they are rebased onto the
item's folder so the item's media loader finds exactly the file the fragment's author meant.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from lxml import etree

from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.items.qti.xml import XINCLUDE_NS, parse_xml, qti_attrs, qti_children, qti_name

#: Nested inclusion deeper than this is refused (a fragment including itself, or a chain).
MAX_INCLUDE_DEPTH = 4
#: Inclusions per item.
MAX_INCLUDES = 50
#: Attributes holding a path relative to the file they are written in.
PATH_ATTRS = ("src", "data", "href")

FileLoader = Callable[[str, str], bytes]
"""Returns the bytes of a file of the package named relative to the item file; raises ItemRejected."""


def rebase(el: etree._Element, directory: str) -> None:
    """Make relative paths in ``el``'s subtree relative to the item file instead of ``directory``."""
    if not directory:
        return
    for node in el.iter():
        if not isinstance(node.tag, str):
            continue
        for attr in PATH_ATTRS:
            value = node.get(attr)
            if value and ":" not in value.split("/")[0] and not value.startswith(("/", "#")):
                node.set(attr, posixpath.normpath(posixpath.join(directory, value)))


class Includer:
    """Resolves ``xi:include`` elements of one item in place, through the package loader."""

    def __init__(self, load: FileLoader, source: str, warnings: list[str]) -> None:
        self.load = load
        self.source = source
        self.warnings = warnings
        self.count = 0

    def resolve(self, root: etree._Element, depth: int = 0) -> None:
        """Replace every ``xi:include`` under ``root`` (paths already relative to the item file)."""
        for inc in list(root.iter(f"{{{XINCLUDE_NS}}}include")):
            self._replace(inc, depth)

    def _replace(self, inc: etree._Element, depth: int) -> None:
        a = dict(inc.attrib.items())
        href = a.get("href", "")
        where = f"xi:include[{href}]"
        if depth >= MAX_INCLUDE_DEPTH:
            raise ItemRejected(self.source, where, f"inclusion nested deeper than {MAX_INCLUDE_DEPTH} (a cycle?)")
        self.count += 1
        if self.count > MAX_INCLUDES:
            raise ItemRejected(self.source, where, f"more than {MAX_INCLUDES} inclusions in one item")
        if not href or "xpointer" in a:
            raise ItemRejected(self.source, where, "only whole files are included (an href without xpointer)")
        parse = a.get("parse", "xml")
        rel = href
        data = self.load(rel, where)
        parent = inc.getparent()
        if parent is None:
            raise ItemRejected(self.source, where, "cannot be the document element")
        if parse == "text":
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise ItemRejected(self.source, where, "included text is not UTF-8") from None
            _replace_with(inc, text, [])
            return
        if parse != "xml":
            raise ItemRejected(self.source, where, f"parse={parse!r} is not xml or text")
        included = parse_xml(data, f"{self.source} ({rel})")
        rebase(included, posixpath.dirname(rel))
        self.resolve(included, depth + 1)
        _replace_with(inc, None, [included])
        self.warnings.append(f"{where}: included from the package")


def _replace_with(inc: etree._Element, text: str | None, nodes: list[etree._Element]) -> None:
    """Put ``text`` or ``nodes`` where ``inc`` stands, keeping its tail."""
    parent = inc.getparent()
    if parent is None:  # includes are searched below the item's root element
        raise ValueError("an include at the document root cannot be replaced")
    tail = inc.tail or ""
    index = parent.index(inc)
    parent.remove(inc)
    if text is not None:
        text = text + tail
        if index == 0:
            parent.text = (parent.text or "") + text
        else:
            prev = parent[index - 1]
            prev.tail = (prev.tail or "") + text
        return
    for offset, node in enumerate(nodes):
        node.tail = None
        parent.insert(index + offset, node)
    if nodes:
        nodes[-1].tail = tail


def stimulus_body(ref: etree._Element, load: FileLoader, source: str, warnings: list[str]) -> etree._Element:
    """The ``qti-stimulus-body`` of the stimulus a ``qti-assessment-stimulus-ref`` points at.

    The returned element's media paths are rebased onto the item's folder. A stimulus that
    cannot be found or read refuses the item: an item whose passage is missing asks the
    candidate about text they cannot see.
    """
    a = qti_attrs(ref)
    href, ident = a.get("href", ""), a.get("identifier", "?")
    where = f"assessmentStimulusRef[{ident}]"
    if not href:
        raise ItemRejected(source, where, "has no href")
    data = load(href, where)
    stimulus = parse_xml(data, f"{source} ({href})")
    if qti_name(stimulus) != "assessmentStimulus":
        raise ItemRejected(source, where, f"{href!r} is not a qti-assessment-stimulus")
    rebase(stimulus, posixpath.dirname(href))
    Includer(load, source, warnings).resolve(stimulus)
    bodies = [c for c in qti_children(stimulus) if qti_name(c) == "stimulusBody"]
    if len(bodies) != 1:
        raise ItemRejected(source, where, f"{href!r} needs exactly one qti-stimulus-body")
    for child in qti_children(stimulus):
        name = qti_name(child)
        if name not in ("stimulusBody", "stylesheet", "catalogInfo"):
            raise ItemRejected(source, f"{where}/{name}", "is not supported in a shared stimulus")
        if name != "stimulusBody":
            warnings.append(f"{where}/{name}: removed (styles and catalogs are not delivered)")
    warnings.append(f"{where}: shared stimulus {href!r} is shown before the item body")
    return bodies[0]
