"""Find items in the paths given to ``import``: files, folders, and IMS content packages (.zip).

Each source yields one outcome: a :class:`ParsedItem` or an :class:`ItemRejected` with the
reason. Media references are resolved inside the *import root* only (the folder given, the item
file's folder, or the zip), never through ``..`` out of it, never by URL: an item cannot make the
importer read a file its author did not ship with it.

Zip files are read through ``exam_core.safezip`` (the reader form packages use): the end record,
member count, sizes, compression method and ratio (zip bombs), encryption and other flags, and
names that are absolute or climb out with ``..`` are checked before any member is read, and each
member's size and CRC again while it is read. A zip that fails is one rejection naming why; a
member that turns out corrupt rejects the item that needed it. Names are read as zip tools write
them (spaces, any depth, directory entries), which is wider than a form package's names.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote
from collections.abc import Callable, Iterator

from lxml import etree

from exam_core.errors import MalformedError, TooLargeError
from exam_core.limits import MIB
from exam_core.model import IDENTIFIER_RE
from exam_core.safezip import ZipPolicy, ZipReader, open_zip
from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.items.qti.families import parse_item
from item_bank_sync.items.qti.reader import ParsedItem
from item_bank_sync.items.qti.xml import INVIGIL_META_NS, parse_xml
from item_bank_sync.items.yaml_items import parse_yaml_item

#: Largest file read for an item: an item file, or a media file it references (folder or zip).
MAX_FILE_BYTES = 20 * MIB
#: Path segments of a zip member: no control characters or backslashes; no drive (``C:``) first.
_SEGMENT = r"[^/\\\x00-\x1f\x7f]+"
ZIP_POLICY = ZipPolicy(max_members=20_000, max_member_bytes=MAX_FILE_BYTES, max_total_bytes=1024 * MIB,
                       name_pattern=re.compile(rf"(?![^/]*:){_SEGMENT}(/{_SEGMENT})*"),
                       skip_directories=True)
MANIFEST = "imsmanifest.xml"
ITEM_RESOURCE_TYPES = ("imsqti_item_xmlv2p1", "imsqti_item_xmlv2p2", "imsqti_item_xmlv3p0")


#: A namespace prefixes every imported identifier (``tao`` + ``choice`` -> ``tao.choice``): no dots,
#: so the stored identifier splits back into namespace and the author's identifier one way only.
NAMESPACE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,31}$")


@dataclass
class ImportOptions:
    area: str | None = None
    assume_match_correct: bool = False
    #: Source namespace (``--namespace``): keeps the identifiers of one source apart from another's.
    namespace: str = ""

    def __post_init__(self) -> None:
        if self.namespace and not NAMESPACE_RE.match(self.namespace):
            raise ValueError(f"namespace {self.namespace!r} must be letters, digits, _ or - (at most 32, "
                             "starting with a letter or _)")


Outcome = ParsedItem | ItemRejected


class _Root:
    """Reads files relative to an import root (a folder or an open zip)."""

    def __init__(self, label: str, read: Callable[[str], bytes], exists: Callable[[str], bool],
                 key_prefix: str = "") -> None:
        self.label = label
        self._read = read
        self._exists = exists
        #: How files of this root are named in the bank's source keys: ``folder/`` or ``package.zip!``.
        self.key_prefix = key_prefix or f"{Path(label).name}/"

    def read(self, rel: str) -> bytes:
        return self._read(rel)

    def media_loader(self, item_rel: str, source: str) -> Callable[[str, str], bytes]:
        base = posixpath.dirname(item_rel)

        def inside(path: str, src: str, element: str) -> str:
            if ":" in path.split("/")[0] or path.startswith(("/", "\\")) or "\\" in path or any(
                    ord(c) < 0x20 or c == "\x7f" for c in path):
                raise ItemRejected(source, element, f"{src[:120]!r} is not a relative path inside the package "
                                                    "(URLs and absolute paths are refused)")
            rel = posixpath.normpath(posixpath.join(base, path))
            if rel.startswith("../") or rel == "..":
                raise ItemRejected(source, element, f"{src[:120]!r} lies outside the import root")
            return rel

        def load(src: str, element: str) -> bytes:
            # src is a URI reference: tools write "my%20map.png" for "my map.png" (decoded, then
            # checked again, so %2e%2e/ cannot climb out); one that wrote the name raw still works
            written = src.split("#")[0].split("?")[0]
            for path in dict.fromkeys((unquote(written), written)):
                rel = inside(path, src, element)
                if self._exists(rel):
                    return self._read(rel)
            raise ItemRejected(source, element, f"file {src[:120]!r} not found in the package")
        return load


def iter_sources(paths: list[Path], options: ImportOptions) -> Iterator[Outcome]:
    """Every item found under ``paths``, parsed or rejected, in a stable order."""
    for path in paths:
        if path.is_dir():
            yield from _folder(path, options)
        elif path.suffix.lower() == ".zip":
            yield from _zip(path, options)
        elif path.is_file():
            root = _folder_root(path.parent)
            yield _parse(root, path.name, str(path), options)
        else:
            yield ItemRejected(str(path), "file", "does not exist")


def count_sources(paths: list[Path]) -> int:
    """A quick count for the progress bar (zip members are counted when the zip is opened)."""
    total = 0
    for path in paths:
        if path.is_dir():
            total += sum(1 for p in path.rglob("*") if _is_item_file(p.name))
        else:
            total += 1
    return total


def _is_item_file(name: str) -> bool:
    lower = name.lower()
    return lower.endswith((".xml", ".yaml", ".yml")) and lower != MANIFEST


def _folder_root(folder: Path) -> _Root:
    folder = folder.resolve()

    def inside(rel: str) -> Path:
        target = (folder / rel).resolve()
        if folder not in target.parents and target != folder:
            raise ItemRejected(str(folder / rel), "file", "lies outside the import root (symlink?)")
        return target

    return _Root(str(folder), lambda rel: _read_limited(inside(rel)), lambda rel: inside(rel).is_file())


def _read_limited(path: Path) -> bytes:
    with path.open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ItemRejected(str(path), "file", f"is larger than {MAX_FILE_BYTES} bytes")
    return data


def _folder(folder: Path, options: ImportOptions) -> Iterator[Outcome]:
    root = _folder_root(folder)
    if (folder / MANIFEST).is_file():
        yield from _manifest_items(root, str(folder), options)
        return
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and _is_item_file(p.name)):
        rel = path.relative_to(folder).as_posix()
        yield _parse(root, rel, str(path), options)


def _parse(root: _Root, rel: str, source: str, options: ImportOptions, area: str | None = None) -> Outcome:
    try:
        data = root.read(rel)
        loader = root.media_loader(rel, source)
        if rel.lower().endswith((".yaml", ".yml")):
            parsed = parse_yaml_item(data, source, loader)
        else:
            parsed = parse_item(data, source, loader, area=area or options.area,
                                assume_match_correct=options.assume_match_correct)
        return _provenance(parsed, options.namespace, root.key_prefix + rel)
    except ItemRejected as exc:
        return exc
    except OSError as exc:
        return ItemRejected(source, "file", f"cannot be read: {exc.strerror or exc}")


def _provenance(parsed: ParsedItem, namespace: str, source_key: str) -> ParsedItem:
    """Record where the item came from; under a namespace its identifier becomes ``NS.ID``."""
    parsed.namespace, parsed.source_key = namespace, source_key
    if not namespace:
        return parsed
    item_id = f"{namespace}.{parsed.item.item_id}"
    if not IDENTIFIER_RE.match(item_id):
        raise ItemRejected(parsed.source, "assessmentItem", f"identifier {item_id!r} (with the namespace) is "
                                                            "longer than 128 characters")
    parsed.item = dataclasses.replace(parsed.item, item_id=item_id)
    parsed.key = dataclasses.replace(parsed.key, item_id=item_id)
    return parsed


def _zip(path: Path, options: ImportOptions) -> Iterator[Outcome]:
    try:
        handle = path.open("rb")
    except OSError as exc:
        yield ItemRejected(str(path), "zip", f"is not a readable zip file: {exc.strerror or exc}")
        return
    with handle:
        try:
            reader = open_zip(handle, ZIP_POLICY)
        except (MalformedError, TooLargeError) as exc:
            yield _zip_refusal(str(path), exc)
            return
        with reader:
            try:
                members = _normalised_members(reader, str(path))
            except ItemRejected as exc:
                yield exc
                return
            if MANIFEST not in members:
                yield ItemRejected(str(path), MANIFEST,
                                   "missing: a content package must hold imsmanifest.xml at its root")
                return
            root = _Root(str(path), _member_reader(reader, members, str(path)), lambda rel: rel in members,
                         key_prefix=f"{path.name}!")
            yield from _manifest_items(root, str(path), options)


def _zip_refusal(source: str, exc: MalformedError | TooLargeError) -> ItemRejected:
    """What ``exam_core.safezip`` refused, as one rejection of the whole zip."""
    problem = f"is too large: {exc}" if isinstance(exc, TooLargeError) else f"is not a readable zip file: {exc}"
    return ItemRejected(source, "zip", problem)


def _normalised_members(reader: ZipReader, source: str) -> dict[str, str]:
    """Member names as a manifest refers to them (``./a/b`` is ``a/b``) -> name in the zip."""
    members: dict[str, str] = {}
    for name in reader.names:
        norm = posixpath.normpath(name)
        if norm in members:
            raise ItemRejected(source, name, "appears twice in the zip")
        members[norm] = name
    return members


def _member_reader(reader: ZipReader, members: dict[str, str], source: str) -> Callable[[str], bytes]:
    """Reads one member for an item; a corrupt one (bad CRC, short, inflating past its declared
    size) rejects the item that needed it, naming the member."""

    def read(rel: str) -> bytes:
        try:
            return reader.read(members[rel])
        except (MalformedError, TooLargeError) as exc:
            raise ItemRejected(source, rel, f"cannot be read from the zip: {exc}") from None
    return read


def _manifest_items(root: _Root, label: str, options: ImportOptions) -> Iterator[Outcome]:
    source = f"{label}!{MANIFEST}"
    try:
        manifest = parse_xml(root.read(MANIFEST), source)
    except ItemRejected as exc:
        yield exc
        return
    found = False
    for resource in manifest.iter("{*}resource"):
        kind = resource.get("type", "")
        href = resource.get("href", "")
        if not kind.startswith(ITEM_RESOURCE_TYPES):
            continue
        found = True
        area = _area_metadata(resource)
        rel = posixpath.normpath(href)
        if not href or rel.startswith("../") or href.startswith("/"):
            yield ItemRejected(source, f"resource[{resource.get('identifier', '?')}]",
                               f"href {href!r} is not inside the package")
            continue
        yield _parse(root, rel, f"{label}!{rel}", options, area=area)
    if not found:
        yield ItemRejected(source, "resources", "lists no QTI item resource (imsqti_item_xmlv2p1/v2p2/v3p0)")


def _area_metadata(resource: etree._Element) -> str | None:
    for el in resource.iter(f"{{{INVIGIL_META_NS}}}item"):
        return el.get("competency-area") or None
    return None
