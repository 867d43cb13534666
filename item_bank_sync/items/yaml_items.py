"""The native YAML item format (documented in docs/ITEM-FORMATS.md).

A YAML item is a friendlier spelling of a QTI item. It is read into model records *without*
trusting them, written as QTI 3.0 by :mod:`item_bank_sync.items.qti.writer`, and that XML is read back
by the QTI importer, so a YAML item passes exactly the checks a QTI item passes (declared
responses, options, cardinality, sanitised HTML, media) and cannot take a shortcut around them.
"""

from __future__ import annotations

from typing import Any

from exam_core.model import (AnswerKey, AreaMapEntry, Choice, Hotspot, Interaction, Item,
                             ResponseKey)
from item_bank_sync.items.errors import ItemRejected
from item_bank_sync.items.media import media_ref
from item_bank_sync.items.qti.writer import item_to_qti
from item_bank_sync.items.qti.reader import MediaLoader, ParsedItem, parse_qti_item
from item_bank_sync.items.yaml_safe import load_yaml

FORMAT = "invigil-item/1"
ITEM_FIELDS = {"format", "id", "title", "language", "area", "body", "interactions"}
INTERACTION_FIELDS = {"type", "response", "cardinality", "base_type", "prompt", "shuffle", "min_choices",
                      "max_choices", "choices", "targets", "content", "hotspots", "image", "expected_length",
                      "expected_lines", "pattern_mask", "scoring"}
SCORING_FIELDS = {"template", "correct", "mapping", "area_mapping", "default_value", "lower_bound",
                  "upper_bound", "case_sensitive", "max_score"}
#: type -> (cardinality, base type) used when the YAML leaves them out
DEFAULT_SHAPE = {
    "choice": ("single", "identifier"), "inline_choice": ("single", "identifier"),
    "text_entry": ("single", "string"), "extended_text": ("single", "string"),
    "order": ("ordered", "identifier"), "match": ("multiple", "directedPair"),
    "associate": ("multiple", "pair"), "gap_match": ("multiple", "directedPair"),
    "hottext": ("single", "identifier"), "hotspot": ("single", "identifier"),
    "select_point": ("single", "point"),
}


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> ItemRejected:
        return ItemRejected(self.source, where, problem)

    def mapping(self, value: Any, where: str, allowed: set[str], required: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "must be a mapping")
        unknown = sorted(set(map(str, value)) - allowed)
        if unknown:
            raise self.fail(f"{where}.{unknown[0]}", "is not a known field")
        missing = sorted(required - set(value))
        if missing:
            raise self.fail(f"{where}.{missing[0]}", "is required")
        return value

    def typed(self, data: dict, name: str, kind: type | tuple, where: str, default: Any = None) -> Any:
        value = data.get(name, default)
        if value is default:
            return value
        if isinstance(value, bool) and kind in (int, float, (int, float)):
            raise self.fail(f"{where}.{name}", "must be a number")
        if not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self.fail(f"{where}.{name}", f"must be {names}")
        return value


def parse_yaml_item(data: bytes, source: str, load_media: MediaLoader) -> ParsedItem:
    """Read a YAML item and return it exactly as the QTI importer reads its QTI 3.0 form."""
    reader = _Reader(source)
    doc = reader.mapping(load_yaml(data, source), "item", ITEM_FIELDS, {"format", "id", "title", "interactions"})
    if doc["format"] != FORMAT:
        raise reader.fail("item.format", f"must be {FORMAT!r}")
    images: dict[str, str] = {}
    interactions, keys = [], []
    raw_list = reader.typed(doc, "interactions", list, "item")
    for index, raw in enumerate(raw_list):
        inter, key = _interaction(reader, raw, f"interactions[{index}]", load_media, images)
        interactions.append(inter)
        keys.append(key)
    body = reader.typed(doc, "body", str, "item", "")
    item = Item(item_id=str(doc["id"]), version=1, title=str(doc["title"]), body_html=body,
                interactions=tuple(interactions), language=str(doc.get("language", "en")))
    xml = item_to_qti(item, AnswerKey(item.item_id, 1, tuple(keys)),
                      lambda src: images.get(src, src), source)
    parsed = parse_qti_item(xml, source, load_media, area=_area(reader, doc))
    parsed.source_format = "yaml"
    return parsed


def _area(reader: _Reader, doc: dict) -> str | None:
    area = reader.typed(doc, "area", str, "item")
    return area or None


def _interaction(reader: _Reader, raw: Any, where: str, load_media: MediaLoader,
                 images: dict[str, str]) -> tuple[Interaction, ResponseKey]:
    d = reader.mapping(raw, where, INTERACTION_FIELDS, {"type", "response"})
    kind = d["type"]
    if kind not in DEFAULT_SHAPE:
        raise reader.fail(f"{where}.type", f"must be one of {', '.join(DEFAULT_SHAPE)}")
    card, base = DEFAULT_SHAPE[kind]
    card = reader.typed(d, "cardinality", str, where, card)
    base = reader.typed(d, "base_type", str, where, base)
    image = None
    if kind in ("hotspot", "select_point"):
        path = reader.typed(d, "image", str, where)
        if not path:
            raise reader.fail(f"{where}.image", "is required for this type")
        image = media_ref(load_media(path, f"{where}.image"), path, reader.source, f"{where}.image")
        images[f"media:{image.sha256}"] = path
    choices = _choices(reader, d.get("choices", []), f"{where}.choices")
    limits = {"single": 1}.get(card, 0)
    inter = Interaction(
        type="hotspot" if kind == "select_point" else kind, response_id=str(d["response"]),
        cardinality=card, base_type=base, prompt_html=reader.typed(d, "prompt", str, where, ""),
        content_html=reader.typed(d, "content", str, where, ""), choices=choices,
        targets=_choices(reader, d.get("targets", []), f"{where}.targets"),
        hotspots=tuple(_hotspot(reader, h, f"{where}.hotspots[{i}]")
                       for i, h in enumerate(reader.typed(d, "hotspots", list, where, []))),
        image=image, shuffle=bool(reader.typed(d, "shuffle", bool, where, False)),
        min_choices=reader.typed(d, "min_choices", int, where, len(choices) if kind == "order" else 0),
        max_choices=reader.typed(d, "max_choices", int, where, len(choices) if kind == "order" else limits),
        expected_length=reader.typed(d, "expected_length", int, where),
        expected_lines=reader.typed(d, "expected_lines", int, where),
        pattern_mask=reader.typed(d, "pattern_mask", str, where))
    return inter, _scoring(reader, d.get("scoring"), f"{where}.scoring", inter)


def _choices(reader: _Reader, raw: Any, where: str) -> tuple[Choice, ...]:
    if not isinstance(raw, list):
        raise reader.fail(where, "must be a list")
    out = []
    for i, c in enumerate(raw):
        c = reader.mapping(c, f"{where}[{i}]", {"id", "html", "fixed", "match_max"}, {"id"})
        out.append(Choice(id=str(c["id"]), html=reader.typed(c, "html", str, f"{where}[{i}]", ""),
                          fixed=reader.typed(c, "fixed", bool, f"{where}[{i}]", False),
                          match_max=reader.typed(c, "match_max", int, f"{where}[{i}]", 1)))
    return tuple(out)


def _hotspot(reader: _Reader, raw: Any, where: str) -> Hotspot:
    h = reader.mapping(raw, where, {"id", "shape", "coords", "label"}, {"id", "shape", "coords"})
    return Hotspot(id=str(h["id"]), shape=str(h["shape"]), coords=tuple(_numbers(reader, h["coords"], where)),
                   label=reader.typed(h, "label", str, where, ""))


def _numbers(reader: _Reader, raw: Any, where: str) -> list[float]:
    if not isinstance(raw, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw):
        raise reader.fail(f"{where}.coords", "must be a list of numbers")
    return [float(v) for v in raw]


def _scoring(reader: _Reader, raw: Any, where: str, inter: Interaction) -> ResponseKey:
    if raw is None:
        if inter.type == "extended_text":
            return ResponseKey(inter.response_id, inter.cardinality, inter.base_type, "human")
        raise reader.fail(where, "is required (how is this response scored?)")
    s = reader.mapping(raw, where, SCORING_FIELDS, {"template"})

    def number(name: str) -> float | None:
        return None if s.get(name) is None else float(reader.typed(s, name, (int, float), where))

    mapping = reader.typed(s, "mapping", dict, where, {})
    areas = [reader.mapping(a, f"{where}.area_mapping[{i}]", {"shape", "coords", "value"}, {"shape", "coords", "value"})
             for i, a in enumerate(reader.typed(s, "area_mapping", list, where, []))]
    return ResponseKey(
        response_id=inter.response_id, cardinality=inter.cardinality, base_type=inter.base_type,
        template=str(s["template"]), correct=s.get("correct"),
        mapping={str(k): float(v) for k, v in mapping.items() if _is_number(reader, v, f"{where}.mapping.{k}")},
        default_value=number("default_value") or 0.0, lower_bound=number("lower_bound"),
        upper_bound=number("upper_bound"),
        area_mapping=tuple(AreaMapEntry(shape=str(a["shape"]), coords=tuple(_numbers(reader, a["coords"], where)),
                                        value=float(a["value"])) for a in areas),
        case_sensitive=reader.typed(s, "case_sensitive", bool, where, True),
        max_score=number("max_score") or 1.0)


def _is_number(reader: _Reader, value: Any, where: str) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise reader.fail(where, "must be a number")
    return True


