"""What the candidate's page receives for one item: sanitised HTML and options in candidate order.

Shared by the kiosk (which delivers items) and the central body's staff pages (which preview an
item exactly as a candidate will see it), so both run the same sanitiser; the page scripts and
stylesheet that render this view live beside it in ``exam_core/static/candidate``.

Why the server prepares this instead of the page: the page is the least trusted part of the kiosk
(it runs whatever HTML an item carries), so item HTML is re-sanitised here against the model's
tag list even though the central body sanitised it at import, and option order is decided here,
from the attempt's ``option_seed``, so it is the same after a reload or a crash and can be recorded
in the sealed envelope for scoring disputes.
"""

from __future__ import annotations

import hashlib
import random
import re
from typing import Any
from collections.abc import Callable

from pathlib import Path

import lxml.html
from lxml import etree

from exam_core.model import (ALLOWED_BODY_TAGS, MATH_ATTRS, MATHML_TAGS, SHA256_RE, Choice, Interaction, Item,
                             MediaPlayer, MediaRef)

#: The candidate page's renderers and stylesheet, served by the kiosk at ``/static/NAME`` and by the
#: staff preview: one copy, so a preview is drawn by exactly the code a candidate's page runs.
CANDIDATE_STATIC = Path(__file__).parent / "static" / "candidate"
CANDIDATE_FILES = ("renderers.js", "dom.js", "kiosk.css")

ImageSize = Callable[[MediaRef], "tuple[int, int] | None"]

SHUFFLED_LISTS = ("choices", "targets")
_DROP_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "embed", "form", "template",
                                "noscript", "svg", "link", "meta", "base", "frame", "frameset"})
_ALLOWED_ATTRS = frozenset({"alt", "title", "colspan", "rowspan", "scope", "headers", "lang", "dir",
                            "width", "height", "abbr", "data-interaction", "data-hottext", "data-gap",
                            "data-player"})
_MEDIA_SRC = re.compile(r"^media:([0-9a-f]{64})$")


def _seeded_rng(option_seed: int, *parts: str) -> random.Random:
    material = ":".join([str(option_seed), *parts]).encode()
    # S311: the order must be the same on every resume (seeded); it protects no secret
    return random.Random(int.from_bytes(hashlib.sha256(material).digest()[:8], "big"))  # noqa: S311


def shuffled(choices: tuple[Choice, ...], option_seed: int, item_id: str, list_id: str) -> list[Choice]:
    """Candidate order: non-fixed choices shuffled among their own positions, fixed ones stay put.

    Deterministic in (seed, item, list) so a reload, a crash or a re-computation at the central
    body gives the same order.
    """
    movable = [c for c in choices if not c.fixed]
    _seeded_rng(option_seed, item_id, list_id).shuffle(movable)
    it = iter(movable)
    return [c if c.fixed else next(it) for c in choices]


def option_order(interaction: Interaction, option_seed: int, item_id: str) -> dict[str, list[str]]:
    """The order each list of an interaction is shown in (ids), as recorded in the envelope."""
    out: dict[str, list[str]] = {}
    for name in SHUFFLED_LISTS:
        values: tuple[Choice, ...] = getattr(interaction, name)
        if not values:
            continue
        if interaction.shuffle:
            values = tuple(shuffled(values, option_seed, item_id, f"{interaction.response_id}.{name}"))
        out[name] = [c.id for c in values]
    return out


def _clean_attributes(element: Any, tag: str, in_math: bool = False) -> None:
    src = element.get("src")
    allowed = _ALLOWED_ATTRS | MATH_ATTRS if in_math or tag == "math" else _ALLOWED_ATTRS
    for name in list(element.attrib):
        if name.lower() not in allowed:
            del element.attrib[name]
    if tag == "img":
        match = _MEDIA_SRC.match(src or "")
        if match is None:
            element.drop_tree()
            return
        element.set("src", f"/media/{match.group(1)}")
        element.set("alt", element.get("alt", ""))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _serialise(root: Any) -> str:
    return _escape(root.text or "") + "".join(
        etree.tostring(child, encoding="unicode", method="html") for child in root)


def clean(fragment: str) -> str:
    """Keep only the model's tags and a short list of attributes; media refs become local URLs.

    Everything else is removed: unknown tags are unwrapped (their text stays), scripting tags are
    dropped with their content, ``on*``/``style``/``href`` attributes go, and an image whose
    source is not ``media:SHA256`` is removed. MathML elements stay inside ``<math>`` only: without
    its ``mi``/``mn``/``mo`` a formula would show as nothing at all.
    """
    if not fragment.strip():
        return ""
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    for element in list(root.iter()):
        if element is root:
            continue
        if not isinstance(element.tag, str):
            element.drop_tree()
            continue
        tag = element.tag.lower()
        in_math = tag in MATHML_TAGS and any(a.tag == "math" for a in element.iterancestors())
        if tag in _DROP_WITH_CONTENT:
            element.drop_tree()
        elif tag not in ALLOWED_BODY_TAGS and not in_math:
            element.drop_tag()
        else:
            _clean_attributes(element, tag, in_math)
    return _serialise(root)


def _choice_view(choice: Choice) -> dict[str, Any]:
    return {"id": choice.id, "html": clean(choice.html), "match_max": choice.match_max}


def interaction_view(interaction: Interaction, option_seed: int, item_id: str,
                     image_size: ImageSize = lambda ref: None) -> dict[str, Any]:
    """One interaction as the page renders it; lists in the candidate's order.

    ``image_size(ref)`` gives the pixel space the server checks points against
    (:meth:`kiosk.content.FormBundle.image_size`); the page draws the image at that size.
    """
    order = option_order(interaction, option_seed, item_id)
    by_id = {c.id: c for c in interaction.choices + interaction.targets}
    view: dict[str, Any] = {
        "type": interaction.type, "response_id": interaction.response_id,
        "cardinality": interaction.cardinality, "base_type": interaction.base_type,
        "prompt_html": clean(interaction.prompt_html), "content_html": clean(interaction.content_html),
        "min_choices": interaction.min_choices, "max_choices": interaction.max_choices,
        "expected_length": interaction.expected_length, "expected_lines": interaction.expected_lines,
        "choices": [_choice_view(by_id[i]) for i in order.get("choices", [])],
        "targets": [_choice_view(by_id[i]) for i in order.get("targets", [])],
        "hotspots": [{"id": h.id, "shape": h.shape, "coords": list(h.coords), "label": h.label,
                      "match_max": h.match_max}
                     for h in interaction.hotspots],
        "image": None,
        "slider": interaction.slider.to_dict() if interaction.slider is not None else None,
        "player": _player_view(interaction),
    }
    image = interaction.image
    if image is not None and SHA256_RE.match(image.sha256):
        width, height = image_size(image) or (image.width, image.height)
        view["image"] = {"src": f"/media/{image.sha256}", "width": width, "height": height,
                         "alt": image.alt}  # the page names a picture without text by its task, never its file
    return view


def _player_view(interaction: Interaction) -> dict[str, Any] | None:
    """A media interaction's player as the page plays it (:func:`player_view`)."""
    return None if interaction.player is None else player_view(interaction.player)


def player_view(player: MediaPlayer) -> dict[str, Any] | None:
    """A recording's file (as a local URL the page fetches), its play limits and its caption
    tracks (each a local URL, named for the page's caption list); None when it cannot be fetched."""
    if not SHA256_RE.match(player.media.sha256):
        return None
    media = player.media
    return {"src": f"/media/{media.sha256}", "video": media.mime.startswith("video/"),
            "alt": media.alt, "width": media.width, "height": media.height,
            "min_plays": player.min_plays, "max_plays": player.max_plays, "loop": player.loop,
            "tracks": [{"src": f"/media/{t.media.sha256}", "kind": t.kind, "srclang": t.srclang,
                        "label": t.label or t.srclang or t.kind.capitalize(), "default": t.default}
                       for t in player.tracks if SHA256_RE.match(t.media.sha256)]}


def item_view(item: Item, option_seed: int, image_size: ImageSize = lambda ref: None) -> dict[str, Any]:
    """An item as the page renders it (no key: items never carry one). Recordings outside an
    interaction (``players``, placed by ``data-player="N"``) are listed only when the item has some."""
    view: dict[str, Any] = {
        "item_id": item.item_id, "title": item.title, "language": item.language,
        "body_html": clean(item.body_html),
        "interactions": [interaction_view(i, option_seed, item.item_id, image_size) for i in item.interactions],
    }
    if item.players:
        view["players"] = [player_view(p) for p in item.players]
    return view


def presented_orders(items: tuple[Item, ...], option_seed: int) -> dict[str, dict[str, dict[str, list[str]]]]:
    """Every shuffled list of a form in candidate order: ``{item_id: {response_id: {list: ids}}}``."""
    out: dict[str, dict[str, dict[str, list[str]]]] = {}
    for item in items:
        per_item = {i.response_id: option_order(i, option_seed, item.item_id)
                    for i in item.interactions if i.shuffle}
        if per_item:
            out[item.item_id] = per_item
    return out
