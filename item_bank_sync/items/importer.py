"""Find items in the paths given to ``import``: files, folders, and IMS content packages (.zip).

Each source yields one outcome: a :class:`ParsedItem` or an :class:`ItemRejected` with the
reason. Media references are resolved inside the *import root* only (the folder given, the item
file's folder, or the zip), never through ``..`` out of it, never by URL: an item cannot make the
importer read a file its author did not ship with it.

Zip files are read with limits on member count, sizes and compression ratio (zip bombs), and
members with absolute paths or ``..`` are refused.
"""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from lxml import etree

from item_bank_sync.import_errors import ItemRejected
from item_bank_sync.qti_import import ParsedItem, parse_qti_item
from item_bank_sync.qti_xml import parse_xml
from item_bank_sync.yaml_items import parse_yaml_item

ZIP_MAX_MEMBERS = 20_000
ZIP_MAX_MEMBER_BYTES = 20 * 1024 * 1024
ZIP_MAX_TOTAL_BYTES = 1024 * 1024 * 1024
ZIP_MAX_RATIO = 200
MANIFEST = "imsmanifest.xml"
ITEM_RESOURCE_TYPES = ("imsqti_item_xmlv2p1", "imsqti_item_xmlv2p2", "imsqti_item_xmlv3p0")
#: Namespace of the one metadata element Invigil adds to a manifest resource (competency area).
INVIGIL_META_NS = "urn:invigil:item-metadata:1"


@dataclass
class ImportOptions:
    area: str | None = None
    assume_match_correct: bool = False


Outcome = ParsedItem | ItemRejected


class _Root:
    """Reads files relative to an import root (a folder or an open zip)."""

    def __init__(self, label: str, read: Callable[[str], bytes], exists: Callable[[str], bool]) -> None:
        self.label = label
        self._read = read
        self._exists = exists

    def read(self, rel: str) -> bytes:
        return self._read(rel)

    def media_loader(self, item_rel: str, source: str) -> Callable[[str, str], bytes]:
        base = posixpath.dirname(item_rel)

        def load(src: str, element: str) -> bytes:
            if ":" in src.split("/")[0] or src.startswith(("/", "\\")) or "\\" in src:
                raise ItemRejected(source, element, f"media {src!r} is not a relative path inside the package "
                                                    "(URLs and absolute paths are refused)")
            rel = posixpath.normpath(posixpath.join(base, src.split("#")[0].split("?")[0]))
            if rel.startswith("../") or rel == "..":
                raise ItemRejected(source, element, f"media {src!r} lies outside the import root")
            if not self._exists(rel):
                raise ItemRejected(source, element, f"media {src!r} not found")
            return self._read(rel)
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
        data = handle.read(ZIP_MAX_MEMBER_BYTES + 1)
    if len(data) > ZIP_MAX_MEMBER_BYTES:
        raise ItemRejected(str(path), "file", f"is larger than {ZIP_MAX_MEMBER_BYTES} bytes")
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
            return parse_yaml_item(data, source, loader)
        return parse_qti_item(data, source, loader, area=area or options.area,
                              assume_match_correct=options.assume_match_correct)
    except ItemRejected as exc:
        return exc
    except OSError as exc:
        return ItemRejected(source, "file", f"cannot be read: {exc.strerror or exc}")


def _zip(path: Path, options: ImportOptions) -> Iterator[Outcome]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        yield ItemRejected(str(path), "zip", f"is not a readable zip file: {exc}")
        return
    with archive:
        try:
            members = _checked_members(archive, str(path))
        except ItemRejected as exc:
            yield exc
            return
        root = _Root(str(path), lambda rel: archive.read(members[rel]), lambda rel: rel in members)
        if MANIFEST not in members:
            yield ItemRejected(str(path), MANIFEST, "missing: a content package must hold imsmanifest.xml at its root")
            return
        yield from _manifest_items(root, str(path), options)


def _checked_members(archive: zipfile.ZipFile, source: str) -> dict[str, zipfile.ZipInfo]:
    infos = archive.infolist()
    if len(infos) > ZIP_MAX_MEMBERS:
        raise ItemRejected(source, "zip", f"holds {len(infos)} members, more than {ZIP_MAX_MEMBERS}")
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        if info.is_dir():
            continue
        name = info.filename
        norm = posixpath.normpath(name)
        if name.startswith("/") or norm.startswith("../") or "\\" in name or ":" in name.split("/")[0]:
            raise ItemRejected(source, name, "zip member path is absolute or escapes the package")
        if info.file_size > ZIP_MAX_MEMBER_BYTES:
            raise ItemRejected(source, name, f"is {info.file_size} bytes uncompressed, more than {ZIP_MAX_MEMBER_BYTES}")
        if info.compress_size and info.file_size / info.compress_size > ZIP_MAX_RATIO:
            raise ItemRejected(source, name, "compression ratio is implausibly high (zip bomb?)")
        total += info.file_size
        if total > ZIP_MAX_TOTAL_BYTES:
            raise ItemRejected(source, "zip", f"uncompressed size exceeds {ZIP_MAX_TOTAL_BYTES} bytes")
        if norm in members:
            raise ItemRejected(source, name, "appears twice in the zip")
        members[norm] = info
    return members


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
            yield ItemRejected(source, f"resource[{resource.get('identifier', '?')}]", f"href {href!r} is not inside the package")
            continue
        yield _parse(root, rel, f"{label}!{rel}", options, area=area)
    if not found:
        yield ItemRejected(source, "resources", "lists no QTI item resource (imsqti_item_xmlv2p1/v2p2/v3p0)")


def _area_metadata(resource: etree._Element) -> str | None:
    for el in resource.iter(f"{{{INVIGIL_META_NS}}}item"):
        return el.get("competency-area") or None
    return None
